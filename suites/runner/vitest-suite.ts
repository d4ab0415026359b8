/**
 * Registers a group's check instances as vitest tests. vitest is the engine: scheduling,
 * concurrency, filtering and reporting; each test body runs one instance and leaves its
 * result in task.meta for the conformance reporter.
 */
import { availableParallelism } from 'node:os';
import { afterAll, describe, inject, test } from 'vitest';
import type { Group } from '../checks/types.ts';
import { resolveTarget } from './config.ts';
import { installDefaultDispatcher } from '../harness/http.ts';
import { stopEmbeddedMsw } from './embedded.ts';
import { planChecks } from './plan.ts';
import { capabilitiesOf } from './connection.ts';
import { applyExpectations } from './expected.ts';
import { connectLimiter, createLimiter, type Limiter } from './limiter.ts';
import { concurrencyFor, openEnvironment, runInstance, RunTimeoutError, targetClients, type InstanceResult } from './run.ts';

declare module 'vitest' {
  interface TaskMeta {
    conformance?: InstanceResult;
  }
}

let dispatcherInstalled: unknown;
/** One per process: the group files of a worker share it (and, through the CLI's slot server, the workers too). */
let limiter: Limiter | undefined;

/**
 * Test hook: a group file whose name is in this variable (comma-separated) throws while loading,
 * as a broken group file would, so the CLI tests can show that its checks are reported errored.
 */
export const LOAD_FAILURE_ENV = 'REFRESH_CONFORMANCE_TEST_LOAD_FAILURE';

export async function registerGroup(group: Group): Promise<void> {
  if (process.env[LOAD_FAILURE_ENV]?.split(',').includes(group)) throw new Error(`${group}: load failure injected through ${LOAD_FAILURE_ENV}`);
  const config = inject('conformance');
  // globalThis.fetch stays the one injectable fetch (msw sees it); undici's Agent under it adds
  // connect/header/body timeouts for real targets.
  // Once per process: the group files share a worker (isolate: false), and one Agent serves them all.
  dispatcherInstalled ??= installDefaultDispatcher({ connectTimeoutMs: 10_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 });
  const target = await resolveTarget(config);
  // The run's deadline (timeouts.runMs, set by the CLI): past it, checks under way are aborted and
  // checks not yet started fail at once, each with RUN_TIMEOUT, and the report is still written.
  const deadline = new AbortController();
  const timer =
    config.deadlineMs === undefined
      ? undefined
      : setTimeout(() => deadline.abort(new RunTimeoutError(target.timeouts.runMs)), Math.max(0, config.deadlineMs - Date.now()));
  limiter ??= config.limiterPort !== undefined ? connectLimiter(config.limiterPort) : createLimiter(config.concurrency ?? target.concurrency ?? availableParallelism());
  const env = await openEnvironment(target, { ...(config.defects && { defects: config.defects }), signal: deadline.signal, limiter });
  const plan = planChecks({
    profile: target.profile,
    clients: await targetClients(env),
    clock: target.clock,
    capabilities: capabilitiesOf(target, env.shared?.endpoints),
    groups: config.groups?.includes(group) === false ? [] : [group],
    ...(config.only && { only: config.only }),
  });
  afterAll(async () => {
    clearTimeout(timer);
    stopEmbeddedMsw();
    await env.shared?.close();
  });
  const suite = concurrencyFor(env) > 1 ? describe.concurrent : describe.sequential;
  suite(`${group} · ${target.name} · ${target.profile.name}`, () => {
    if (plan.length === 0) test.skip(`no ${group} checks selected`, () => undefined);
    for (const instance of plan) {
      test(instance.name, async ({ task, skip }) => {
        const result = applyExpectations(await runInstance(instance, env), target.expectedFailures, config.strict);
        task.meta.conformance = result;
        // vitest's own verdict follows the run's: red for failed and errored (and warnings under --strict).
        if (result.status === 'skipped') skip(result.message ?? 'not applicable');
        if (result.status === 'inconclusive') skip(`inconclusive: ${result.message ?? ''}`);
        if (result.status === 'failed' || result.status === 'errored' || (config.strict && result.status === 'warning')) {
          throw new Error(result.message ?? result.status);
        }
      });
    }
  });
}
