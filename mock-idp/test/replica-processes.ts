/**
 * Replicas of the mock as a service (scripts/mock-idp.ts, as `refresh-conformance-mock` runs it),
 * each a real process in its own process group on 127.0.0.1 (a free port), for the tests of mock
 * replicas sharing one Redis store. Stopping one kills its whole group and waits until it is gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveGroupMembers } from '../../scripts/test-setup/leaked-processes.ts';
import { startRedis, type RunningRedis } from './redis-server.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MOCK = ['--import', 'tsx', path.join(ROOT, 'scripts/mock-idp.ts')];

export interface Replica {
  child: ChildProcess;
  /** Where this process listens (http://127.0.0.1:PORT), which is not the issuer behind a proxy. */
  origin: string;
  issuer: string;
  /** What it printed before it was ready. */
  banner: string;
  /** The `MOCK_IDP_*` variables of a --write-target banner. */
  env: Record<string, string>;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
}

/** Starts one replica with these service flags (add --port 0); resolves once its banner is out. */
export function startReplica(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Replica> {
  const child = spawn(process.execPath, [...MOCK, ...args], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopReplica({ child } as Replica);
      reject(new Error(`no banner within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before the banner:\n${out}\n${err}`));
    };
    child.once('exit', onExit);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('Ctrl-C stops the server.')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const issuer = /^issuer: +(\S+)$/m.exec(out)![1]!;
      const origin = /^listening: +(\S+)$/m.exec(out)?.[1] ?? issuer;
      const vars = Object.fromEntries([...out.matchAll(/^ {2}(MOCK_IDP_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      resolve({ child, origin, issuer, banner: out, env: vars, stderr: () => err });
    });
  });
}

/** Kills the replica's whole process group and waits until none of it is left. */
export async function stopReplica(replica: Pick<Replica, 'child'>, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
  const { child } = replica;
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // gone already
  }
  const until = Date.now() + timeoutMs;
  while (liveGroupMembers(child.pid!).length > 0) {
    if (Date.now() > until) throw new Error(`replica ${child.pid} still running ${timeoutMs} ms after ${signal}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops with SIGTERM, as an orchestrator does: resolves to the exit code. */
export async function terminateReplica(replica: Replica, timeoutMs = 10_000): Promise<number | null> {
  const { child } = replica;
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => void stopReplica(replica), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  await stopReplica(replica);
  return code;
}

/** Runs the service to its exit (a refused start): code and output. */
export function runService(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...MOCK, ...args], { cwd: ROOT, detached: true, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => void stopReplica({ child }), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      void stopReplica({ child }).then(() => resolve({ code, stdout, stderr }));
    });
  });
}

export interface Cluster {
  redis: RunningRedis;
  /** The round-robin proxy in front: its address is every replica's issuer. */
  proxy: RoundRobinProxy;
  replicas: Replica[];
  adminToken: string;
  /** Stops the replicas (whole groups), the proxy and Redis; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Redis, a round-robin proxy and `count` replicas of the service behind it: the same --store,
 * --issuer (the proxy's address), --admin-token and `args`; each also answers for 127.0.0.1 on its
 * own port, so a test can address one replica directly.
 */
export async function startCluster(options: {
  count: number;
  args?: readonly string[];
  /** More flags for the first replica only (e.g. --write-target FILE). */
  firstArgs?: readonly string[];
  persist?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<Cluster> {
  const redis = await startRedis({ persist: options.persist ?? false });
  // Always starting with '-', as a base64url token does one time in 32: the flag must carry it whatever its first character.
  const adminToken = `-${randomBytes(24).toString('base64url')}`;
  let proxy: RoundRobinProxy | undefined;
  const replicas: Replica[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(replicas.map((r) => stopReplica(r)));
    await proxy?.close();
    await redis.stop();
  };
  try {
    proxy = await startRoundRobinProxy();
    const args = ['--port', '0', '--store', redis.url, '--issuer', proxy.url, '--allow-host', '127.0.0.1',
      // With '=': a base64url token may start with '-', which parseArgs would take for an option.
      `--admin-token=${adminToken}`, ...(options.args ?? [])];
    // One first, so the shared keys are made once; then the others, side by side.
    replicas.push(await startReplica([...args, ...(options.firstArgs ?? [])], options.env));
    const rest = await Promise.allSettled(Array.from({ length: options.count - 1 }, () => startReplica(args, options.env)));
    for (const r of rest) if (r.status === 'fulfilled') replicas.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    proxy.setUpstreams(replicas.map((r) => r.origin));
    return { redis, proxy, replicas, adminToken, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
