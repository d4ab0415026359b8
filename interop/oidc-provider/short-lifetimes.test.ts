/**
 * The suites against node-oidc-provider 9 with refresh-token lifetimes of a few seconds (4 s; 12 s
 * where they outlive the 8 s SSO session) on the real clock: whatever the timing, a correct server
 * gets no failed or errored check besides the documented expected failures. Checks whose windows
 * are too narrow for the measured jitter are inconclusive, and counted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import { spawnLauncher, type Spawned } from '../cli.ts';
import { formatRun, key, runInterop, type InteropRun } from '../run.ts';
import type { TargetFileClient } from '../scale.ts';
import { loadExpectedFailures } from './target.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const LIFETIMES = 4;
/** Checks at once: the waits overlap, and logins through its HTML pages are not queued behind 60 others. */
const CONCURRENCY = 16;

interface Ready {
  issuer: string;
  clients: TargetFileClient[];
  targetFile: string;
  env: Record<string, string>;
}

describe(`node-oidc-provider 9 with refresh-token lifetimes of ${LIFETIMES} s (real clock)`, () => {
  let dir: string;
  let server: Spawned<Ready> | undefined;
  let expected: ExpectedFailure[];
  let run: InteropRun;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'interop-oidc-provider-short-'));
    expected = await loadExpectedFailures();
    server = await spawnLauncher<Ready>(CLI, ['--dir', dir, '--lifetimes', String(LIFETIMES)]);
    run = await runInterop(server.info.targetFile, { ...process.env, ...server.info.env }, expected, { concurrency: CONCURRENCY });
    console.log(formatRun(run, `node-oidc-provider 9, lifetimes ${LIFETIMES} s`));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('no check fails or errors besides the expected failures; inconclusive ones are counted', () => {
    const inconclusive = run.results.filter((r) => r.status === 'inconclusive');
    console.log(`${inconclusive.length} inconclusive:${inconclusive.map((r) => `\n  ${key(r)}: ${r.message}`).join('')}`);
    const bad = run.results.filter((r) => r.status === 'failed' || r.status === 'errored');
    expect(bad.map((r) => `${r.status} ${key(r)}\n${r.message}`)).toEqual([]);
    // oidc-provider sends no Pragma: no-cache, a SHOULD (RFC 9111 deprecates Pragma): a warning, not a failure.
    expect(run.results.filter((r) => r.status === 'warning').map((r) => r.id)).toContain('token-endpoint.no-cache-pragma');
    expect(run.results.filter((r) => r.status === 'passed').length).toBeGreaterThan(50);
  });
});
