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
import { planChecks } from '../runner/plan.ts';
import { openEnvironment, runAll, targetClients } from '../runner/run.ts';
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
    const env = await openEnvironment(target, { defects: ['no-rotation'] });
    const plan = planChecks({ profile: target.profile, clients: await targetClients(env), clock: target.clock });
    const expected = [{ id: 'rotation.old-token-rejected', reason: 'known: <no rotation> & "old" tokens live' }];
    const checks = (await runAll(plan, env, 16)).map((r) => applyExpectations(r, expected));
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
    expect(count(/<skipped /g)).toBe(report.summary.skipped + report.summary.expectedFailures);
    expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="${checks.length}"[^>]*failures="${report.summary.failed}"`));
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
