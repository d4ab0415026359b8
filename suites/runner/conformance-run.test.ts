/** The runner API without vitest as the engine: runConformance and writeRunReports (the package's main export). */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { HarnessError } from '../harness/errors.ts';
import { loadTarget } from '../harness/target.ts';
import { runConformance, writeRunReports } from './conformance-run.ts';
import type { InstanceResult } from './run.ts';

const MOCK = 'fixtures/targets/mock.json';

describe('runConformance', () => {
  test('runs the selected group against the embedded mock, streams each result, builds the report', async () => {
    const streamed: InstanceResult[] = [];
    const run = await runConformance({ target: MOCK, transport: 'direct', groups: ['rotation'], onResult: (r) => streamed.push(r) });
    expect(run.target.name).toBe('embedded-mock');
    expect(run.results.length).toBeGreaterThan(0);
    expect(run.results.every((r) => r.group === 'rotation')).toBe(true);
    expect(streamed.map((r) => `${r.id} ${r.client}`).sort()).toEqual(run.results.map((r) => `${r.id} ${r.client}`).sort());
    expect(run.report.summary).toMatchObject({ failed: 0, errored: 0, warnings: 0 });
    expect(run.report.summary.passed).toBeGreaterThan(0);
    expect(run.report.checks.length).toBe(run.results.length);
    // report.json holds no timelines; the results keep them for the HTML report.
    expect(run.report.checks.some((c) => 'timeline' in c)).toBe(false);
    expect(run.results.some((r) => r.timeline.length > 0)).toBe(true);
  }, 60_000);

  test('a seeded defect fails its checks; an expected-failure entry turns them into expected failures', async () => {
    const broken = await runConformance({ target: MOCK, transport: 'direct', groups: ['rotation'], defects: ['no-rotation'] });
    const failed = [...new Set(broken.results.filter((r) => r.status === 'failed').map((r) => r.id))];
    expect(failed.length).toBeGreaterThan(0);
    expect(broken.report.summary.failed).toBeGreaterThan(0);
    const expected = await runConformance({
      target: MOCK,
      transport: 'direct',
      groups: ['rotation'],
      defects: ['no-rotation'],
      expectedFailures: failed.map((id) => ({ id, reason: 'seeded defect no-rotation' })),
    });
    expect(expected.report.summary.failed).toBe(0);
    expect(expected.report.summary.expectedFailures).toBe(broken.report.summary.failed);
  }, 120_000);

  test('a target file that cannot be loaded rejects with a HarnessError (a setup problem, before any check)', async () => {
    await expect(runConformance({ target: 'no/such/target.json' })).rejects.toBeInstanceOf(HarnessError);
  });

  test('a loaded target runs as it is; profile and transport belong to a target file', async () => {
    const target = await loadTarget(MOCK);
    if (target.kind !== 'embedded') throw new Error('mock.json is the embedded mock');
    const run = await runConformance({ target: { ...target, embedded: { transport: 'direct' } }, groups: ['expiry'] });
    expect(run.report.summary.passed).toBeGreaterThan(0);
    expect(run.report.summary).toMatchObject({ failed: 0, errored: 0 });
    await expect(runConformance({ target, transport: 'http' })).rejects.toThrow('profile and transport apply to a target file');
  }, 60_000);
});

describe('writeRunReports', () => {
  test('writes report.json, junit.xml and report.html', async () => {
    const run = await runConformance({ target: MOCK, transport: 'direct', groups: ['expiry'] });
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-api-'));
    const written = await writeRunReports(dir, run);
    expect(written).toEqual({ json: path.join(dir, 'report.json'), junit: path.join(dir, 'junit.xml'), html: path.join(dir, 'report.html') });
    expect(JSON.parse(await readFile(written.json, 'utf8')).summary).toEqual(run.report.summary);
    expect(await readFile(written.junit, 'utf8')).toContain('<testsuites');
    expect(await readFile(written.html, 'utf8')).toContain('embedded mock IdP over direct');
  }, 60_000);
});
