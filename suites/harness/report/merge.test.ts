/** merge.ts: the shards of one run merge into the report the whole run writes; parts that do not fit are refused, each with its code. */
import { describe, expect, it } from 'vitest';
import { selectShard } from '../../runner/shard.ts';
import { buildReport } from './json.ts';
import { mergeReports, type MergeInput, type MergeProblemCode } from './merge.ts';
import { ReportSchema, type CheckResult, type CheckStatus, type Report } from './types.ts';

const TOOL = { name: 'refresh-conformance', version: '9.9.9' };

function result(id: string, client: string, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    group: id.split('.')[0]!,
    title: id,
    clause: 'RFC 6749 §6',
    client,
    policy: 'Mobile',
    status,
    level: 'MUST',
    message: status === 'passed' ? null : `${status}: why`,
    durationMs: 5,
    ...extra,
  };
}

/** The whole run: 4 checks × 3 clients, every status that moves the summary. */
const WHOLE: CheckResult[] = ['rotation.a', 'rotation.b', 'expiry.c', 'sso.d'].flatMap((id, i) =>
  ['mobile', 'web', 'confidential'].map((client, j): CheckResult => {
    const statuses: CheckStatus[] = ['passed', 'skipped', 'failed', 'warning', 'errored', 'inconclusive', 'expected-failure'];
    const status = statuses[(i * 3 + j) % statuses.length]!;
    return result(id, client, status, status === 'failed' ? { exchanges: [{ method: 'POST', url: 'https://idp.example/token', requestHeaders: [], status: 400, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 3 }] } : {});
  }),
);
const asInstance = (c: CheckResult) => ({ check: { id: c.id }, client: { id: c.client! }, ...(c.status === 'skipped' && { skip: 'not applicable' }) });

/** The report part `index` of `count` of WHOLE would write. */
function part(index: number, count: number, over: Partial<Parameters<typeof buildReport>[0]> = {}): Report {
  const { shard } = selectShard(WHOLE.map(asInstance), { index, count });
  const mine = new Set(selectShard(WHOLE.map(asInstance), { index, count }).selected.map((x) => `${x.check.id} [${x.client.id}]`));
  return buildReport({
    target: 'staging',
    profile: 'telenorid-plus',
    issuer: 'https://idp.example',
    tool: TOOL,
    node: 'v20.20.0',
    startedAt: `2026-01-01T00:0${index}:00.000Z`,
    durationMs: 1000 * index,
    argv: ['--shard', `${index}/${count}`],
    checks: WHOLE.filter((c) => mine.has(`${c.id} [${c.client}]`)),
    shard,
    ...over,
  });
}

const parts = (count: number) => Array.from({ length: count }, (_, i): MergeInput => ({ source: `shard-${i + 1}/report.json`, report: part(i + 1, count) }));

function problems(inputs: MergeInput[]): Array<{ code: MergeProblemCode; message: string }> {
  const r = mergeReports(inputs);
  if (r.ok) throw new Error('merged, but should not have');
  return r.problems;
}

describe('mergeReports', () => {
  it('merges the parts into the whole run: every check once, the summary counted again', () => {
    const whole = buildReport({ target: 'staging', profile: 'telenorid-plus', startedAt: new Date(0), durationMs: 1, checks: WHOLE });
    const r = mergeReports(parts(3).reverse(), { argv: ['merge-reports', 'a', 'b', 'c'] });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const key = (c: CheckResult) => `${c.group} ${c.id} ${c.client} ${c.status}`;
    expect(r.report.checks.map(key).sort()).toEqual(WHOLE.map(key).sort());
    expect(r.report.summary).toEqual(whole.summary);
    expect(r.report.summary.failed + r.report.summary.errored).toBeGreaterThan(0);
    // Default order: group, id, client.
    expect(r.report.checks.map((c) => `${c.id} [${c.client}]`).slice(0, 3)).toEqual(['expiry.c [confidential]', 'expiry.c [mobile]', 'expiry.c [web]']);
    // The failed check keeps the exchanges its part kept.
    expect(r.report.checks.find((c) => c.status === 'failed')!.exchanges).toHaveLength(1);
    expect(r.report).toMatchObject({
      target: 'staging',
      profile: 'telenorid-plus',
      issuer: 'https://idp.example',
      tool: TOOL,
      node: 'v20.20.0',
      startedAt: '2026-01-01T00:01:00.000Z',
      finishedAt: '2026-01-01T00:03:03.000Z',
      durationMs: 123_000,
      argv: ['merge-reports', 'a', 'b', 'c'],
      merged: { count: 3, planned: 12 },
    });
    expect(r.report.merged!.parts.map((p) => [p.index, p.argv])).toEqual([1, 2, 3].map((i) => [i, ['--shard', `${i}/3`]]));
    expect(r.report.shard).toBeUndefined();
    expect(ReportSchema.safeParse(r.report).success).toBe(true);
  });

  it('takes a comparator for the order, and keeps each part\'s run errors, naming the part', () => {
    const inputs = parts(2);
    inputs[1]!.report = { ...inputs[1]!.report, runErrors: ['Unhandled rejection: boom'] };
    const r = mergeReports(inputs, { compare: (a, b) => b.id.localeCompare(a.id) || (a.client ?? '').localeCompare(b.client ?? '') });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.report.checks[0]!.id).toBe('sso.d');
    expect(r.report.runErrors).toEqual(['shard 2/2: Unhandled rejection: boom']);
  });

  it('one part of one: the same checks and summary', () => {
    const r = mergeReports(parts(1));
    expect(r.ok && r.report.summary).toEqual(part(1, 1).summary);
  });

  it('nothing to merge', () => {
    expect(problems([])).toEqual([{ code: 'NO_INPUT', message: 'no report to merge' }]);
  });

  it('a missing part is named, and nothing is merged', () => {
    const [a, , c] = parts(3);
    expect(problems([a!, c!])).toEqual([{ code: 'MISSING_SHARD', message: 'shard(s) 2/3 missing: every part of the run is needed' }]);
    expect(problems([a!])).toEqual([{ code: 'MISSING_SHARD', message: 'shard(s) 2/3, 3/3 missing: every part of the run is needed' }]);
  });

  it('a part given twice', () => {
    const [a, b, c] = parts(3);
    const again = { ...a!, source: 'copy/report.json' };
    const found = problems([a!, b!, c!, again]);
    expect(found.map((p) => p.code)).toContain('DUPLICATE_SHARD');
    expect(found.find((p) => p.code === 'DUPLICATE_SHARD')!.message).toBe('copy/report.json: shard 1/3 is given twice (also shard-1/report.json)');
  });

  it('an instance in two parts', () => {
    const [a, b, c] = parts(3);
    const stolen = a!.report.checks[0]!;
    const name = `${stolen.id} [${stolen.client}]`;
    // b claims one of a's instances in place of one of its own: its counts still add up.
    const bad = { ...b!, report: { ...b!.report, checks: [...b!.report.checks.slice(1), stolen] } };
    expect(problems([a!, bad, c!])).toEqual([{ code: 'DUPLICATE_INSTANCE', message: `shard-2/report.json: check instance ${name} is also in shard-1/report.json` }]);
    // a holds its first instance twice, in place of its last.
    const twice = { ...a!, report: { ...a!.report, checks: [...a!.report.checks.slice(0, -1), stolen] } };
    expect(problems([twice, b!, c!])).toEqual([{ code: 'DUPLICATE_INSTANCE', message: `shard-1/report.json: check instance ${name} is there twice` }]);
  });

  it('a part holding another number of checks than it planned', () => {
    const [a, b] = parts(2);
    const short = { ...a!, report: { ...a!.report, checks: a!.report.checks.slice(1) } };
    expect(problems([short, b!])).toEqual([{ code: 'INCOMPLETE_SHARD', message: `shard-1/report.json: shard 1/2 planned ${a!.report.shard!.instances} check instance(s) but holds ${a!.report.shard!.instances - 1}` }]);
  });

  it('parts whose instances are not the planned ones, though their counts add up', () => {
    const [a, b] = parts(2);
    const other = { ...a!, report: { ...a!.report, checks: [result('rotation.other', 'mobile', 'passed'), ...a!.report.checks.slice(1)] } };
    expect(problems([other, b!])).toEqual([{ code: 'PLAN_MISMATCH', message: `the shards hold 12 check instance(s), not the 12 planned ones (${a!.report.shard!.planDigest})` }]);
  });

  it.each([
    ['target', { target: 'production' }, 'target "production", but shard-1/report.json has "staging"'],
    ['profile', { profile: 'erp-net' }, 'profile "erp-net", but shard-1/report.json has "telenorid-plus"'],
    ['issuer', { issuer: 'https://other.example' }, 'issuer "https://other.example", but shard-1/report.json has "https://idp.example"'],
    ['tool version', { tool: { name: 'refresh-conformance', version: '1.0.0' } }, 'tool "refresh-conformance 1.0.0", but shard-1/report.json has "refresh-conformance 9.9.9"'],
    ['defects', { defects: ['no-rotation'] }, 'defects "no-rotation", but shard-1/report.json has ""'],
    ['--strict', { strict: true }, '--strict true, but shard-1/report.json has false'],
  ])('parts of different runs: %s', (_, over, message) => {
    const [a, b] = parts(2);
    const odd = { ...b!, report: part(2, 2, over) };
    expect(problems([a!, odd])).toEqual([{ code: 'MISMATCH', message: `shard-2/report.json: ${message}: not parts of one run` }]);
  });

  it('parts of different splits or plans', () => {
    const [a] = parts(2);
    const found = problems([a!, parts(3)[1]!]);
    expect(found.map((p) => p.message)).toEqual(['shard-2/report.json: shard count 3, but shard-1/report.json has 2: not parts of one run']);
    const otherPlan = { ...parts(2)[1]!, report: { ...part(2, 2), shard: { ...part(2, 2).shard!, planned: 13, planDigest: 'sha256:00' } } };
    expect(problems([a!, otherPlan]).map((p) => p.message)).toEqual([
      'shard-2/report.json: planned instances 13, but shard-1/report.json has 12: not parts of one run',
      'shard-2/report.json: plan "sha256:00", but shard-1/report.json has ' + JSON.stringify(a!.report.shard!.planDigest) + ': not parts of one run',
    ]);
  });

  it('a part whose setup failed, a run without --shard, a merged report: refused, each named', () => {
    const [a, b] = parts(2);
    const setup = { ...b!, report: { ...b!.report, checks: [], setupError: 'issuer https://idp.example unreachable' } };
    expect(problems([a!, setup])).toEqual([
      { code: 'SETUP_ERROR', message: 'shard-2/report.json: shard 2/2 checked nothing (setup error: issuer https://idp.example unreachable); run it again, or fix the setup' },
    ]);
    const { shard: _, ...plain } = b!.report;
    expect(problems([a!, { source: 'whole/report.json', report: plain }])).toEqual([{ code: 'NOT_A_SHARD', message: "whole/report.json: not a shard's report (the run had no --shard)" }]);
    const merged = mergeReports(parts(2));
    if (!merged.ok) throw new Error('no merge');
    expect(problems([{ source: 'merged/report.json', report: merged.report }])).toEqual([
      { code: 'NOT_A_SHARD', message: "merged/report.json: a report merged already (from 2 shards); give the shards' own reports" },
    ]);
  });
});
