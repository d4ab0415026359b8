/**
 * Real time against a real IdP: waits with setTimeout, abortably, reporting progress every few seconds.
 * A wait longer than the target's `clock.maxWaitSeconds` is refused with a SkipError, so a check that
 * needs 14 days of waiting is reported as skipped instead of hanging the run.
 */
import { SkipError } from '../../errors.ts';
import { invalidWait, type Clock, type WaitOptions } from './types.ts';

export interface WaitProgress {
  why: string;
  totalSeconds: number;
  secondsLeft: number;
}

export interface RealClockOptions {
  maxWaitSeconds: number;
  /** Called at the start of a wait and then every `progressEverySeconds` while it lasts. */
  onProgress?: (progress: WaitProgress) => void;
  progressEverySeconds?: number;
  /** Aborts every wait of this clock (e.g. the run's deadline). */
  signal?: AbortSignal;
}

export function createRealClock(options: RealClockOptions): Clock {
  const every = (options.progressEverySeconds ?? 10) * 1000;
  const canWait = (seconds: number): true | string => {
    const bad = invalidWait(seconds);
    if (bad) return bad;
    if (seconds > options.maxWaitSeconds) {
      return `needs a real-time wait of ${seconds} s, more than clock.maxWaitSeconds (${options.maxWaitSeconds} s)`;
    }
    return true;
  };
  return {
    kind: 'real',
    canWait,
    async wait(seconds: number, why: string, waitOptions: WaitOptions = {}) {
      const verdict = canWait(seconds);
      if (verdict !== true) throw new SkipError('SKIP_WAIT_TOO_LONG', `cannot wait for ${why}: ${verdict}`);
      const signals = [options.signal, waitOptions.signal].filter((s): s is AbortSignal => s !== undefined);
      const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      const end = Date.now() + seconds * 1000;
      for (;;) {
        const left = end - Date.now();
        if (left <= 0) return;
        // Unrounded, like totalSeconds: the printer rounds both alike (a 2.4 s wait is not "3 s left").
        options.onProgress?.({ why, totalSeconds: seconds, secondsLeft: left / 1000 });
        await sleep(Math.min(left, every), signal);
      }
    },
  };
}

/** setTimeout as a promise, rejecting with the signal's reason on abort. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
