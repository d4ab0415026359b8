/**
 * The conformance reporter on its own: what the terminal shows for each status, the summary line
 * (every count, --strict said), and planned instances without a result reported errored, with the
 * load error of their group file.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCase, TestModule } from 'vitest/node';
import { loadTarget } from '../harness/target.ts';
import type { Report } from '../harness/report/index.ts';
import { prepareRun } from './pipeline.ts';
import type { InstanceResult } from './run.ts';
import { ConformanceReporter } from './vitest-reporter.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reporter-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function plan() {
  const target = await loadTarget('fixtures/targets/mock.json');
  const run = await prepareRun(target, { groups: ['rotation', 'expiry'] });
  await run.close();
  return run.plan;
}

const testCase = (conformance: InstanceResult) => ({ meta: () => ({ conformance }), result: () => ({ state: 'passed' }) }) as unknown as TestCase;
const testModule = (file: string, message?: string) => ({ moduleId: path.resolve('suites', file), errors: () => (message ? [{ message }] : []) }) as unknown as TestModule;

describe('ConformanceReporter', () => {
  it('prints each status, counts them all in the summary line, and reports the planned instances nobody ran as errored', async () => {
    const planned = await plan();
    const rotation = planned.filter((i) => i.check.group === 'rotation' && i.skip === undefined);
    const lines: string[] = [];
    const reporter = new ConformanceReporter({ reportDir: path.join(dir, 'r1'), target: 't', profile: 'p', strict: true, planned, out: (l) => lines.push(l) });
    const base = (i: (typeof rotation)[number]): InstanceResult => ({
      id: i.check.id,
      group: i.check.group,
      title: i.check.title,
      clause: i.clause,
      level: i.level,
      client: i.client.id,
      policy: i.client.policy,
      status: 'passed',
      message: null,
      durationMs: 1,
      timeline: [],
    });
    const statuses = ['passed', 'failed', 'warning', 'errored', 'inconclusive'] as const;
    statuses.forEach((status, n) => reporter.onTestCaseResult(testCase({ ...base(rotation[n]!), status, message: status === 'passed' ? null : `why ${status}` })));
    // Every other rotation instance reported passed; the expiry file failed to load and reported nothing.
    for (const i of rotation.slice(statuses.length)) reporter.onTestCaseResult(testCase(base(i)));
    for (const i of planned.filter((x) => x.check.group === 'rotation' && x.skip !== undefined)) reporter.onTestCaseResult(testCase({ ...base(i), status: 'skipped', message: i.skip! }));
    await reporter.onTestRunEnd([testModule('rotation.test.ts'), testModule('expiry.test.ts', 'SyntaxError: boom')], []);

    const out = lines.join('\n');
    expect(out).toContain(`✗ ${rotation[1]!.name}`);
    expect(out).toContain(`! ${rotation[2]!.name}  (warning, ${rotation[2]!.level}, fails the run under --strict)\n    why warning`);
    expect(out).toContain(`E ${rotation[3]!.name}  (errored: not a verdict on the IdP)\n    why errored`);
    expect(out).toContain(`? ${rotation[4]!.name}  (inconclusive: why inconclusive)`);
    const expiry = planned.filter((i) => i.check.group === 'expiry');
    const expiryRun = expiry.filter((i) => i.skip === undefined);
    expect(expiryRun.length).toBeGreaterThan(3);
    for (const i of expiryRun) expect(out).toContain(`E ${i.name}  (errored: not a verdict on the IdP)`);
    expect(out).toContain('errored: not reported: the group file suites/expiry.test.ts failed to load: SyntaxError: boom');

    const report = JSON.parse(await readFile(path.join(dir, 'r1', 'report.json'), 'utf8')) as Report;
    expect(report.checks).toHaveLength(planned.length);
    expect(report.strict).toBe(true);
    const s = report.summary;
    expect(s).toMatchObject({ failed: 1, warnings: 1, errored: 1 + expiryRun.length, inconclusive: 1, expectedFailures: 0 });
    expect(s.skipped).toBe(planned.filter((i) => i.skip !== undefined).length);
    expect(lines.at(-2)).toMatch(
      new RegExp(`^${s.passed} passed, 1 failed, 1 warnings, ${s.errored} errored, ${s.skipped} skipped, 1 inconclusive, 0 expected failures \\(\\d+\\.\\d s; --strict: warnings fail the run\\)$`),
    );
    expect(lines.at(-1)).toMatch(/^reports: .*report\.json, .*junit\.xml$/);
  });

  it('keeps the run\'s own errors in report.json (runErrors, sealed), and the shard it ran: merge-reports judges a part by its file', async () => {
    const planned = (await plan()).filter((i) => i.skip !== undefined).slice(0, 1);
    const lines: string[] = [];
    const shard = { index: 2, count: 3, instances: 1, planned: 3, planDigest: 'sha256:00' };
    const reporter = new ConformanceReporter({
      reportDir: path.join(dir, 'r2'),
      target: 't',
      profile: 'p',
      planned,
      out: (l) => lines.push(l),
      meta: { shard },
      secrets: [{ value: 'hunter2-secret-value', label: 'client secret' }],
    });
    await reporter.onTestRunEnd([], [{ message: 'Unhandled rejection: token hunter2-secret-value' }]);
    const report = JSON.parse(await readFile(path.join(dir, 'r2', 'report.json'), 'utf8')) as Report;
    expect(report.shard).toEqual(shard);
    expect(report.runErrors).toHaveLength(1);
    expect(report.runErrors![0]).toMatch(/^Unhandled rejection: token \[redacted:[^\]]+\]$/);
    expect(report.runErrors![0]).not.toContain('hunter2-secret-value');
    expect(lines.join('\n')).not.toContain('hunter2-secret-value');
  });

  it('writes no runErrors when the run had none', async () => {
    const reporter = new ConformanceReporter({ reportDir: path.join(dir, 'r3'), target: 't', profile: 'p', planned: [], out: () => undefined });
    await reporter.onTestRunEnd([], []);
    const report = JSON.parse(await readFile(path.join(dir, 'r3', 'report.json'), 'utf8')) as Report;
    expect('runErrors' in report).toBe(false);
    expect('shard' in report).toBe(false);
  });
});
