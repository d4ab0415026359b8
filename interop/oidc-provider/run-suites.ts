/**
 * For the interop tests: node-oidc-provider started in its own process (cli.ts, on a free loopback
 * port), the whole catalogue run against it, and a close that stops it and removes its folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import type { Group } from '../../suites/checks/types.ts';
import { spawnLauncher } from '../cli.ts';
import { runInterop, type InteropRun } from '../run.ts';
import type { TargetFileClient } from '../scale.ts';
import { DEFAULTS_EXPECTED_FAILURES_FILE, EXPECTED_FAILURES_FILE, loadExpectedFailures } from './target.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/**
 * Checks at once: enough to overlap the waits, few enough that a login through its HTML pages is not
 * queued behind 60 others (a login's length counts against the SSO windows the timed checks probe).
 */
export const CONCURRENCY = 16;

interface Ready {
  issuer: string;
  clients: TargetFileClient[];
  targetFile: string;
  env: Record<string, string>;
}

export interface OidcProviderRun {
  run: InteropRun;
  expected: ExpectedFailure[];
  close(): Promise<void>;
}

/**
 * Starts the provider with `launcherArgs` (e.g. `--lifetimes 4`, `--defaults`, `--dpop`) and runs the
 * catalogue (or some of its groups) against it, with the expected failures of that mode (the defaults
 * have their own list).
 */
export async function runAgainstOidcProvider(launcherArgs: readonly string[] = [], options: { groups?: readonly Group[] } = {}): Promise<OidcProviderRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'interop-oidc-provider-'));
  const close = async () => rm(dir, { recursive: true, force: true });
  try {
    const expected = await loadExpectedFailures(launcherArgs.includes('--defaults') ? DEFAULTS_EXPECTED_FAILURES_FILE : EXPECTED_FAILURES_FILE);
    const server = await spawnLauncher<Ready>(CLI, ['--dir', dir, ...launcherArgs]);
    const stop = async () => {
      await server.close();
      await close();
    };
    try {
      const run = await runInterop(server.info.targetFile, { ...process.env, ...server.info.env }, expected, { concurrency: CONCURRENCY, ...(options.groups && { groups: options.groups }) });
      return { run, expected, close: stop };
    } catch (e) {
      await stop();
      throw e;
    }
  } catch (e) {
    await close();
    throw e;
  }
}
