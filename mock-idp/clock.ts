/**
 * The mock's only notion of time. Nothing else reads the wall clock: tokens that live
 * 14 or 90 days are tested by moving this clock, not by waiting.
 */
import { MAX_ADVANCE_SECONDS, MAX_CLOCK_OFFSET_SECONDS } from './limits.ts';

export interface Clock {
  /** Current time in epoch seconds (integer; JWT NumericDate granularity). */
  now(): number;
  /** Moves time forward (at most MAX_ADVANCE_SECONDS at once, MAX_CLOCK_OFFSET_SECONDS in all); returns the new now. */
  advance(seconds: number): number;
  /** Back to the time the clock started at (a frozen clock) / to real time (a running clock). */
  reset(): void;
  /** Sets the offset to one several replicas agree on (MockStore.clockOffset). */
  sync(offset: number): void;
}

/** The whole seconds an advance of `seconds` moves the clock; a RangeError when it is not a number from 0 to MAX_ADVANCE_SECONDS. */
export function advanceSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_ADVANCE_SECONDS) {
    throw new RangeError(`advance: seconds must be a number from 0 to ${MAX_ADVANCE_SECONDS}`);
  }
  return Math.floor(seconds);
}

/** The RangeError of an advance that would take the clock past MAX_CLOCK_OFFSET_SECONDS. */
export function offsetTooLarge(): RangeError {
  return new RangeError(`advance: the clock may run at most ${MAX_CLOCK_OFFSET_SECONDS} seconds ahead of its start`);
}

export interface ClockOptions {
  /** frozen: time moves only through advance() (tests); running: real time plus offset (servers). */
  mode?: 'frozen' | 'running';
  /** Start time in epoch seconds (frozen mode); default: the wall clock at creation. */
  start?: number;
  /** The wall clock: injectable so even this is replaceable. */
  wall?: () => number;
}

export function createClock(options: ClockOptions = {}): Clock {
  const wall = options.wall ?? (() => Date.now() / 1000);
  const start = options.start ?? Math.floor(wall());
  const frozen = (options.mode ?? 'frozen') === 'frozen';
  let offset = 0;
  const base = () => (frozen ? start : Math.floor(wall()));
  return {
    now: () => base() + offset,
    advance(seconds) {
      const s = advanceSeconds(seconds);
      if (offset + s > MAX_CLOCK_OFFSET_SECONDS) throw offsetTooLarge();
      offset += s;
      return base() + offset;
    },
    reset() {
      offset = 0;
    },
    sync(to) {
      offset = to;
    },
  };
}
