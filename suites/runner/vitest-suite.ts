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
import { applyExpectations } from './expected.ts';
import { connectLimiter, createLimiter, type Limiter } from './limiter.ts';
import { prepareRun } from './pipeline.ts';
import { connectSecretChannel } from './secret-channel.ts';
import { shareSecretsWith } from '../harness/record.ts';
import { useFingerprintKey } from '../harness/redact.ts';
import type { InstanceResult } from './run.ts';

declare module 'vitest' {
  interface TaskMeta {
    conformance?: InstanceResult;
  }
}

let dispatcherInstalled: unknown;
let secretsShared = false;
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
  // Once per process, before any check learns a secret: the run's fingerprints, and its secrets sent to the CLI.
  if (config.secrets && !secretsShared) {
    useFingerprintKey(Buffer.from(config.secrets.fingerprintKey, 'base64url'));
    shareSecretsWith(connectSecretChannel(config.secrets.port, config.secrets.token));
    secretsShared = true;
  }
  // globalThis.fetch stays the one injectable fetch (msw sees it); undici's Agent under it adds
  // connect/header/body timeouts for real targets.
  // Once per process: the group files share a worker (isolate: false), and one Agent serves them all.
  dispatcherInstalled ??= installDefaultDispatcher({ connectTimeoutMs: 10_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000 });
  const target = await resolveTarget(config);
  limiter ??= config.limiterPort !== undefined ? connectLimiter(config.limiterPort) : createLimiter(config.concurrency ?? target.concurrency ?? availableParallelism());
  // The run pipeline (pipeline.ts), one instance per test. Its deadline is the CLI's (timeouts.runMs from
  // the start): past it, checks under way are aborted and checks not yet started error at once with RUN_TIMEOUT.
  const run = await prepareRun(target, {
    ...(config.defects && { defects: config.defects }),
    ...(config.deadlineMs !== undefined && { deadlineMs: config.deadlineMs }),
    limiter,
    groups: config.groups?.includes(group) === false ? [] : [group],
    ...(config.only && { only: config.only }),
  });
  afterAll(async () => {
    stopEmbeddedMsw();
    await run.close();
  });
  // A shard runs only the instances the CLI dealt it (shard.ts); the plan is the same in both processes.
  const part = config.instances && new Set(config.instances);
  const plan = part ? run.plan.filter((instance) => part.has(instance.name)) : run.plan;
  const suite = run.concurrency > 1 ? describe.concurrent : describe.sequential;
  suite(`${group} · ${target.name} · ${target.profile.name}`, () => {
    if (plan.length === 0) test.skip(`no ${group} checks selected`, () => undefined);
    for (const instance of plan) {
      test(instance.name, async ({ task, skip }) => {
        const result = applyExpectations(await run.runOne(instance), target.expectedFailures, config.strict);
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
