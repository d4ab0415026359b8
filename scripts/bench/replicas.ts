/**
 * The replicas section of npm run bench: refresh-grant throughput of 1, 2 and 4 mock replicas on
 * one Redis store (Debian's redis-server on a free loopback port, no persistence) against the single
 * in-memory mock process, as ratios measured in the same run.
 *
 * Every replica is its own process (server.ts, kind mock-redis) serving one common issuer; tokens are
 * minted by all of them in their own processes (what one mints, any refreshes: the store is shared).
 * With k replicas the load generator opens its connections spread evenly over them (k pools, as a
 * client-side balancer would), draws from one pool of single-use refresh tokens, and the k pools run
 * side by side in each slice. The four set-ups are measured in interleaved slices, like the HTTP
 * section's servers, so a burst of load from elsewhere hits them alike. Server CPU per request adds
 * up every replica's process.cpuUsage and redis-server's CPU time (/proc).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LoadGenerator, combine, type LoadRequest, type LoadResult, type Slice } from './loadgen.ts';
import { ServerProcess } from './server-process.ts';
import { startRedis, type RunningRedis } from '../../mock-idp/test/redis-server.ts';

export interface ReplicaOptions {
  quick: boolean;
  phaseMs: number;
  slices: number;
  warmup: number;
  out: (line?: string) => void;
}

export interface ReplicaResult extends LoadResult {
  /** "in-memory" or "redis"; with the number of replicas. */
  store: 'in-memory' | 'redis';
  replicas: number;
  /** Server CPU (every replica, plus redis-server for the Redis set-ups) per completed request, microseconds. */
  serverCpuMicros: number;
  /** Of which redis-server, microseconds per request. */
  redisCpuMicros?: number;
  /** Requests per second relative to the in-memory process at the same connection count. */
  ratio: number;
}

export interface ReplicaFigures {
  results: ReplicaResult[];
  notes: string;
  /** Time spent minting the single-use tokens (never timed in a phase). */
  mintMs: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const COUNTS = [1, 2, 4] as const;

/** redis-server's CPU time so far (user + system), microseconds, from /proc. */
function processCpuMicros(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (proc(5)), so indices 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
}

interface SetUp {
  store: 'in-memory' | 'redis';
  servers: ServerProcess[];
  pool: string[];
  clientId: string;
}

/** The servers of the section, started (they idle until measured, so they may start while another section measures). */
export interface ReplicaServers {
  redis: RunningRedis;
  memory: ServerProcess;
  replicas: ServerProcess[];
  close(): Promise<void>;
}

export async function startReplicaServers(mockRoot?: string): Promise<ReplicaServers> {
  const redis = await startRedis();
  const started: ServerProcess[] = [];
  const close = async () => {
    for (const s of started) s.close();
    await redis.stop();
  };
  // A name no one resolves: replicas answer for it (the issuer in their tokens) and for 127.0.0.1 (the generator's Host).
  const issuer = 'http://mock-replicas.bench.test';
  const settled = await Promise.allSettled([
    ServerProcess.start('mock in-memory', 'mock', { mockRoot }),
    ...Array.from({ length: Math.max(...COUNTS) }, (_, i) => ServerProcess.start(`mock replica ${i + 1}`, 'mock-redis', { mockRoot, extra: [redis.url, issuer] })),
  ]);
  for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [memory, ...replicas] = started as [ServerProcess, ...ServerProcess[]];
  return { redis, memory, replicas, close };
}

export async function replicasSection(servers: ReplicaServers, options: ReplicaOptions): Promise<ReplicaFigures> {
  const { quick, phaseMs, slices, warmup, out } = options;
  const levels = quick ? [32] : [16, 64];
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const { redis, memory, replicas } = servers;
  try {
    const rate = new Map<string, number>();
    const results: ReplicaResult[] = [];
    let mintMs = 0;
    for (const connections of levels) {
      // Single-use refresh tokens, minted (never timed) before each connection count: enough for the
      // phase at twice the rate measured at the previous count, at least at a quiet machine's rate.
      const size = (key: string, floor: number) => Math.ceil((Math.max(floor, 2 * (rate.get(key) ?? 0)) * phaseMs) / 1000) + warmup;
      const mintOver = async (servers: ServerProcess[], n: number): Promise<string[]> => {
        const share = Math.ceil(n / servers.length);
        return (await Promise.all(servers.map((s) => s.mint('refresh', share)))).flatMap((m) => m.items);
      };
      // The four pools side by side: the in-memory process mints its own, the replicas (all four) the others.
      const mintStart = performance.now();
      const [memoryPool, ...redisPools] = await Promise.all([
        memory.mint('refresh', size('in-memory', quick ? 1600 : 6000)).then((m) => m.items),
        ...COUNTS.map((k) => mintOver(replicas, size(`redis ${k}`, quick ? 1000 : 2500))),
      ]);
      mintMs += performance.now() - mintStart;
      const setUps: SetUp[] = [
        { store: 'in-memory', servers: [memory], pool: memoryPool!, clientId: memory.ready.info.publicClientId! },
        ...COUNTS.map((k, i): SetUp => ({ store: 'redis', servers: replicas.slice(0, k), pool: redisPools[i]!, clientId: replicas[0]!.ready.info.publicClientId! })),
      ];
      const measured = await measure(setUps, connections, { phaseMs, slices, warmup }, redis, ticks);
      const base = measured[0]!.rps;
      for (const [i, r] of measured.entries()) {
        const setUp = setUps[i]!;
        const result: ReplicaResult = { ...r, store: setUp.store, replicas: setUp.servers.length, ratio: r.rps / base };
        results.push(result);
        rate.set(setUp.store === 'redis' ? `redis ${setUp.servers.length}` : 'in-memory', r.rps);
        const name = setUp.store === 'redis' ? `${setUp.servers.length} replica${setUp.servers.length > 1 ? 's' : ''} on Redis` : 'one in-memory process';
        out(
          `  ${String(connections).padStart(2)} conn  ${name.padEnd(22)} ${fmt(r.rps).padStart(6)} req/s  ${result.ratio.toFixed(2)}x  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  server CPU ${r.serverCpuMicros.toFixed(0).padStart(4)} µs/req` +
            (r.redisCpuMicros !== undefined ? ` (redis-server ${r.redisCpuMicros.toFixed(0)})` : '') +
            (r.exhausted ? `  (pool ran dry after ${(r.elapsedMs / 1000).toFixed(2)} s)` : ''),
        );
      }
    }
    return { results, mintMs, notes: `${replicas[0]!.ready.info.notes ?? ''}; redis-server ${redisVersion()} on 127.0.0.1, no persistence` };
  } finally {
    await servers.close();
  }
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** One set-up's generators (one per server, the connections spread over them) and its accumulated figures. */
interface Running {
  setUp: SetUp;
  gens: LoadGenerator[];
  next: () => LoadRequest | undefined;
  slices: Slice[];
  cpuMicros: number;
  redisMicros: number;
}

async function measure(
  setUps: SetUp[],
  connections: number,
  timing: { phaseMs: number; slices: number; warmup: number },
  redis: RunningRedis,
  ticks: number,
): Promise<Array<LoadResult & { serverCpuMicros: number; redisCpuMicros?: number }>> {
  const states: Running[] = setUps.map((setUp) => {
    let offset = 0;
    const k = setUp.servers.length;
    return {
      setUp,
      gens: setUp.servers.map((s, i) => new LoadGenerator(s.origin, Math.floor(connections / k) + (i < connections % k ? 1 : 0))),
      next: () => {
        const token = setUp.pool[offset++];
        return token === undefined
          ? undefined
          : { method: 'POST', path: '/token', headers: FORM, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}&client_id=${encodeURIComponent(setUp.clientId)}` };
      },
      slices: [],
      cpuMicros: 0,
      redisMicros: 0,
    };
  });
  /** The set-up's generators side by side for one slice: their requests together, over the longest one's time. */
  const slice = async (st: Running, run: { durationMs: number; maxRequests?: number }): Promise<Slice> => {
    const parts = await Promise.all(st.gens.map((g) => g.run({ ...run, ...(run.maxRequests !== undefined && { maxRequests: Math.ceil(run.maxRequests / st.gens.length) }), next: st.next })));
    const firstError = parts.find((p) => p.firstError !== undefined)?.firstError;
    return {
      latencies: parts.flatMap((p) => p.latencies),
      errors: parts.reduce((n, p) => n + p.errors, 0),
      ...(firstError !== undefined && { firstError }),
      elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
      exhausted: parts.some((p) => p.exhausted),
    };
  };
  const cpu = async (st: Running) => (await Promise.all(st.setUp.servers.map((s) => s.usage()))).reduce((n, u) => n + u.cpuMicros, 0);
  try {
    for (const st of states) {
      const warm = await slice(st, { durationMs: 60_000, maxRequests: timing.warmup });
      if (warm.errors) throw new Error(`${st.setUp.store} x${st.setUp.servers.length}: warm-up failed: ${warm.firstError}`);
    }
    for (let round = 0; round < timing.slices; round++) {
      for (const st of states) {
        if (st.slices.at(-1)?.exhausted) continue;
        const before = await cpu(st);
        const redisBefore = st.setUp.store === 'redis' ? processCpuMicros(redis.pid, ticks) : 0;
        st.slices.push(await slice(st, { durationMs: timing.phaseMs / timing.slices }));
        st.cpuMicros += (await cpu(st)) - before;
        if (st.setUp.store === 'redis') st.redisMicros += processCpuMicros(redis.pid, ticks) - redisBefore;
      }
    }
  } finally {
    await Promise.all(states.flatMap((st) => st.gens.map((g) => g.close())));
  }
  return states.map((st) => {
    const r = combine(connections, st.slices);
    const label = `${st.setUp.store} x${st.setUp.servers.length}`;
    if (r.errors) throw new Error(`${label} at ${connections} connections: ${r.errors} errors, first: ${r.firstError}`);
    const per = (micros: number) => micros / Math.max(1, r.requests);
    return {
      ...r,
      serverCpuMicros: per(st.cpuMicros + st.redisMicros),
      ...(st.setUp.store === 'redis' && { redisCpuMicros: per(st.redisMicros) }),
    };
  });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
}
