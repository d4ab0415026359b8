/**
 * JUnit XML for CI (Jenkins, GitLab, GitHub test reporters), in the common Surefire/Jenkins shape:
 * testsuites > testsuite (one per group) > testcase name="id [client]" classname="group".
 * failed → <failure>; errored → <error> (our side could not complete the check); skipped and
 * inconclusive → <skipped> with the reason; an expected failure → <skipped>, so it does not break the
 * build but stays visible; a warning passes, with the warning in <system-out> (under --strict it is a
 * <failure>). A setup failure (nothing checked) is one testcase "setup" with an <error>. Each outcome's
 * `message` is one line (expected and seen, or the cause); its body holds the verdict and every exchange.
 * The root counts tests, failures, errors and skipped like each suite. Pure.
 */
import { citationLinks } from '../../../mock-idp/citations.ts';
import { formatExchange } from '../record.ts';
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
      skipped: total.skipped,
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
  const outcome = (element: 'failure' | 'error', type: string) => [
    `${open}>`,
    `      <${element} ${attrs({ message: headline(check), type })}>${escapeXml(detail(check))}</${element}>`,
    '    </testcase>',
  ];
  switch (check.status) {
    case 'passed':
      return [`${open}/>`];
    case 'skipped':
      return [`${open}>`, `      <skipped ${attrs({ message: check.message ?? '' })}/>`, '    </testcase>'];
    case 'inconclusive':
      return [`${open}>`, `      <skipped ${attrs({ message: `inconclusive: ${check.message ?? ''}` })}/>`, '    </testcase>'];
    case 'expected-failure': {
      const reason = check.expectedFailureReason;
      // One prefix: a message from applyExpectations already starts with it.
      const text = firstLine(check.message ?? '');
      const message = reason !== undefined ? `expected failure (${reason}): ${headline(check)}` : text.startsWith('expected failure') ? text : `expected failure: ${text}`;
      return [`${open}>`, `      <skipped ${attrs({ message: oneLine(message) })}>${escapeXml(detail(check))}</skipped>`, '    </testcase>'];
    }
    case 'warning':
      if (strict) return outcome('failure', check.clause);
      return [`${open}>`, `      <system-out>${escapeXml(`warning: ${detail(check)}`)}</system-out>`, '    </testcase>'];
    case 'errored':
      return outcome('error', 'errored');
    case 'failed':
      return outcome('failure', check.clause);
  }
}

/**
 * The one line a CI shows first (the `message` attribute): what was expected and what was seen, from
 * the verdict itself; for an errored check its cause; else the message's first line (older results).
 */
function headline(check: CheckResult): string {
  if (check.expected !== undefined && check.seen !== undefined) return oneLine(`expected ${check.expected}; seen ${check.seen}`);
  const lines = (check.message ?? '').split('\n');
  return oneLine(lines.find((l) => l.startsWith('errored: ')) ?? lines[0] ?? '');
}

/**
 * The body CI shows on opening a test case: the check and its clause, the verdict, the cited spec
 * sections as links, and every exchange and step of the check, the ones the verdict cites marked.
 */
function detail(check: CheckResult): string {
  const lines = [`${check.title} (${check.clause}, ${check.level})`];
  if (check.expectedFailureReason !== undefined) lines.push(`expected failure: ${check.expectedFailureReason}`);
  if (check.expected !== undefined && check.seen !== undefined) lines.push(`expected: ${check.expected}`, `seen: ${check.seen}`);
  else lines.push(check.exchanges?.length ? stripExchanges(withoutTitle(check)) : withoutTitle(check));
  // CI shows this text, not report.html: the cited spec sections as links from the one table.
  const links = citationLinks(check.citations ?? []).filter((l) => l.href);
  // A documentation page's text starts with its URL already.
  if (links.length) lines.push('', ...links.map((l) => `see: ${l.text.startsWith(l.href!) ? l.text : `${l.text} ${l.href}`}`));
  const exchanges = check.exchanges ?? [];
  if (exchanges.length) {
    const cited = new Set(check.evidence ?? []);
    lines.push('', `HTTP exchanges and steps of the check (secrets redacted)${cited.size ? `; * marks the ${cited.size} the verdict cites` : ''}:`);
    lines.push(exchanges.map((ex, i) => `#${i + 1}${cited.has(i) ? ' *' : ''}\n${formatExchange(ex)}`).join('\n\n'));
  }
  return lines.join('\n');
}

/** The message without its first line when that is the title line the body already starts with. */
function withoutTitle(check: CheckResult): string {
  const message = check.message ?? '';
  return message.startsWith(`${check.title} (`) ? message.slice(message.indexOf('\n') + 1) : message;
}

/** A message's own rendering of exchanges is dropped when the check's exchanges follow in full. */
function stripExchanges(message: string): string {
  const at = message.indexOf('\n\nHTTP exchanges (secrets redacted):\n');
  return at >= 0 ? message.slice(0, at) : message;
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
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
