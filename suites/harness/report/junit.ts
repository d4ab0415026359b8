/**
 * JUnit XML for CI (Jenkins, GitLab, GitHub test reporters), in the common Surefire/Jenkins shape:
 * testsuites > testsuite (one per group) > testcase name="id [client]" classname="group",
 * with <failure> or <skipped>. An expected failure is reported as skipped, so it does not break the build
 * but stays visible. Pure.
 */
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
  const total = counts(report.checks);
  out.push(
    `<testsuites ${attrs({
      name: `refresh-conformance ${report.target} (${report.profile})`,
      tests: total.tests,
      failures: total.failures,
      errors: 0,
      // no `skipped` here: the Jenkins junit-10 schema does not allow it on <testsuites>
      time: seconds(report.durationMs),
    })}>`,
  );
  let id = 0;
  for (const [group, checks] of groups) {
    const c = counts(checks);
    out.push(
      `  <testsuite ${attrs({
        name: group,
        tests: c.tests,
        failures: c.failures,
        errors: 0,
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
    for (const check of checks) out.push(...testcase(check));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testcase(check: CheckResult): string[] {
  const name = check.client ? `${check.id} [${check.client}]` : check.id;
  const open = `    <testcase ${attrs({ name, classname: check.group, time: seconds(check.durationMs) })}`;
  const message = check.message ?? '';
  switch (check.status) {
    case 'passed':
      return [`${open}/>`];
    case 'skipped':
    case 'inconclusive':
    case 'warning':
      return [`${open}>`, `      <skipped ${attrs({ message })}/>`, '    </testcase>'];
    case 'expected-failure':
      return [`${open}>`, `      <skipped ${attrs({ message: `expected failure: ${message}` })}/>`, '    </testcase>'];
    case 'errored':
    case 'failed': {
      const detail = [`${check.title} (${check.clause})`, message];
      if (check.exchanges?.length) detail.push('', formatExchanges(check.exchanges));
      return [
        `${open}>`,
        `      <failure ${attrs({ message: firstLine(message), type: check.clause })}>${escapeXml(detail.join('\n'))}</failure>`,
        '    </testcase>',
      ];
    }
  }
}

function counts(checks: readonly CheckResult[]): { tests: number; failures: number; skipped: number } {
  return {
    tests: checks.length,
    failures: checks.filter((c) => c.status === 'failed').length,
    skipped: checks.filter((c) => c.status === 'skipped' || c.status === 'expected-failure').length,
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
