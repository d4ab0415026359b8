/**
 * Debian's redis-server (/usr/bin/redis-server) for tests: on a free 127.0.0.1 port, no persistence
 * (--save '' --appendonly no, its dir a temp dir removed on stop), in its own process group.
 *
 * stop() ends the whole group (SIGTERM, SIGKILL after 5 s) and is idempotent; restart() starts a new
 * server on the SAME port with EMPTY data (nothing is persisted: an outage that loses everything,
 * the harshest case for a store; with `persist`, every write goes to an append-only file synced before
 * Redis answers, and restart() finds the data again, as a Redis that is stopped and started does);
 * pause()/resume() (SIGSTOP/SIGCONT) freeze the server with its
 * connections open, the case where only timeouts can tell. A process exit kills any group still
 * running, so a crashed test leaves nothing behind.
 *
 * Without redis-server the tests skip, saying so, except in CI (CI=true), where its absence is a
 * failure: .ci/run installs it (Debian package redis-server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Why Redis tests cannot run here (undefined: they can). Under CI=true a missing server is not a reason: the test fails. */
export async function redisSkipReason(): Promise<string | undefined> {
  const present = await access(REDIS_SERVER).then(() => true, () => false);
  if (present || process.env.CI === 'true') return undefined;
  return `Debian package missing (${REDIS_SERVER}): apt-get install redis-server`;
}

export interface RunningRedis {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The server's pid, leader of its process group (changes on restart). */
  readonly pid: number;
  /** Ends the server's process group; resolves once it is gone. Idempotent. */
  stop(): Promise<void>;
  /** Ends the server if it runs, then starts a new one on the same port, with empty data (with `persist`: the data it had). */
  restart(): Promise<void>;
  /** The server stopped (SIGTERM, as an operator stops it), its data dir kept: restart()'s first half. */
  down(): Promise<void>;
  /** A server on the same port again after down(): restart()'s second half. */
  up(): Promise<void>;
  /** SIGSTOP: the server holds its connections and answers nothing until resume(). */
  pause(): void;
  resume(): void;
}

const live = new Set<number>();
let exitHook = false;

/** Starts redis-server; rejects (naming the step) when it is missing or does not answer PING within `timeoutMs`. */
export async function startRedis(options: { timeoutMs?: number; persist?: boolean } = {}): Promise<RunningRedis> {
  await access(REDIS_SERVER).catch(() => {
    throw new Error(`REDIS_UNAVAILABLE: ${REDIS_SERVER} is not installed (apt-get install redis-server)`);
  });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const pid of live) signalGroup(pid, 'SIGKILL');
    });
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  const persist = options.persist ?? false;
  const dir = await mkdtemp(path.join(tmpdir(), 'redis-test-'));
  let port = 0;
  let server: Spawned | undefined;
  try {
    // redis-server has no "port 0": a free port is found first; another process may take it in between, so try again.
    for (let attempt = 1; !server; attempt++) {
      port = await freePortForTest();
      try {
        server = await spawnRedis(port, dir, timeoutMs, persist);
      } catch (e) {
        if (attempt >= 3 || !/in use/i.test((e as Error).message)) throw e;
      }
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let current: Spawned | undefined = server;
  const stop = async () => {
    const s = current;
    current = undefined;
    if (s) await s.stop();
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return current?.child.pid ?? -1;
    },
    async stop() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await stop();
      await mkdir(dir, { recursive: true }); // stop() removed it
      current = await spawnRedis(port, dir, timeoutMs, persist);
    },
    async down() {
      await stop();
    },
    async up() {
      if (!current) current = await spawnRedis(port, dir, timeoutMs, persist);
    },
    pause() {
      if (current?.child.pid) signalGroup(current.child.pid, 'SIGSTOP');
    },
    resume() {
      if (current?.child.pid) signalGroup(current.child.pid, 'SIGCONT');
    },
  };
}

interface Spawned {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function spawnRedis(port: number, dir: string, timeoutMs: number, persist: boolean): Promise<Spawned> {
  const durability = persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', ...durability, '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid!;
  live.add(pid);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(pid, 'SIGCONT'); // a paused server would not act on SIGTERM
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    signalGroup(pid, 'SIGKILL');
    live.delete(pid);
  };
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`REDIS_START_FAILED: redis-server exited (${child.signalCode ?? `code ${child.exitCode}`}): ${log.trim().split('\n').slice(-3).join(' | ')}`);
      if (await pong(port)) return { child, stop };
      if (Date.now() > deadline) throw new Error(`REDIS_START_FAILED: redis-server did not answer PING on 127.0.0.1:${port} within ${timeoutMs} ms: ${log.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** A loopback port nothing listens on (as this moment sees it). */
export function freePortForTest(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One PING over a fresh connection, bounded to 1 s. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
