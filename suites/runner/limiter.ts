/**
 * How many checks may do active work at once (`--concurrency N`, a target's `concurrency`, default
 * the number of CPUs): logins, browsers and token requests. A check waiting on the real clock gives
 * its slot back while it waits (run.ts), so waits still overlap however small N is.
 *
 * The CLI's group files run in several vitest worker processes (so that real-clock waits of different
 * groups overlap too); one cap for all of them is a slot server in the CLI process, on 127.0.0.1, that
 * the workers ask for slots over one connection each (`a` acquire, `g` granted, `r` release). A worker
 * that dies gives its slots back when its connection closes.
 */
import { connect, type Socket } from 'node:net';
import { serveLoopback, type LoopbackServer } from './loopback-server.ts';

export interface Limiter {
  /** Resolves with a release function once a slot is free; rejects with the signal's reason if aborted first. */
  acquire(signal?: AbortSignal): Promise<() => void>;
}

/** The in-process semaphore; `take`/`release` are the slot server's lower-level use of it. */
export interface LocalLimiter extends Limiter {
  /** Slots in use. */
  readonly active: number;
  /** Queues `onGrant` (called when a slot is taken for it); returns a function that withdraws it if not yet granted. */
  take(onGrant: () => void): () => void;
  /** Frees a slot granted through take(). */
  release(): void;
}

/** A semaphore of `size` slots, in-process; grants in request order. */
export function createLimiter(size: number): LocalLimiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    while (active < size && queue.length) {
      active++;
      queue.shift()!();
    }
  };
  const take = (onGrant: () => void) => {
    queue.push(onGrant);
    next();
    return () => {
      const i = queue.indexOf(onGrant);
      if (i >= 0) queue.splice(i, 1);
    };
  };
  const free = () => {
    active--;
    next();
  };
  return {
    get active() {
      return active;
    },
    take,
    release: free,
    acquire(given) {
      return new Promise((resolve, reject) => {
        if (given?.aborted) return reject(given.reason);
        const signal = watchable(given);
        const onAbort = () => {
          withdraw();
          reject(signal!.reason);
        };
        const withdraw = take(() => {
          signal?.removeEventListener('abort', onAbort);
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            free();
          });
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/**
 * A signal of its own that follows `signal`: every queued check watches the run's one deadline signal,
 * and listeners on a derived signal (AbortSignal.any keeps no listener on its source) do not pile up
 * on the shared one (Node warns past ten).
 */
function watchable(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal && AbortSignal.any([signal]);
}

export type LimiterServer = LoopbackServer;

/** The slot server of the CLI process: `size` slots shared by every connection. */
export async function serveLimiter(size: number): Promise<LimiterServer> {
  const limiter = createLimiter(size);
  return serveLoopback('slot server', (socket) => {
    let held = 0;
    const pending: Array<{ withdraw: () => void }> = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const op of chunk) {
        if (op === 'a') {
          // Queued before take(): the grant may come at once, inside take().
          const request = { withdraw: () => undefined as void };
          pending.push(request);
          request.withdraw = limiter.take(() => {
            pending.splice(pending.indexOf(request), 1);
            held++;
            socket.write('g');
          });
        } else if (op === 'r' && held > 0) {
          held--;
          limiter.release();
        }
      }
    });
    socket.on('close', () => {
      for (const request of pending.splice(0)) request.withdraw();
      for (; held > 0; held--) limiter.release();
    });
  });
}

/**
 * A limiter whose slots come from the slot server at 127.0.0.1:`port`. Grants arrive in request order;
 * an acquire aborted before its grant releases the slot as soon as it arrives.
 */
export function connectLimiter(port: number): Limiter {
  let socket: Socket | undefined;
  let failure: Error | undefined;
  const waiting: Array<(granted: boolean) => void> = [];
  const open = (): Socket => {
    if (socket) return socket;
    const s = connect({ host: '127.0.0.1', port });
    s.setEncoding('utf8');
    // The connection alone must not keep a finished worker alive.
    s.unref();
    s.on('data', (chunk: string) => {
      for (const op of chunk) if (op === 'g') waiting.shift()?.(true);
    });
    const fail = (e?: Error) => {
      failure = new Error(`the slot server at 127.0.0.1:${port} is gone${e ? `: ${e.message}` : ''}`);
      for (const w of waiting.splice(0)) w(false);
    };
    s.on('error', fail);
    s.on('close', () => fail());
    socket = s;
    return s;
  };
  return {
    acquire(given) {
      return new Promise((resolve, reject) => {
        if (given?.aborted) return reject(given.reason);
        if (failure) return reject(failure);
        const signal = watchable(given);
        const s = open();
        let aborted = false;
        const onAbort = () => {
          aborted = true;
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push((granted) => {
          signal?.removeEventListener('abort', onAbort);
          if (!granted) return reject(failure);
          if (aborted) return void s.write('r');
          let released = false;
          resolve(() => {
            if (released || s.destroyed) return;
            released = true;
            s.write('r');
          });
        });
        s.write('a');
      });
    },
  };
}
