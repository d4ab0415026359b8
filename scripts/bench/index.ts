/**
 * npm run bench [-- --quick] [--only http,replicas,suites,memory] [--json FILE] [--profile DIR] [--mock-root DIR]
 *
 * Measured speed of the mock, each figure next to a baseline measured in the same run:
 *   http    the token endpoint over loopback HTTP at 1, 16 and 64 connections: the refresh grant
 *           (rotation + signed id_token), the authorization_code exchange and introspection, against
 *           a bare node:http server (fixed JSON), a node:http server that only signs one id_token
 *           per request (the signing floor) and node-oidc-provider's refresh grant;
 *   replicas  the refresh grant on 1, 2 and 4 mock replicas sharing one Redis store, as ratios to
 *           the single in-memory process (replicas.ts; needs /usr/bin/redis-server);
 *   suites  wall time of the whole catalogue against the embedded mock (direct, msw, http);
 *   memory  resident size with 100 000 live token families (child process, --expose-gc).
 *
 * Every server runs in its own child process and the load generator (undici Pool, pipelining 1)
 * in this one: on 2 cores each side gets a core, and no server shares a heap or an event loop with
 * the generator or with another server. Servers under test are interleaved at each connection
 * count, so a burst of load from elsewhere on the machine hits all of them alike; each phase also
 * records the server's CPU time per request, a figure such bursts disturb much less than req/s.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LoadGenerator, combine, type LoadRequest, type LoadResult, type Slice } from './loadgen.ts';
import { ServerProcess } from './server-process.ts';
import type { SuiteRun } from './suites.ts';
import type { MemoryResult } from './memory.ts';
import type { ReplicaFigures } from './replicas.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    profile: { type: 'string' },
    'mock-root': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'Usage: npm run bench -- [--quick] [--only http,replicas,suites,memory] [--json FILE] [--profile DIR] [--mock-root DIR]\n' +
      '  --quick         short phases (under a minute in all); default: full mode, about 3 minutes\n' +
      '  --only LIST     sections to run: http, replicas (needs redis-server), suites, memory\n' +
      '  --json FILE     also write every figure as JSON\n' +
      '  --profile DIR   write a CPU profile of each server during each measured HTTP phase\n' +
      '  --mock-root DIR benchmark the mock of another checkout (DIR/mock-idp), e.g. to compare before/after\n',
  );
  process.exit(0);
}
const quick = args.quick;
const mockRoot = args['mock-root'] && path.resolve(args['mock-root']);
const sections = new Set((args.only ?? 'http,replicas,suites,memory').split(','));
const LEVELS = [1, 16, 64];
const PHASE_MS = quick ? 750 : 4000;
/** Each phase is measured in this many slices, interleaved with the other servers' (see loadgen.ts). */
const SLICES = quick ? 3 : 8;
const WARMUP = quick ? 250 : 1500;
const out = (line = ''): void => void process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------- machine

function machine(): { nproc: number; model: string; node: string; load: string } {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() it is
  }
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // no nproc
  }
  return { nproc, model, node: process.version, load: loadavg().map((l) => l.toFixed(2)).join(' ') };
}

// ---------------------------------------------------------------- http section

interface Phase {
  /** Row label, e.g. "mock refresh". */
  name: string;
  server: ServerProcess;
  /** The i-th request of the phase (warm-up included), from a pool of single-use material or made up. */
  next: (i: number) => LoadRequest | undefined;
  status?: number;
}

interface PhaseResult extends LoadResult {
  name: string;
  /** Server CPU (user + system) per completed request, microseconds. */
  serverCpuMicros: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function fromPool(items: string[], make: (item: string) => LoadRequest): (i: number) => LoadRequest | undefined {
  return (i) => (i < items.length ? make(items[i]!) : undefined);
}

/**
 * Measures the phases of one connection count: a warm-up each, then SLICES rounds in which every
 * phase runs for PHASE_MS / SLICES in turn, on connections kept open; the slices are added up.
 */
async function measureLevel(phases: Phase[], connections: number): Promise<PhaseResult[]> {
  const states = phases.map((phase) => {
    let offset = 0;
    return {
      phase,
      gen: new LoadGenerator(phase.server.origin, connections, phase.status ?? 200),
      next: () => phase.next(offset++),
      slices: [] as Slice[],
      cpuMicros: 0,
      profileFile: args.profile ? `${args.profile}/${phase.name.replace(/[^a-z0-9]+/gi, '-')}-${connections}.cpuprofile` : undefined,
    };
  });
  try {
    for (const st of states) {
      const warm = await st.gen.run({ durationMs: 60_000, maxRequests: WARMUP, next: st.next });
      if (warm.errors) throw new Error(`${st.phase.name}: warm-up failed: ${warm.firstError}`);
    }
    for (let round = 0; round < SLICES; round++) {
      for (const st of states) {
        if (st.slices.at(-1)?.exhausted) continue;
        if (st.profileFile && round === 0) {
          mkdirSync(args.profile!, { recursive: true });
          await st.phase.server.profile(true);
        }
        const before = await st.phase.server.usage();
        st.slices.push(await st.gen.run({ durationMs: PHASE_MS / SLICES, next: st.next }));
        st.cpuMicros += (await st.phase.server.usage()).cpuMicros - before.cpuMicros;
        if (st.profileFile && (round === SLICES - 1 || st.slices.at(-1)!.exhausted)) await st.phase.server.profile(false, st.profileFile);
      }
    }
  } finally {
    await Promise.all(states.map((st) => st.gen.close()));
  }
  return states.map((st) => {
    const r = combine(connections, st.slices);
    if (r.errors) throw new Error(`${st.phase.name} at ${connections} connections: ${r.errors} errors, first: ${r.firstError}`);
    return { ...r, name: st.phase.name, serverCpuMicros: st.cpuMicros / Math.max(1, r.requests) };
  });
}

interface HttpFigures {
  results: PhaseResult[];
  notes: Record<string, string>;
  mintMs: Record<string, number>;
}

async function httpSection(beforeMeasuring: () => Promise<unknown>): Promise<HttpFigures> {
  const full = !quick;
  const [bare, sign, mock, op, opRs] = await Promise.all([
    ServerProcess.start('bare node:http', 'bare', { mockRoot }),
    ServerProcess.start('signing floor', 'sign', { alg: 'ES256', mockRoot }),
    ServerProcess.start('mock', 'mock', { alg: 'ES256', mockRoot }),
    ServerProcess.start('oidc-provider', 'oidc-provider', { alg: 'ES256', mockRoot }),
    full ? ServerProcess.start('oidc-provider RS256', 'oidc-provider', { alg: 'RS256', mockRoot }) : Promise.resolve(undefined),
  ]);
  const all = [bare, sign, mock, op, ...(opRs ? [opRs] : [])];
  try {
    const info = mock.ready.info;
    // Single-use material, minted right before each connection count, in the servers' own processes
    // (mock and oidc-provider in parallel) and never timed: enough for the phase at twice the rate
    // measured at the previous count, and at least at what a quiet 2-core machine did, plus the
    // warm-up. A pool that still runs dry ends its phase early, which is reported.
    const size = (perSecond: number) => Math.ceil((perSecond * PHASE_MS) / 1000) + WARMUP;
    const floor = (connections: number) => (connections === 1 ? { refresh: 2500, code: 2500, op: 1200 } : { refresh: 9000, code: 8000, op: 2500 });
    const rate = { refresh: 0, code: 0, op: 0 };
    const mintMs: Record<string, number> = { mock: 0, 'oidc-provider': 0 };
    const timed = async <T,>(who: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        mintMs[who]! += performance.now() - t0;
      }
    };
    const access = (await mock.mint('access', 64)).items;
    const opRsPool = opRs ? (await opRs.mint('refresh', size(1500))).items : undefined;
    // Whatever ran alongside the start-up (the memory children) is done before any timing.
    await beforeMeasuring();

    const refreshBody = (token: string, clientId: string) => `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}&client_id=${encodeURIComponent(clientId)}`;
    const fixed = (body: string): ((i: number) => LoadRequest) => () => ({ method: 'POST', path: '/token', headers: FORM, body });
    const sample = refreshBody('x'.repeat(43), info.publicClientId!);

    const results: PhaseResult[] = [];
    for (const connections of LEVELS) {
      const want = floor(connections);
      const [[refreshPool, codePool], opPool] = await Promise.all([
        timed('mock', async (): Promise<[string[], string[]]> => [
          (await mock.mint('refresh', size(Math.max(want.refresh, 2 * rate.refresh)))).items,
          (await mock.mint('code', size(Math.max(want.code, 2 * rate.code)))).items,
        ]),
        timed('oidc-provider', async () => (await op.mint('refresh', size(Math.max(want.op, 2 * rate.op)))).items),
      ]);
      const phases: Phase[] = [
        { name: 'bare node:http (fixed JSON)', server: bare, next: fixed(sample) },
        { name: `signing floor (jose SignJWT ${sign.ready.info.alg})`, server: sign, next: fixed(sample) },
        {
          name: 'mock refresh grant',
          server: mock,
          next: fromPool(refreshPool, (t) => ({ method: 'POST', path: '/token', headers: FORM, body: refreshBody(t, info.publicClientId!) })),
        },
        {
          name: 'oidc-provider refresh grant',
          server: op,
          next: fromPool(opPool, (t) => ({ method: 'POST', path: '/token', headers: FORM, body: refreshBody(t, op.ready.info.publicClientId!) })),
        },
        {
          name: 'mock authorization_code',
          server: mock,
          next: fromPool(codePool, (item) => {
            const [code, verifier] = item.split(' ');
            return {
              method: 'POST',
              path: '/token',
              headers: FORM,
              body: `grant_type=authorization_code&code=${code}&code_verifier=${verifier}&client_id=${encodeURIComponent(info.publicClientId!)}&redirect_uri=${encodeURIComponent(info.redirectUri!)}`,
            };
          }),
        },
        {
          name: 'mock introspection',
          server: mock,
          next: (i) => ({
            method: 'POST',
            path: info.introspectionPath!,
            headers: { ...FORM, authorization: info.confidentialAuth! },
            body: `token=${encodeURIComponent(access[i % access.length]!)}`,
          }),
        },
      ];
      if (opRs && opRsPool && connections === 64) {
        phases.push({
          name: 'oidc-provider refresh grant (RS256)',
          server: opRs,
          next: fromPool(opRsPool, (t) => ({ method: 'POST', path: '/token', headers: FORM, body: refreshBody(t, opRs.ready.info.publicClientId!) })),
        });
      }
      for (const r of await measureLevel(phases, connections)) {
        results.push(r);
        if (r.name === 'mock refresh grant') rate.refresh = r.rps;
        if (r.name === 'mock authorization_code') rate.code = r.rps;
        if (r.name === 'oidc-provider refresh grant') rate.op = r.rps;
        out(
          `  ${String(connections).padStart(2)} conn  ${r.name.padEnd(38)} ${fmt(r.rps).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  server CPU ${r.serverCpuMicros.toFixed(0).padStart(4)} µs/req${r.exhausted ? `  (pool ran dry after ${(r.elapsedMs / 1000).toFixed(2)} s)` : ''}`,
        );
      }
    }
    const notes: Record<string, string> = {
      mock: info.notes ?? '',
      'oidc-provider': op.ready.info.notes ?? '',
    };
    if (opRs) notes['oidc-provider RS256'] = opRs.ready.info.notes ?? '';
    return { results, notes, mintMs };
  } finally {
    for (const s of all) s.close();
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
}

// ---------------------------------------------------------------- suites section

function runChild(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${argv.join(' ')} exited with ${code}`))));
  });
}

async function suitesSection(): Promise<SuiteRun[]> {
  const profiles = quick ? 'telenorid-plus' : 'telenorid-plus,erp-net';
  const text = await runChild(process.execPath, ['--import', 'tsx', `${HERE}suites.ts`, '--transports', 'direct,msw,http', '--profiles', profiles]);
  const runs = text.trim().split('\n').map((l) => JSON.parse(l) as SuiteRun);
  for (const r of runs) {
    out(
      `  ${r.profile.padEnd(15)} ${r.transport.padEnd(6)} ${(r.ms / 1000).toFixed(2).padStart(5)} s   ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped; longest lifetime covered ${Math.round(r.longestLifetimeSeconds / 86400)} days` +
        (r.firstFailure ? `\n      first failure: ${r.firstFailure}` : ''),
    );
  }
  return runs;
}

// ---------------------------------------------------------------- memory section

interface MemoryFigures {
  tsx: MemoryResult[];
  plain: MemoryResult[];
}

async function memorySection(): Promise<MemoryFigures> {
  const families = 100_000;
  const profile = `${ROOT}fixtures/profiles/telenorid-plus.json`;
  // As `npm run mock-idp` runs it (under the tsx loader), and bundled for plain node (no loader in the process).
  // Two levels below the root, as mock-idp/profile/ is: in the bundle, import.meta.url stands for the
  // sources', which find their data relative to themselves (load.ts reads ../../fixtures/profiles/ at start).
  const bundleDir = `${ROOT}node_modules/.cache`;
  mkdirSync(bundleDir, { recursive: true });
  const bundle = `${bundleDir}/refresh-conformance-bench-memory.mjs`;
  await runChild(`${ROOT}node_modules/.bin/esbuild`, [
    `${HERE}memory.ts`, '--bundle', '--platform=node', '--format=esm', '--packages=external', '--target=node20', `--outfile=${bundle}`, '--log-level=warning',
  ]);
  const modes: Array<'store' | 'handler'> = quick ? ['store'] : ['store', 'handler'];
  const result: MemoryFigures = { tsx: [], plain: [] };
  for (const mode of modes) {
    // The two children at once: resident size does not depend on how fast they run.
    const [tsx, plain] = await Promise.all([
      runChild(process.execPath, ['--expose-gc', '--import', 'tsx', `${HERE}memory.ts`, mode, String(families), profile]),
      runChild(process.execPath, ['--expose-gc', bundle, mode, String(families), profile]),
    ]);
    result.tsx.push(JSON.parse(tsx) as MemoryResult);
    result.plain.push(JSON.parse(plain) as MemoryResult);
  }
  return result;
}

function printMemory(m: MemoryFigures): void {
  for (const [i, tsx] of m.tsx.entries()) {
    for (const [label, r] of [['tsx', tsx], ['plain node', m.plain[i]!]] as const) {
      out(
        `  ${r.mode.padEnd(8)} ${label.padEnd(10)} ${mb(r.rss).padStart(6)} MB resident with ${fmt(r.families)} families (process at start ${mb(r.baselineRss)} MB; +${fmt(r.bytesPerFamily)} B/family; heap used ${mb(r.heapUsed)} MB; made in ${(r.ms / 1000).toFixed(1)} s)`,
      );
    }
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

// ---------------------------------------------------------------- main

const started = performance.now();
const m = machine();
out(`refresh-conformance benchmarks (${quick ? 'quick' : 'full'} mode)`);
out(`machine: ${m.nproc} CPUs (nproc), ${m.model}, node ${m.node}, load average at start ${m.load}`);
if (args['mock-root']) out(`mock under test: ${path.resolve(args['mock-root'])}/mock-idp`);
out();

const report: Record<string, unknown> = { mode: quick ? 'quick' : 'full', machine: m, startedAt: new Date().toISOString() };
let http: HttpFigures | undefined;
let suites: SuiteRun[] | undefined;
let replicas: ReplicaFigures | undefined;
let memory: MemoryFigures | undefined;

// The memory children do not need a quiet machine: they run while the HTTP servers start and mint.
const memoryRun = sections.has('memory') ? memorySection() : undefined;
memoryRun?.catch(() => undefined);
// Nor does starting the replicas' servers (Redis and five processes, idle until their section).
const withRedis = sections.has('replicas') && existsSync('/usr/bin/redis-server');
const replicaServers = withRedis ? import('./replicas.ts').then((r) => r.startReplicaServers(mockRoot)) : undefined;
replicaServers?.catch(() => undefined);
if (sections.has('http')) {
  out(`token endpoint over loopback HTTP (${PHASE_MS / 1000} s per phase in ${SLICES} slices interleaved with the other servers', after ${WARMUP} warm-up requests; load generator: undici Pool, pipelining 1, in the parent process; each server in its own process)`);
  const t = performance.now();
  http = await httpSection(async () => Promise.all([memoryRun?.catch(() => undefined), replicaServers?.catch(() => undefined)]));
  report.http = http;
  out(`  (${((performance.now() - t) / 1000).toFixed(1)} s, of which minting single-use tokens and codes ${(Math.max(...Object.values(http.mintMs)) / 1000).toFixed(1)} s)`);
  out();
}
if (sections.has('replicas')) {
  await memoryRun?.catch(() => undefined);
  if (!replicaServers) {
    out('replicas: skipped, /usr/bin/redis-server is not installed (apt-get install redis-server)');
  } else {
    // Every warm-up request of a Redis set-up is a token minted through Redis beforehand: fewer in quick mode.
    const warmup = quick ? 100 : WARMUP;
    out(`refresh grant on mock replicas sharing one Redis store, against the single in-memory process (${PHASE_MS / 1000} s per set-up in ${SLICES} interleaved slices, after ${warmup} warm-up requests; connections spread evenly over the replicas)`);
    const t = performance.now();
    const { replicasSection } = await import('./replicas.ts');
    replicas = await replicasSection(await replicaServers, { quick, phaseMs: PHASE_MS, slices: SLICES, warmup, out });
    report.replicas = replicas;
    out(`  ${replicas.notes}`);
    out(`  (${((performance.now() - t) / 1000).toFixed(1)} s, of which minting single-use tokens ${(replicas.mintMs / 1000).toFixed(1)} s)`);
  }
  out();
}
if (sections.has('suites')) {
  await memoryRun?.catch(() => undefined);
  out('suites: the whole catalogue against the embedded mock, in a fresh process (the run pipeline: runCatalogue)');
  const t = performance.now();
  suites = await suitesSection();
  report.suites = suites;
  out(`  (${((performance.now() - t) / 1000).toFixed(1)} s with process start-up)`);
  out();
}
if (memoryRun) {
  out('memory: resident size after GC, 100 000 live token families (a login each: SSO session, family, refresh token, access token)');
  memory = await memoryRun;
  printMemory(memory);
  report.memory = memory;
  out();
}

// ---------------------------------------------------------------- summary

out(`summary (${quick ? 'quick' : 'full'} mode, ${((performance.now() - started) / 1000).toFixed(0)} s, load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
const summary: string[] = [];
if (http) {
  const peak = (name: string) => Math.max(...http!.results.filter((r) => r.name.startsWith(name)).map((r) => r.rps));
  const at = (name: string, c: number) => http!.results.find((r) => r.name.startsWith(name) && r.connections === c);
  const mock = peak('mock refresh grant');
  const op = peak('oidc-provider refresh grant');
  const floor = peak('signing floor');
  const bare = peak('bare node:http');
  summary.push(`refresh grant: ${(mock / op).toFixed(1)}x oidc-provider, ${Math.round((100 * mock) / floor)}% of signing floor (peak req/s over 1/16/64 connections: mock ${fmt(mock)}, oidc-provider ${fmt(op)}, floor ${fmt(floor)}, bare node:http ${fmt(bare)}; targets 3x and 50%)`);
  const cpu = (name: string) => at(name, 64)?.serverCpuMicros ?? NaN;
  summary.push(
    `server CPU per request at 64 connections: mock refresh ${cpu('mock refresh grant').toFixed(0)} µs, oidc-provider refresh ${cpu('oidc-provider refresh grant').toFixed(0)} µs, signing floor ${cpu('signing floor').toFixed(0)} µs, bare ${cpu('bare node:http').toFixed(0)} µs`,
  );
  summary.push(`authorization_code: ${fmt(peak('mock authorization_code'))} req/s peak; introspection: ${fmt(peak('mock introspection'))} req/s peak`);
}
if (replicas) {
  const top = Math.max(...replicas.results.map((r) => r.connections));
  const at = replicas.results.filter((r) => r.connections === top);
  const memory = at.find((r) => r.store === 'in-memory')!;
  summary.push(
    `replicas on Redis, refresh grant at ${top} connections: ${at
      .filter((r) => r.store === 'redis')
      .map((r) => `${r.replicas} replica${r.replicas > 1 ? 's' : ''} ${r.ratio.toFixed(2)}x (${fmt(r.rps)} req/s)`)
      .join(', ')} of the single in-memory process (${fmt(memory.rps)} req/s) on ${m.nproc} CPUs`,
  );
}
if (suites) {
  const worst = suites.reduce((a, b) => (b.ms > a.ms ? b : a));
  summary.push(
    `suites: ${suites.map((s) => `${s.transport}/${s.profile} ${(s.ms / 1000).toFixed(1)} s`).join(', ')}; slowest ${(worst.ms / 1000).toFixed(1)} s (target 5 s)${suites.some((s) => s.failed) ? '; SOME CHECKS FAILED' : ''}`,
  );
}
if (memory) {
  const s = (list: MemoryResult[]) => list.find((r) => r.mode === 'store')!;
  summary.push(
    `memory: 100 000 families ${mb(s(memory.plain).rss)} MB resident under plain node, ${mb(s(memory.tsx).rss)} MB under tsx (target 200 MB; ${fmt(s(memory.plain).bytesPerFamily)} B per family)`,
  );
}
for (const line of summary) out(line);
report.summary = summary;
if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
