/**
 * The whole conformance catalogue against three replicas of the mock service on one redis-server,
 * behind a round-robin loopback proxy: `npm run conformance` with the target file the first replica
 * wrote (--write-target: form login, end-session logout, the mock clock through the control API),
 * whose issuer is the proxy. Every request, the control API's included, goes to the next replica in
 * turn, so a login, its code exchange, each refresh and each move of the clock land on different
 * processes: the catalogue passes only if they share everything.
 *
 * Without redis-server the file is skipped, saying so, except in CI (CI=true): .ci/run installs it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisSkipReason } from './redis-server.ts';
import { startCluster, stopReplica, type Cluster } from './replica-processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = await redisSkipReason();
if (skip) console.warn(`conformance catalogue against mock replicas skipped: ${skip}`);

/** The CLI to its exit, in its own process group (killed whole after timeoutMs). */
function conformance(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/conformance.ts', ...args], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => void stopReplica({ child }), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      void stopReplica({ child }).then(() => resolve({ code, out }));
    });
  });
}

describe.skipIf(skip !== undefined)('the conformance catalogue against 3 mock replicas behind a round-robin proxy', () => {
  let cluster: Cluster;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rc-replicas-'));
    cluster = await startCluster({ count: 3, firstArgs: ['--write-target', path.join(dir, 'target.json')] });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test('passes, every replica serving logins, refreshes and the control API', async () => {
    const target = JSON.parse(await readFile(path.join(dir, 'target.json'), 'utf8'));
    // The target names the proxy: the harness never sees a replica's own address.
    expect(target.issuer).toBe(cluster.proxy.url);
    expect(target.clock).toEqual({ driver: 'mock' });
    const started = performance.now();
    const r = await conformance(['--target', path.join(dir, 'target.json'), '--report-dir', path.join(dir, 'reports')], cluster.replicas[0]!.env, 400_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(`replicas: the catalogue through the proxy in ${seconds.toFixed(1)} s; ${r.out.match(/\d+ passed, \d+ failed[^\n]*/)?.[0] ?? '(no summary)'}`);
    expect(r.out).toMatch(/\d+ passed, 0 failed/);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    const report = JSON.parse(await readFile(path.join(dir, 'reports', 'report.json'), 'utf8'));
    expect(report.summary.failed).toBe(0);
    expect(report.summary.errored ?? 0).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(80);

    // Round robin really spread the run: each replica answered token requests, and moved the clock.
    const log = cluster.proxy.log;
    for (const i of [0, 1, 2]) {
      expect(log.filter((e) => e.upstream === i && e.path === '/token').length, `replica ${i} token requests`).toBeGreaterThan(20);
      expect(log.filter((e) => e.upstream === i && e.path === '/__control/clock/advance').length, `replica ${i} clock moves`).toBeGreaterThan(0);
    }
    expect(log.filter((e) => e.status >= 500)).toEqual([]);
    for (const replica of cluster.replicas) {
      expect(replica.child.exitCode).toBeNull();
      expect(replica.stderr()).not.toMatch(/unexpected error/);
    }
  }, 420_000);
});
