/**
 * Running check instances. A failing check yields a result, never an exception: the run goes
 * on, and the report is written whatever the target does. How an outcome maps to a status:
 * CheckFailure → failed (the IdP broke the rule); CheckWarning → warning; CheckInconclusive →
 * inconclusive; CheckSkip / SkipError → skipped; anything else (a HarnessError such as a transport
 * error, a timeout, a browser that did not start, an unconfirmed logout, a check that threw) →
 * errored: our side could not complete the check, which is no verdict on the IdP.
 */
import { CheckFailure, CheckInconclusive, CheckSkip, CheckWarning, collectAssertions } from '../checks/expect.ts';
import { HarnessError, SkipError } from '../harness/errors.ts';
import { createHttp, type Http } from '../harness/http.ts';
import { formatExchanges, Recorder, sealResult, type Exchange } from '../harness/record.ts';
import type { CheckResult } from '../harness/report/types.ts';
import { formatSeconds } from '../harness/report/timeline.ts';
import { targetSecrets, type Target } from '../harness/target.ts';
import type { Defect, Profile } from '../../mock-idp/index.ts';
import { connectEmbedded, type Connection } from './connection.ts';
import { createCheckRun } from './context.ts';
import type { TimelineEntry } from './timeline.ts';
import type { CheckInstance } from './plan.ts';
import type { Limiter } from './limiter.ts';

/** What running one instance needs: the target, its shared connection if remote, the run's signal and limiter (pipeline.ts). */
export interface RunEnvironment {
  target: Target;
  /** The shared connection of a remote target; undefined for the embedded mock (one per check). */
  shared?: Connection;
  fetch?: typeof globalThis.fetch;
  defects?: readonly Defect[];
  /** Embedded mock only: serve this profile while checking the target's declared one. */
  servedProfile?: Profile;
  signal?: AbortSignal;
  /** Progress of real-time waits; default: printWaitProgress when PROGRESS_ENV is "1" (the CLI sets it for its workers). */
  onWait?: (name: string, progress: WaitProgress) => void;
  /** Caps the checks doing active work at once; a check waiting on the real clock holds no slot. */
  limiter?: Limiter;
}

export interface WaitProgress {
  why: string;
  totalSeconds: number;
  secondsLeft: number;
}

/** Set to "1" in a process (a vitest worker of the CLI) whose checks should print their real-time waits. */
export const PROGRESS_ENV = 'REFRESH_CONFORMANCE_PROGRESS';

/** One line per progress report, from the process that runs the check: what it waits for, how long is left. */
export function printWaitProgress(name: string, p: WaitProgress, write: (text: string) => void = (t) => process.stdout.write(t)): void {
  write(`  ⧗ ${name}: waiting ${formatSeconds(p.totalSeconds)} (${p.why}), ${formatSeconds(p.secondsLeft)} left\n`);
}

export interface InstanceResult extends CheckResult {
  timeline: TimelineEntry[];
}

/** How long one check may take once it has a slot: 40 requests, plus four times the longest real-clock wait. */
export function checkTimeoutMs(target: Target): number {
  const perRequest = target.timeouts.requestMs;
  const waits = target.clock.driver === 'real' ? target.clock.maxWaitSeconds * 1000 * 4 : 0;
  return Math.min(target.timeouts.runMs, perRequest * 40 + waits);
}

function failureMessage(instance: CheckInstance, expected: string, seen: string, exchanges: readonly Exchange[]): string {
  const lines = [`${instance.check.title} (${instance.clause})`, `expected: ${expected}`, `seen: ${seen}`];
  if (exchanges.length) lines.push('', 'HTTP exchanges (secrets redacted):', formatExchanges(exchanges));
  return lines.join('\n');
}

/** Our side could not complete the check: the cause, and the last exchanges before it. */
function erroredMessage(instance: CheckInstance, cause: string, exchanges: readonly Exchange[]): string {
  const lines = [`${instance.check.title} (${instance.clause})`, `errored: ${cause}`];
  if (exchanges.length) lines.push('', 'HTTP exchanges (secrets redacted):', formatExchanges(exchanges));
  return lines.join('\n');
}

export async function runInstance(instance: CheckInstance, env: RunEnvironment): Promise<InstanceResult> {
  let started = performance.now();
  let connection: Connection | undefined;
  let run: ReturnType<typeof createCheckRun> | undefined;
  // The boundary where a result leaves the harness: redacted and safe for a terminal (record.ts).
  const done = (status: CheckResult['status'], message: string | null, extra: Partial<InstanceResult> = {}): InstanceResult =>
    sealResult({ ...resultOf(instance, status, message, Math.round(performance.now() - started)), ...extra }, run?.recorder ?? Recorder.of(targetSecrets(env.target)));
  if (instance.skip !== undefined) return done('skipped', instance.skip);
  // A slot first: the check's own time limit starts when it may work, not while it queues.
  let release: (() => void) | undefined;
  if (env.limiter) {
    try {
      release = await env.limiter.acquire(env.signal);
    } catch (e) {
      if (env.signal?.reason instanceof RunTimeoutError) return notStarted(instance, env.target.timeouts.runMs);
      return done('errored', erroredMessage(instance, `no slot to run in: ${e instanceof Error ? e.message : String(e)}`, []));
    }
    started = performance.now();
  }

  const onWait = env.onWait ?? (process.env[PROGRESS_ENV] === '1' ? printWaitProgress : undefined);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('check timed out')), checkTimeoutMs(env.target));
  const signal = env.signal ? AbortSignal.any([env.signal, timeout.signal]) : timeout.signal;
  // Removed when the check ends: a listener left on a signal of AbortSignal.any keeps the signal, and
  // through it the check's run and mock instance, alive as long as its sources (the whole run).
  let onAbort: (() => void) | undefined;
  try {
    connection =
      env.shared ??
      (await connectEmbedded(env.target as Extract<Target, { kind: 'embedded' }>, {
        ...(env.fetch && { fetch: env.fetch }),
        ...(env.defects && { defects: env.defects }),
        ...(env.servedProfile && { servedProfile: env.servedProfile }),
      }));
    const fetch = connection.fetch ?? env.fetch;
    const http: Http = createHttp({ requestTimeoutMs: env.target.timeouts.requestMs, ...(fetch && { fetch }) });
    run = createCheckRun({
      target: env.target,
      connection,
      http,
      client: instance.client,
      otherClients: instance.otherClients,
      signal,
      ...(instance.check.observes && { judgeLives: false }),
      ...(onWait && { onWait: (p) => onWait(instance.name, p) }),
    });
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const limiter = env.limiter;
    const context =
      limiter && run.context.clock.kind === 'real'
        ? {
            ...run.context,
            // A real-clock wait costs no work: give the slot back while waiting, so waits overlap whatever the cap.
            clock: {
              ...run.context.clock,
              wait: async (seconds: number, why: string) => {
                release?.();
                release = undefined;
                try {
                  await run!.context.clock.wait(seconds, why);
                } finally {
                  release = await limiter.acquire(signal);
                }
              },
            },
          }
        : run.context;
    const assertions = await Promise.race([collectAssertions(() => instance.check.run(context)), aborted]);
    // A check that returns having asserted nothing observed nothing: never a pass.
    if (assertions.length === 0) return done('inconclusive', 'the check asserted nothing', { timeline: run.timeline });
    return done('passed', null, { timeline: run.timeline });
  } catch (e) {
    const timeline = run?.timeline ?? [];
    const recorded = run?.recorder.exchanges ?? [];
    if (e instanceof CheckSkip || e instanceof SkipError) return done('skipped', e.message, { timeline });
    if (e instanceof CheckInconclusive) return done('inconclusive', e.message, { timeline, exchanges: [...recorded] });
    if (e instanceof CheckFailure || e instanceof CheckWarning) {
      const exchanges = e.exchanges.length ? e.exchanges : recorded.slice(-3);
      const status = e instanceof CheckFailure ? 'failed' : 'warning';
      // The verdict, structured as it was raised (expect.ts), beside the message that says it in words;
      // `evidence` points at the exchanges it cites among all the check's exchanges and steps.
      const evidence = [...new Set(exchanges.map((x) => run!.recorder.indexOf(x)).filter((i) => i >= 0))];
      return done(status, failureMessage(instance, e.expected, e.seen, exchanges), { timeline, expected: e.expected, seen: e.seen, evidence, exchanges: [...recorded] });
    }
    const reason =
      env.signal?.reason instanceof RunTimeoutError
        ? env.signal.reason.message
        : e instanceof HarnessError
        ? `${e.code}: ${e.message}`
        : signal.aborted
          ? `the check did not finish within ${checkTimeoutMs(env.target)} ms`
          : `the check threw (a harness bug, not a verdict on the IdP): ${e instanceof Error ? e.message : String(e)}`;
    return done('errored', erroredMessage(instance, run ? run.recorder.redact(reason) : reason, recorded.slice(-3)), { timeline, exchanges: [...recorded] });
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (connection && !env.shared) await connection.close();
    release?.();
  }
}

/** The whole run took longer than the target's `timeouts.runMs`: the abort reason of the run's signal. */
export class RunTimeoutError extends Error {
  override readonly name = 'RunTimeoutError';
  constructor(readonly runMs: number) {
    super(`RUN_TIMEOUT: the run exceeded timeouts.runMs (${runMs} ms); the check was stopped`);
  }
}

/** An instance the run's deadline passed before it started: errored, never run. */
export function notStarted(instance: CheckInstance, runMs: number): InstanceResult {
  const why = `RUN_TIMEOUT: not started, the run exceeded timeouts.runMs (${runMs} ms)`;
  return resultOf(instance, 'errored', erroredMessage(instance, why, []), 0);
}

/** A planned instance that ended without a result (its group file failed to load, the worker died): errored, saying why. */
export function notReported(instance: CheckInstance, why: string): InstanceResult {
  // One that was planned as not applicable stays skipped: it would not have run anyway.
  if (instance.skip !== undefined) return resultOf(instance, 'skipped', instance.skip, 0);
  return resultOf(instance, 'errored', erroredMessage(instance, `not reported: ${why}`, []), 0);
}

/** A result for an instance: what identifies the check and client, and its outcome. */
function resultOf(instance: CheckInstance, status: CheckResult['status'], message: string | null, durationMs: number): InstanceResult {
  return {
    id: instance.check.id,
    group: instance.check.group,
    title: instance.check.title,
    clause: instance.clause,
    citations: instance.citations,
    level: instance.level,
    client: instance.client.id,
    policy: instance.client.policy,
    status,
    message,
    durationMs,
    timeline: [],
  };
}

/** How many checks may run at once: all for isolated or real-time targets, one for a shared mock clock. */
export function concurrencyFor(target: Target): number {
  if (target.kind === 'embedded') return 16;
  return target.clock.driver === 'mock' ? 1 : 64;
}
