/**
 * Merging the reports of the shards of one run (`--shard I/N`, then `merge-reports`) into the report the
 * unsharded run would have written: the checks of every part, the summary counted again. The parts must
 * fit: the same target, profile, issuer, tool, defects and --strict, the same split (N) of the same plan
 * (shard.planDigest), every part 1..N once, every planned instance once. A problem is a value with a code,
 * naming the input it is about; nothing is merged then. Pure.
 */
import { buildReport } from './json.ts';
import { byCodeUnits, instanceName, planDigest } from './shard.ts';
import type { CheckResult, Report, ReportShard } from './types.ts';

export type MergeProblemCode =
  /** No report given. */
  | 'NO_INPUT'
  /** A part whose setup failed: it checked nothing, so the merge would miss its instances. */
  | 'SETUP_ERROR'
  /** A report of a run without --shard (or one merged already). */
  | 'NOT_A_SHARD'
  /** Parts of different runs: target, profile, issuer, tool, defects, --strict, N or plan differ. */
  | 'MISMATCH'
  /** The same part given twice. */
  | 'DUPLICATE_SHARD'
  /** A part of 1..N not given. */
  | 'MISSING_SHARD'
  /** A part that holds another number of checks than it planned. */
  | 'INCOMPLETE_SHARD'
  /** One check instance in two parts. */
  | 'DUPLICATE_INSTANCE'
  /** The parts' instances together are not the planned ones. */
  | 'PLAN_MISMATCH';

export interface MergeProblem {
  code: MergeProblemCode;
  message: string;
}

export interface MergeInput {
  /** Where the report came from (a file name), named in problems. */
  source: string;
  report: Report;
}

export interface MergeOptions {
  /** The order of the merged checks; default group, id, client in code-unit order. The CLI passes the catalogue's. */
  compare?: (a: CheckResult, b: CheckResult) => number;
  /** The merging command line, already redacted; default none. */
  argv?: readonly string[];
}

export type MergeResult = { ok: true; report: Report } | { ok: false; problems: MergeProblem[] };

const defaultOrder = (a: CheckResult, b: CheckResult) => byCodeUnits(a.group, b.group) || byCodeUnits(a.id, b.id) || byCodeUnits(a.client ?? '', b.client ?? '');

/** What must be equal in every part of one run, as text to compare and show. */
const TOGETHER: ReadonlyArray<[string, (r: Report & { shard: ReportShard }) => unknown]> = [
  ['target', (r) => r.target],
  ['profile', (r) => r.profile],
  ['issuer', (r) => r.issuer],
  ['tool', (r) => `${r.tool.name} ${r.tool.version}`],
  ['defects', (r) => r.defects.join(',')],
  ['--strict', (r) => r.strict === true],
  ['shard count', (r) => r.shard.count],
  ['planned instances', (r) => r.shard.planned],
  ['plan', (r) => r.shard.planDigest],
];

export function mergeReports(inputs: readonly MergeInput[], options: MergeOptions = {}): MergeResult {
  if (inputs.length === 0) return fail([{ code: 'NO_INPUT', message: 'no report to merge' }]);

  // Each input on its own: a part of a sharded run that checked something.
  const own: MergeProblem[] = [];
  for (const { source, report } of inputs) {
    if (report.setupError !== undefined) own.push({ code: 'SETUP_ERROR', message: `${source}: ${partName(report)} checked nothing (setup error: ${report.setupError}); run it again, or fix the setup` });
    else if (report.merged) own.push({ code: 'NOT_A_SHARD', message: `${source}: a report merged already (from ${report.merged.count} shards); give the shards' own reports` });
    else if (!report.shard) own.push({ code: 'NOT_A_SHARD', message: `${source}: not a shard's report (the run had no --shard)` });
  }
  if (own.length) return fail(own);
  const parts = inputs as ReadonlyArray<{ source: string; report: Report & { shard: ReportShard } }>;

  // The parts of one run: everything that decides the plan and the verdict is the same.
  const first = parts[0]!;
  const differ: MergeProblem[] = [];
  for (const [what, value] of TOGETHER) {
    const expected = value(first.report);
    for (const part of parts.slice(1)) {
      const seen = value(part.report);
      if (seen !== expected) {
        differ.push({ code: 'MISMATCH', message: `${part.source}: ${what} ${show(seen)}, but ${first.source} has ${show(expected)}: not parts of one run` });
      }
    }
  }
  if (differ.length) return fail(differ);

  // Every part 1..N once, each whole, no instance in two.
  const { count, planned, planDigest: digest } = first.report.shard;
  const problems: MergeProblem[] = [];
  const byIndex = new Map<number, string>();
  for (const { source, report } of parts) {
    const seenAt = byIndex.get(report.shard.index);
    if (seenAt !== undefined) problems.push({ code: 'DUPLICATE_SHARD', message: `${source}: shard ${report.shard.index}/${count} is given twice (also ${seenAt})` });
    else byIndex.set(report.shard.index, source);
    if (report.checks.length !== report.shard.instances) {
      problems.push({ code: 'INCOMPLETE_SHARD', message: `${source}: shard ${report.shard.index}/${count} planned ${report.shard.instances} check instance(s) but holds ${report.checks.length}` });
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) problems.push({ code: 'MISSING_SHARD', message: `shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing: every part of the run is needed` });
  const owner = new Map<string, string>();
  for (const { source, report } of parts) {
    for (const check of report.checks) {
      const name = instanceName(check.id, check.client);
      const other = owner.get(name);
      if (other !== undefined && other !== source) problems.push({ code: 'DUPLICATE_INSTANCE', message: `${source}: check instance ${name} is also in ${other}` });
      else if (other === source) problems.push({ code: 'DUPLICATE_INSTANCE', message: `${source}: check instance ${name} is there twice` });
      owner.set(name, source);
    }
  }
  if (problems.length) return fail(problems);
  // Whole and disjoint parts with the right counts can still hold other instances than the plan's.
  if (owner.size !== planned || planDigest(owner.keys()) !== digest) {
    return fail([{ code: 'PLAN_MISMATCH', message: `the shards hold ${owner.size} check instance(s), not the ${planned} planned ones (${digest})` }]);
  }

  const sorted = [...parts].sort((a, b) => a.report.shard.index - b.report.shard.index);
  const startedAt = sorted.map((p) => p.report.startedAt).sort(byCodeUnits)[0]!;
  const finishedAt = sorted.map((p) => p.report.finishedAt).sort(byCodeUnits).at(-1)!;
  const nodes = [...new Set(sorted.map((p) => p.report.node))];
  const report = buildReport({
    target: first.report.target,
    profile: first.report.profile,
    issuer: first.report.issuer,
    tool: first.report.tool,
    node: nodes.join(', '),
    startedAt,
    finishedAt,
    // The sharded run's wall time, from the first part's start to the last part's end.
    durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) || 0,
    argv: options.argv ?? [],
    defects: first.report.defects,
    ...(first.report.strict && { strict: true }),
    // The parts kept the exchanges they chose to keep; keep them all.
    exchanges: 'all',
    checks: sorted.flatMap((p) => p.report.checks).sort(options.compare ?? defaultOrder),
    runErrors: sorted.flatMap((p) => (p.report.runErrors ?? []).map((e) => `shard ${p.report.shard.index}/${count}: ${e}`)),
    merged: {
      count,
      planned,
      planDigest: digest,
      parts: sorted.map(({ report: r }) => ({ index: r.shard.index, startedAt: r.startedAt, finishedAt: r.finishedAt, durationMs: r.durationMs, node: r.node, argv: [...r.argv] })),
    },
  });
  return { ok: true, report };
}

function fail(problems: MergeProblem[]): MergeResult {
  return { ok: false, problems };
}

function partName(report: Report): string {
  return report.shard ? `shard ${report.shard.index}/${report.shard.count}` : 'the run';
}

function show(value: unknown): string {
  return JSON.stringify(value);
}
