/**
 * Runs the suites in-process against a target file, as `npm run conformance` would, and returns the
 * results with the wall time: plan (check × client), run everything at once (a remote real-clock
 * target runs 64 checks concurrently, so independent waits overlap), apply the expected failures.
 */
import { loadTarget, type Env, type ExpectedFailure, type RemoteTarget } from '../suites/harness/target.ts';
import { applyExpectations } from '../suites/runner/expected.ts';
import { runCatalogue } from '../suites/runner/pipeline.ts';
import { concurrencyFor, type InstanceResult } from '../suites/runner/run.ts';
import type { Group } from '../suites/checks/types.ts';
import { longestWait } from './scale.ts';

export interface InteropRun {
  target: RemoteTarget;
  /** After expected failures were applied. */
  results: InstanceResult[];
  /** Before: what the target actually did. */
  raw: InstanceResult[];
  wallMs: number;
  /** The longest wait of an applicable check (seconds), and the sum of all planned waits. */
  longestWaitSeconds: number;
  /**
   * The longest time one check actually waited (its timeline's waits, seconds): waits follow measured
   * boundaries, and a check whose window is too narrow stops before waiting, so this may be below the plan.
   */
  longestWaitedSeconds: number;
  summedWaitSeconds: number;
  concurrency: number;
}

export async function runInterop(
  targetFile: string,
  env: Env,
  extraExpected: readonly ExpectedFailure[] = [],
  options: { concurrency?: number; groups?: readonly Group[] } = {},
): Promise<InteropRun> {
  const target = await loadTarget(targetFile, env);
  if (target.kind !== 'remote') throw new Error(`${targetFile}: expected a remote target`);
  const started = performance.now();
  const concurrency = options.concurrency ?? concurrencyFor(target);
  const { plan, results: raw } = await runCatalogue(target, { concurrency, ...(options.groups && { groups: options.groups }) });
  const wallMs = Math.round(performance.now() - started);
  const expected = [...target.expectedFailures, ...extraExpected];
  let summed = 0;
  for (const i of plan) {
    if (i.skip !== undefined || !i.check.waits) continue;
    summed += i.check.waits({ profile: target.profile, policy: i.client.policyRules, client: i.client, otherClients: i.otherClients });
  }
  return {
    target,
    raw,
    results: raw.map((r) => applyExpectations(r, expected)),
    wallMs,
    longestWaitSeconds: longestWait(target.profile, target.clients),
    longestWaitedSeconds: Math.max(0, ...raw.map((r) => r.timeline.reduce((sum, e) => sum + (e.kind === 'wait' ? (e.seconds ?? 0) : 0), 0))),
    summedWaitSeconds: summed,
    concurrency,
  };
}

/** "id [client]" */
export function key(r: { id: string; client?: string | null }): string {
  return r.client == null ? r.id : `${r.id} [${r.client}]`;
}

/** Expected failures that no longer fail (or never matched a check of this run): the list must shrink. */
export function staleExpectations(raw: readonly InstanceResult[], expected: readonly ExpectedFailure[]): Array<ExpectedFailure & { why: string }> {
  const out: Array<ExpectedFailure & { why: string }> = [];
  for (const e of expected) {
    const matching = raw.filter((r) => r.id === e.id && (e.client === undefined || e.client === r.client));
    if (matching.length === 0) out.push({ ...e, why: 'matches no check of this run' });
    else if (!matching.some((r) => r.status === 'failed')) {
      out.push({ ...e, why: `no longer fails (${[...new Set(matching.map((r) => r.status))].join(', ')})` });
    }
  }
  return out;
}

/** A plain-text report: counts, then every failure, expected failure and noted pass (and skip, if verbose). */
export function formatRun(run: InteropRun, title: string, options: { verbose?: boolean } = {}): string {
  const count = (s: InstanceResult['status']) => run.results.filter((r) => r.status === s).length;
  const lines = [
    `${title}: ${run.target.issuer} (profile ${run.target.profile.name})`,
    `  ${count('passed')} passed, ${count('failed')} failed, ${count('errored')} errored, ${count('inconclusive')} inconclusive, ${count('expected-failure')} expected failures, ${count('skipped')} skipped`,
    `  wall time ${(run.wallMs / 1000).toFixed(1)} s; longest check wait ${run.longestWaitSeconds} s; planned waits add up to ${run.summedWaitSeconds} s (concurrency ${run.concurrency})`,
  ];
  for (const r of run.results) {
    if (r.status === 'passed' && r.message === null) continue;
    if (r.status === 'skipped' && !options.verbose) continue;
    const first = (r.message ?? '').split('\n').filter(Boolean).slice(0, r.status === 'skipped' ? 1 : 3);
    lines.push(`  ${r.status.padEnd(16)} ${key(r)}`, ...first.map((l) => `      ${l}`));
  }
  return lines.join('\n');
}
