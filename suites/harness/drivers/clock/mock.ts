/**
 * The mock IdP's clock: waiting is advancing it (`POST ${issuer}/__control/clock/advance` `{ seconds }`,
 * or the embedded mock's `control.advance(seconds)`). Instant, so any wait is possible.
 */
import type { ClockControl } from '../control.ts';
import { invalidWait, type Clock } from './types.ts';

export function createMockClock(control: ClockControl): Clock {
  const canWait = (seconds: number): true | string => invalidWait(seconds) ?? true;
  return {
    kind: 'mock',
    canWait,
    async wait(seconds) {
      const bad = invalidWait(seconds);
      if (bad) throw new RangeError(bad);
      await control.advance(seconds);
    },
  };
}
