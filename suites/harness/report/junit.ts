/**
 * JUnit XML for CI (Jenkins, GitLab, GitHub test reporters), in the common Surefire/Jenkins shape:
 * testsuites > testsuite (one per group) > testcase name="id [client]" classname="group".
 * failed → <failure>; errored → <error> (our side could not complete the check); skipped and
 * inconclusive → <skipped> with the reason; an expected failure → <skipped>, so it does not break the
 * build but stays visible; a warning passes, with the warning in <system-out> (under --strict it is a
 * <failure>). A setup failure (nothing checked) is one testcase "setup" with an <error>. Pure.
 */
import { citationLinks } from '../../../mock-idp/citations.ts';
import { formatExchanges } from '../record.ts';
import { safeText } from '../safe-text.ts';
import type { CheckResult, Report } from './types.ts';

export function reportToJUnit(report: Report): string {
  const groups = new Map<string, CheckResult[]>();
  for (const c of report.checks) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  const timestamp = report.startedAt.slice(0, 19); // xs:dateTime without zone, as the JUnit schema wants
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const strict = report.strict === true;
  const total = counts(report.checks, strict);
  const setup = report.setupError === undefined ? 0 : 1;
  out.push(
    `<testsuites ${attrs({
      name: `refresh-conformance ${report.target} (${report.profile})`,
      tests: total.tests + setup,
      failures: total.failures,
      errors: total.errors + setup,
      // no `skipped` here: the Jenkins junit-10 schema does not allow it on <testsuites>
      time: seconds(report.durationMs),
    })}>`,
  );
  let id = 0;
  if (report.setupError !== undefined) {
    out.push(`  <testsuite ${attrs({ name: 'setup', tests: 1, failures: 0, errors: 1, skipped: 0, time: seconds(report.durationMs), timestamp, id: id++ })}>`);
    out.push(`    <testcase ${attrs({ name: 'setup', classname: 'setup', time: seconds(report.durationMs) })}>`);
    out.push(`      <error ${attrs({ message: firstLine(report.setupError), type: 'setup' })}>${escapeXml(report.setupError)}</error>`);
    out.push('    </testcase>', '  </testsuite>');
  }
  for (const [group, checks] of groups) {
    const c = counts(checks, strict);
    out.push(
      `  <testsuite ${attrs({
        name: group,
        tests: c.tests,
        failures: c.failures,
        errors: c.errors,
        skipped: c.skipped,
        time: seconds(checks.reduce((t, x) => t + x.durationMs, 0)),
        timestamp,
        id: id++,
      })}>`,
    );
    out.push(`    <properties>`);
    out.push(`      <property ${attrs({ name: 'target', value: report.target })}/>`);
    out.push(`      <property ${attrs({ name: 'profile', value: report.profile })}/>`);
    out.push(`    </properties>`);
    for (const check of checks) out.push(...testcase(check, strict));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testcase(check: CheckResult, strict: boolean): string[] {
  const name = check.client ? `${check.id} [${check.client}]` : check.id;
  const open = `    <testcase ${attrs({ name, classname: check.group, time: seconds(check.durationMs) })}`;
  const message = check.message ?? '';
  const detail = () => {
    const lines = [`${check.title} (${check.clause}, ${check.level})`, message];
    // CI shows this text, not report.html: the cited spec sections as links from the one table.
    const links = citationLinks(check.citations ?? []).filter((l) => l.href);
    // A documentation page's text starts with its URL already.
    if (links.length) lines.push('', ...links.map((l) => `see: ${l.text.startsWith(l.href!) ? l.text : `${l.text} ${l.href}`}`));
    if (check.exchanges?.length) lines.push('', formatExchanges(check.exchanges));
    return escapeXml(lines.join('\n'));
  };
  const outcome = (element: 'failure' | 'error', type: string) => [
    `${open}>`,
    `      <${element} ${attrs({ message: firstLine(message), type })}>${detail()}</${element}>`,
    '    </testcase>',
  ];
  switch (check.status) {
    case 'passed':
      return [`${open}/>`];
    case 'skipped':
      return [`${open}>`, `      <skipped ${attrs({ message })}/>`, '    </testcase>'];
    case 'inconclusive':
      return [`${open}>`, `      <skipped ${attrs({ message: `inconclusive: ${message}` })}/>`, '    </testcase>'];
    case 'expected-failure':
      return [`${open}>`, `      <skipped ${attrs({ message: `expected failure: ${message}` })}/>`, '    </testcase>'];
    case 'warning':
      if (strict) return outcome('failure', check.clause);
      return [`${open}>`, `      <system-out>${escapeXml(`warning: `)}${detail()}</system-out>`, '    </testcase>'];
    case 'errored':
      return outcome('error', 'errored');
    case 'failed':
      return outcome('failure', check.clause);
  }
}

function counts(checks: readonly CheckResult[], strict: boolean): { tests: number; failures: number; errors: number; skipped: number } {
  return {
    tests: checks.length,
    failures: checks.filter((c) => c.status === 'failed' || (strict && c.status === 'warning')).length,
    errors: checks.filter((c) => c.status === 'errored').length,
    skipped: checks.filter((c) => c.status === 'skipped' || c.status === 'inconclusive' || c.status === 'expected-failure').length,
  };
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${escapeXmlAttribute(String(v))}"`)
    .join(' ');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

/**
 * Escapes text for XML 1.0 element content. Control characters (from a target) become visible escapes
 * (safe-text.ts: a terminal showing the file must not run them); what XML 1.0 still cannot carry (lone
 * surrogates, U+FFFE/U+FFFF) becomes U+FFFD; a carriage return becomes a reference so it survives
 * line-end normalisation.
 */
export function escapeXml(text: string): string {
  return safeText(text)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Escapes an attribute value: also quotes, and tab/newline as references (attribute normalisation would turn them into spaces). */
export function escapeXmlAttribute(text: string): string {
  return escapeXml(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}
