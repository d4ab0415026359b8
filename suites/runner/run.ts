/**
 * Running check instances. A failing check yields a result, never an exception: the run goes
 * on, and the report is written whatever the target does.
 */
import { CheckFailure, CheckSkip } from '../checks/expect.ts';
import { HarnessError, SkipError } from '../harness/errors.ts';
import { createHttp, type Http } from '../harness/http.ts';
import { formatExchanges, type Exchange } from '../harness/record.ts';
import type { CheckResult } from '../harness/report/types.ts';
import type { Target } from '../harness/target.ts';
import type { Defect, Profile } from '../../mock-idp/index.ts';
import { connectEmbedded, connectRemote, type Connection } from './connection.ts';
import { createCheckRun, type TimelineEntry } from './context.ts';
import type { CheckInstance } from './plan.ts';

export interface RunEnvironment {
  target: Target;
  /** The shared connection of a remote target; undefined for the embedded mock (one per check). */
  shared?: Connection;
  fetch?: typeof globalThis.fetch;
  defects?: readonly Defect[];
  /** Embedded mock only: serve this profile while checking the target's declared one. */
  servedProfile?: Profile;
  signal?: AbortSignal;
  onWait?: (name: string, progress: { why: string; totalSeconds: number; secondsLeft: number }) => void;
}

export interface InstanceResult extends CheckResult {
  timeline: TimelineEntry[];
}

/** Opens what a run needs: the shared connection of a remote target (setup errors surface here). */
export async function openEnvironment(target: Target, options: Omit<RunEnvironment, 'target' | 'shared'> = {}): Promise<RunEnvironment> {
  const env: RunEnvironment = { target, ...options };
  if (target.kind === 'remote') env.shared = await connectRemote(target, { ...(options.fetch && { fetch: options.fetch }) });
  return env;
}

/** Clients of the target as planned: the embedded mock's come from its fixtures. */
export async function targetClients(env: RunEnvironment) {
  if (env.shared) return env.shared.clients;
  const probe = await connectEmbedded(env.target as Extract<Target, { kind: 'embedded' }>, { ...(env.fetch && { fetch: env.fetch }) });
  await probe.close();
  return probe.clients;
}

function checkTimeoutMs(target: Target): number {
  const perRequest = target.timeouts.requestMs;
  const waits = target.clock.driver === 'real' ? target.clock.maxWaitSeconds * 1000 * 4 : 0;
  return Math.min(target.timeouts.runMs, perRequest * 40 + waits);
}

function failureMessage(instance: CheckInstance, expected: string, seen: string, exchanges: readonly Exchange[]): string {
  const lines = [`${instance.check.title} (${instance.clause})`, `expected: ${expected}`, `seen: ${seen}`];
  if (exchanges.length) lines.push('', 'HTTP exchanges (secrets redacted):', formatExchanges(exchanges));
  return lines.join('\n');
}

export async function runInstance(instance: CheckInstance, env: RunEnvironment): Promise<InstanceResult> {
  const started = performance.now();
  const base = {
    id: instance.check.id,
    group: instance.check.group,
    title: instance.check.title,
    clause: instance.clause,
    client: instance.client.id,
    policy: instance.client.policy,
  };
  const done = (status: CheckResult['status'], message: string | null, extra: Partial<InstanceResult> = {}): InstanceResult => ({
    ...base,
    status,
    message,
    durationMs: Math.round(performance.now() - started),
    timeline: [],
    ...extra,
  });
  if (instance.skip !== undefined) return done('skipped', instance.skip);

  let connection: Connection | undefined;
  let run: ReturnType<typeof createCheckRun> | undefined;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('check timed out')), checkTimeoutMs(env.target));
  const signal = env.signal ? AbortSignal.any([env.signal, timeout.signal]) : timeout.signal;
  try {
    connection =
      env.shared ??
      (await connectEmbedded(env.target as Extract<Target, { kind: 'embedded' }>, {
        ...(env.fetch && { fetch: env.fetch }),
        ...(env.defects && { defects: env.defects }),
        ...(env.servedProfile && { servedProfile: env.servedProfile }),
      }));
    const client = connection.clients.find((c) => c.id === instance.client.id) ?? instance.client;
    const fetch = connection.fetch ?? env.fetch;
    const http: Http = createHttp({ requestTimeoutMs: env.target.timeouts.requestMs, ...(fetch && { fetch }) });
    run = createCheckRun({
      target: env.target,
      connection,
      http,
      client,
      otherClients: connection.clients.filter((c) => c.id !== client.id),
      signal,
      ...(env.onWait && { onWait: (p) => env.onWait!(instance.name, p) }),
    });
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    await Promise.race([instance.check.run(run.context), aborted]);
    return done('passed', null, { timeline: run.timeline });
  } catch (e) {
    const timeline = run?.timeline ?? [];
    const recorded = run?.recorder.exchanges ?? [];
    if (e instanceof CheckSkip || e instanceof SkipError) return done('skipped', e.message, { timeline });
    if (e instanceof CheckFailure) {
      const exchanges = e.exchanges.length ? e.exchanges : recorded.slice(-3);
      return done('failed', failureMessage(instance, e.expected, e.seen, exchanges), { timeline, exchanges: [...recorded] });
    }
    const reason =
      e instanceof HarnessError
        ? `${e.code}: ${e.message}`
        : signal.aborted
          ? `the check did not finish within ${checkTimeoutMs(env.target)} ms`
          : `unexpected error: ${e instanceof Error ? e.message : String(e)}`;
    const message = failureMessage(instance, 'the check to complete against the target', run ? run.recorder.redact(reason) : reason, recorded.slice(-3));
    return done('failed', message, { timeline, exchanges: [...recorded] });
  } finally {
    clearTimeout(timer);
    if (connection && !env.shared) await connection.close();
  }
}

/** Runs instances with bounded concurrency; results in plan order. */
export async function runAll(instances: readonly CheckInstance[], env: RunEnvironment, concurrency: number): Promise<InstanceResult[]> {
  const results: InstanceResult[] = new Array(instances.length);
  let next = 0;
  const worker = async () => {
    while (next < instances.length) {
      const i = next++;
      results[i] = await runInstance(instances[i]!, env);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, instances.length)) }, worker));
  return results;
}

/** How many checks may run at once: all for isolated or real-time targets, one for a shared mock clock. */
export function concurrencyFor(env: RunEnvironment): number {
  if (!env.shared) return 16;
  return env.target.clock.driver === 'mock' ? 1 : 64;
}
