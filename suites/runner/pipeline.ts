/**
 * The run pipeline, the one way every entry point runs checks (CLI preflight and vitest groups,
 * self-test, interop, benchmarks, tests): open the target (a remote one is discovered once, setup
 * errors surface here) → its clients (the embedded mock's from the profile's fixtures, no instance
 * started) → the plan (check × client, with what the target can do) → run the instances, bounded
 * by one deadline: an AbortSignal that fires at an absolute time with a RunTimeoutError.
 */
import type { Group } from '../checks/types.ts';
import type { Target } from '../harness/target.ts';
import type { Defect, Profile } from '../../mock-idp/index.ts';
import { capabilitiesOf, connectRemote, targetClients, type Connection } from './connection.ts';
import type { Limiter } from './limiter.ts';
import { planChecks, type Capabilities, type CheckInstance } from './plan.ts';
import { concurrencyFor, notStarted, runInstance, RunTimeoutError, type InstanceResult, type RunEnvironment, type WaitProgress } from './run.ts';

export interface RunOptions {
  fetch?: typeof globalThis.fetch;
  /** Embedded mock only: seeded defects (mock-idp/defects.ts). */
  defects?: readonly Defect[];
  /** Embedded mock only: serve this profile while checking the target's declared one. */
  servedProfile?: Profile;
  groups?: readonly Group[];
  /** Check ids. */
  only?: readonly string[];
  /** Default: what the target can do (connection.ts capabilitiesOf). */
  capabilities?: Capabilities;
  /** Checks run at once by `runAll`; default concurrencyFor(target). */
  concurrency?: number;
  /** Caps the checks doing active work at once (limiter.ts). */
  limiter?: Limiter;
  /** When the run must end (epoch ms); default: now + the target's timeouts.runMs. */
  deadlineMs?: number;
  /** Aborts the run from outside (with the deadline, whichever comes first). */
  signal?: AbortSignal;
  onWait?: (name: string, progress: WaitProgress) => void;
  /** Each result as it is ready (plan index), for streaming progress. */
  onResult?: (result: InstanceResult, index: number) => void;
}

export interface PreparedRun {
  target: Target;
  plan: CheckInstance[];
  /** How many checks `runAll` runs at once. */
  concurrency: number;
  /** The run's signal: aborted with a RunTimeoutError at the deadline. */
  signal: AbortSignal;
  /** Runs one instance (of this plan, or one derived from it); past the deadline, errored without running. */
  runOne(instance: CheckInstance): Promise<InstanceResult>;
  /** Runs instances (default: the plan) `concurrency` at a time; results in their order. */
  runAll(instances?: readonly CheckInstance[]): Promise<InstanceResult[]>;
  /** Clears the deadline and closes the shared connection. */
  close(): Promise<void>;
}

/**
 * The run's one deadline: a signal aborted with a RunTimeoutError at `atMs` (epoch ms). Past it, checks
 * under way are stopped and the ones not started are not started, each errored with RUN_TIMEOUT.
 */
export function runDeadline(target: Target, atMs: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunTimeoutError(target.timeouts.runMs)), Math.max(0, atMs - Date.now()));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Opens the target and plans the run; the caller runs instances and closes it. */
export async function prepareRun(target: Target, options: RunOptions = {}): Promise<PreparedRun> {
  const deadline = runDeadline(target, options.deadlineMs ?? Date.now() + target.timeouts.runMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  let shared: Connection | undefined;
  try {
    if (target.kind === 'remote') shared = await connectRemote(target, { ...(options.fetch && { fetch: options.fetch }) });
  } catch (e) {
    deadline.clear();
    throw e;
  }
  const env: RunEnvironment = {
    target,
    signal,
    ...(shared && { shared }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.defects && { defects: options.defects }),
    ...(options.servedProfile && { servedProfile: options.servedProfile }),
    ...(options.onWait && { onWait: options.onWait }),
    ...(options.limiter && { limiter: options.limiter }),
  };
  const plan = planChecks({
    profile: target.profile,
    clients: targetClients(target),
    clock: target.clock,
    capabilities: options.capabilities ?? capabilitiesOf(target, shared?.endpoints),
    ...(options.groups && { groups: options.groups }),
    ...(options.only && { only: options.only }),
  });
  const concurrency = options.concurrency ?? concurrencyFor(target);
  const runOne = (instance: CheckInstance): Promise<InstanceResult> =>
    signal.reason instanceof RunTimeoutError && instance.skip === undefined ? Promise.resolve(notStarted(instance, target.timeouts.runMs)) : runInstance(instance, env);
  return {
    target,
    plan,
    concurrency,
    signal,
    runOne,
    async runAll(instances = plan) {
      const results: InstanceResult[] = new Array(instances.length);
      let next = 0;
      const worker = async () => {
        while (next < instances.length) {
          const i = next++;
          results[i] = await runOne(instances[i]!);
          options.onResult?.(results[i], i);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, instances.length)) }, worker));
      return results;
    },
    async close() {
      deadline.clear();
      await shared?.close();
    },
  };
}

/** The whole pipeline: open, plan, run every instance, close. Results in plan order. */
export async function runCatalogue(target: Target, options: RunOptions = {}): Promise<{ plan: CheckInstance[]; results: InstanceResult[] }> {
  const run = await prepareRun(target, options);
  try {
    return { plan: run.plan, results: await run.runAll() };
  } finally {
    await run.close();
  }
}
