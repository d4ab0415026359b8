/** What the CLI or vitest.config.ts hands the suite files (through vitest's provide/inject). */
import { loadProfile } from '../../mock-idp/profile/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import type { Defect } from '../../mock-idp/index.ts';
import type { Group } from '../checks/types.ts';

export interface ConformanceConfig {
  /** Target file path. */
  target: string;
  /** Embedded mock only: serve and check this profile instead of the file's. */
  profile?: string;
  /** Embedded mock only: msw, http or direct instead of the file's. */
  transport?: 'msw' | 'http' | 'direct';
  groups?: Group[];
  only?: string[];
  /** --shard: the names of the planned instances this part runs (the CLI's split, shard.ts); default all. */
  instances?: string[];
  defects?: Defect[];
  /** When the whole run must end (epoch ms; the CLI sets now + timeouts.runMs). */
  deadlineMs?: number;
  /** --strict: warnings fail the run (and an expected-failure entry may cover a warning). */
  strict?: boolean;
  /** At most this many checks work at once, per process (vitest.config.ts); default: the number of CPUs. */
  concurrency?: number;
  /** The CLI's slot server (limiter.ts): one cap across all worker processes; wins over `concurrency`. */
  limiterPort?: number;
  /**
   * The CLI's secret channel (secret-channel.ts) and the run's fingerprint key (base64url): every worker
   * sends the CLI the secrets it learns, and a value gets one fingerprint in every worker.
   */
  secrets?: { port: number; token: string; fingerprintKey: string };
  /** Extra expected failures (from --expected-failures). */
  expectedFailures?: { id: string; reason: string; client?: string }[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    conformance: ConformanceConfig;
  }
}

/** Loads the target with the config's overrides applied. */
export async function resolveTarget(config: ConformanceConfig): Promise<Target> {
  const target = await loadTarget(config.target);
  const expectedFailures = [...target.expectedFailures, ...(config.expectedFailures ?? [])];
  if (target.kind !== 'embedded') return { ...target, expectedFailures };
  return {
    ...target,
    expectedFailures,
    ...(config.profile && { profile: await loadProfile(config.profile), profileRef: config.profile }),
    ...(config.transport && { embedded: { transport: config.transport } }),
  };
}
