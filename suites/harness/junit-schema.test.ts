/**
 * junit.xml validates against the common JUnit schema (fixtures/schemas/junit.xsd) with Debian's
 * xmllint (libxml2-utils, installed by .ci/run), for a real run with failures, skips and an
 * expected failure, and its counts agree with its test cases.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadTarget, type Target } from './target.ts';
import { buildReport, writeReports } from './report/index.ts';
import { runCatalogue } from '../runner/pipeline.ts';
import { applyExpectations } from '../runner/expected.ts';

const XMLLINT = '/usr/bin/xmllint';
const SCHEMA = path.resolve('fixtures/schemas/junit.xsd');

function validate(file: string): string {
  if (!existsSync(XMLLINT)) throw new Error(`${XMLLINT} is missing: apt-get install libxml2-utils (.ci/run does)`);
  try {
    return execFileSync(XMLLINT, ['--noout', '--schema', SCHEMA, file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    throw new Error(`junit.xml does not validate:\n${(e as { stderr?: string }).stderr ?? String(e)}`);
  }
}

describe('junit.xml', () => {
  test('validates against the common JUnit schema, with failures, skips and an expected failure', async () => {
    const base = await loadTarget('fixtures/targets/mock.json');
    const target = { ...base, name: 'embedded <mock> & "friends"', embedded: { transport: 'direct' } } as Target;
    const expected = [{ id: 'rotation.new-token-each-refresh', reason: 'known: <no rotation> & "old" tokens live' }];
    const checks = (await runCatalogue(target, { defects: ['no-rotation'] })).results.map((r) => applyExpectations(r, expected));
    const report = buildReport({ target: target.name, profile: target.profile.name, startedAt: new Date(), durationMs: 1234, checks });
    expect(report.summary.failed).toBeGreaterThan(0);
    expect(report.summary.skipped).toBeGreaterThan(0);
    expect(report.summary.expectedFailures).toBeGreaterThan(0);

    const dir = await mkdtemp(path.join(tmpdir(), 'rc-junit-'));
    const { junit } = await writeReports(dir, report);
    validate(junit);

    const xml = await readFile(junit, 'utf8');
    const count = (re: RegExp) => (xml.match(re) ?? []).length;
    expect(count(/<testcase /g)).toBe(checks.length);
    expect(count(/<failure /g)).toBe(report.summary.failed);
    expect(count(/<skipped /g)).toBe(report.summary.skipped + report.summary.inconclusive + report.summary.expectedFailures);
    expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="${checks.length}"[^>]*failures="${report.summary.failed}"`));
    // The root totals include the skipped (skipped, inconclusive and expected failures, as in each suite).
    const skipped = report.summary.skipped + report.summary.inconclusive + report.summary.expectedFailures;
    expect(xml).toMatch(new RegExp(`<testsuites [^>]*skipped="${skipped}"`));

    // A failure's message is one line, expected and seen; its body holds every exchange of the check.
    const failure = /<testcase name="rotation\.concurrent-single-winner \[mobile\]"[^>]*>\s*<failure message="([^"]*)"[^>]*>([^<]*)<\/failure>/.exec(xml);
    expect(failure, 'a failure of rotation.concurrent-single-winner').not.toBeNull();
    const failed = report.checks.find((c) => c.id === 'rotation.concurrent-single-winner' && c.client === 'mobile')!;
    expect(failure![1]).toBe(`expected ${failed.expected}; seen ${failed.seen}`.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(failure![1]).not.toContain('&#10;');
    expect(failure![2]).toContain(`expected: ${failed.expected}`);
    expect((failure![2]!.match(/^#\d+( \*)?$/gm) ?? []).length).toBe(failed.exchanges!.length);
    expect(failure![2]).toMatch(/^#\d+ \*$/m); // the cited exchanges are marked

    // An expected failure says so once, with the target's reason, then expected and seen.
    const skippedXf = /<testcase name="rotation\.new-token-each-refresh \[mobile\]"[^>]*>\s*<skipped message="([^"]*)"/.exec(xml);
    expect(skippedXf![1]).toMatch(/^expected failure \(known: &lt;no rotation&gt; &amp; &quot;old&quot; tokens live\): expected /);
    expect(skippedXf![1]).not.toMatch(/expected failure.*expected failure/);
  }, 120_000);

  test('validates with every status (warnings plain and under --strict) and for a setup failure, and the counts agree', async () => {
    const statuses = ['passed', 'failed', 'warning', 'errored', 'skipped', 'inconclusive', 'expected-failure'] as const;
    const checks = statuses.map((status) => ({
      id: `x.${status}`,
      group: status === 'errored' ? 'sso' : 'rotation',
      title: `a <${status}> check`,
      clause: 'RFC 6749 §6',
      client: 'web',
      policy: 'Web',
      status,
      level: 'SHOULD' as const,
      message: status === 'passed' ? null : `why & "${status}"\nline two`,
      durationMs: 5,
    }));
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-junit-six-'));
    for (const [name, input] of [
      ['plain', { checks }],
      ['strict', { checks, strict: true }],
      ['setup', { checks: [], setupError: 'issuer https://idp.example unreachable: <ECONNREFUSED>' }],
    ] as const) {
      const report = buildReport({ target: 't', profile: 'p', startedAt: new Date(), durationMs: 10, ...input });
      const { junit } = await writeReports(path.join(dir, name), report);
      validate(junit);
      const xml = await readFile(junit, 'utf8');
      const count = (re: RegExp) => (xml.match(re) ?? []).length;
      const failures = report.summary.failed + (report.strict ? report.summary.warnings : 0);
      const errors = report.summary.errored + (report.setupError ? 1 : 0);
      expect(count(/<failure /g), name).toBe(failures);
      expect(count(/<error /g), name).toBe(errors);
      expect(count(/<skipped /g), name).toBe(report.summary.skipped + report.summary.inconclusive + report.summary.expectedFailures);
      expect(xml, name).toMatch(new RegExp(`<testsuites [^>]*failures="${failures}" errors="${errors}"`));
    }
  });

  test('the schema is strict enough to reject what CI parsers reject', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-junit-bad-'));
    const bad = path.join(dir, 'bad.xml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(bad, '<?xml version="1.0"?><testsuites><testsuite tests="1"><testcase classname="x"/></testsuite></testsuites>');
    // <testsuite> without name, <testcase> without name
    expect(() => validate(bad)).toThrow(/does not validate/);
  });
});
