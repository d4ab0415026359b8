/**
 * The load generator: an undici Pool with `connections` connections and pipelining 1 against a
 * loopback server, one request in flight per connection, for a bounded time (or until the
 * request source runs dry, e.g. a pool of single-use refresh tokens). Latency is measured per
 * request from send to the last body byte. It runs in the orchestrator process; the servers run
 * in their own child processes, so on 2 cores the generator and the server each have a core.
 *
 * A generator keeps its connections open across slices: the orchestrator measures several servers
 * in short interleaved slices, so that a burst of load from elsewhere on the machine hits all of
 * them alike, and adds the slices up.
 */
import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface SliceOptions {
  durationMs: number;
  /** The next request; undefined when the source is exhausted (the slice then ends early). */
  next: () => LoadRequest | undefined;
  /** At most this many requests (warm-up). Default: unbounded. */
  maxRequests?: number;
}

export interface Slice {
  latencies: number[];
  errors: number;
  firstError?: string;
  elapsedMs: number;
  exhausted: boolean;
}

export interface LoadResult {
  connections: number;
  requests: number;
  errors: number;
  /** First unexpected status or exception, to explain errors. */
  firstError?: string;
  elapsedMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** True when the request source ran dry before the time was up. */
  exhausted: boolean;
}

export class LoadGenerator {
  readonly #pool: Pool;

  constructor(
    origin: string,
    readonly connections: number,
    /** Expected status; anything else counts as an error. */
    readonly status = 200,
  ) {
    this.#pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** One request; resolves to an error description or undefined. */
  #one(req: LoadRequest): Promise<string | undefined> {
    return new Promise((resolve) => {
      let status = 0;
      // pool.dispatch with a bare handler (the Client-level interface, the one a Pool accepts directly
      // in undici 7): no Readable per response body, so the generator's own cost stays small.
      this.#pool.dispatch(
        { method: req.method, path: req.path, headers: req.headers ?? {}, ...(req.body !== undefined && { body: req.body }) },
        {
          onConnect() {},
          onHeaders(statusCode: number) {
            status = statusCode;
            return true;
          },
          onData() {
            return true;
          },
          onComplete: () => resolve(status === this.status ? undefined : `HTTP ${status} from ${req.method} ${req.path}`),
          onError: (error: Error) => resolve(error.message),
        },
      );
    });
  }

  async run(options: SliceOptions): Promise<Slice> {
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let exhausted = false;
    let sent = 0;
    const max = options.maxRequests ?? Infinity;
    const start = performance.now();
    const deadline = start + options.durationMs;
    const worker = async (): Promise<void> => {
      for (;;) {
        if (performance.now() >= deadline || sent >= max) return;
        const req = options.next();
        if (!req) {
          exhausted = true;
          return;
        }
        sent++;
        const t0 = performance.now();
        const error = await this.#one(req);
        latencies.push(performance.now() - t0);
        if (error !== undefined) {
          errors++;
          firstError ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: this.connections }, worker));
    return { latencies, errors, ...(firstError !== undefined && { firstError }), elapsedMs: performance.now() - start, exhausted };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The slices of one server at one connection count, added up. */
export function combine(connections: number, slices: readonly Slice[]): LoadResult {
  const latencies = Float64Array.from(slices.flatMap((s) => s.latencies)).sort();
  const errors = slices.reduce((n, s) => n + s.errors, 0);
  const elapsedMs = slices.reduce((n, s) => n + s.elapsedMs, 0);
  const firstError = slices.find((s) => s.firstError !== undefined)?.firstError;
  return {
    connections,
    requests: latencies.length,
    errors,
    ...(firstError !== undefined && { firstError }),
    elapsedMs,
    rps: (latencies.length - errors) / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    exhausted: slices.some((s) => s.exhausted),
  };
}
