/**
 * A MockStore over the in-memory Store that can be switched off and on: while off, every operation
 * rejects with StoreUnavailableError and nothing of it happens, as a store whose service (Redis) is
 * unreachable. Every answer is a promise, as a remote store's, so the core's awaits are real ones.
 * `failAfter(n)` lets the next n operations through and switches off at the one after (a store lost
 * in the middle of a request).
 */
import { Store, StoreUnavailableError, type MockStore, type StoreOptions } from '../store.ts';

type Operations = Omit<MockStore, 'replicated' | 'close'>;

export interface SwitchableStore extends MockStore {
  readonly inner: Store;
  /** Operations asked for so far (the ones refused while off too). */
  readonly calls: number;
  /** Off: every operation rejects. */
  down: boolean;
  /** The next `n` operations pass, then the store is off. */
  failAfter(n: number): void;
}

export function switchableStore(options: StoreOptions = {}): SwitchableStore {
  const inner = new Store(options);
  let left = Number.POSITIVE_INFINITY;
  let calls = 0;
  const state = {
    get calls() {
      return calls;
    },
    down: false,
    failAfter(n: number) {
      left = n;
    },
  };
  const gate = (name: keyof Operations) =>
    (...args: unknown[]): Promise<unknown> => {
      calls++;
      if (left-- <= 0) state.down = true;
      if (state.down) return Promise.reject(new StoreUnavailableError(`store unavailable (${name})`));
      return Promise.resolve((inner[name] as (...a: unknown[]) => unknown).apply(inner, args));
    };
  const store = Object.assign(state, { inner, replicated: inner.replicated }, Object.fromEntries(Object.keys(OPERATIONS).map((n) => [n, gate(n as keyof Operations)])));
  return store as typeof store & Operations;
}

/** Every operation of the interface: a key missing here is a compile error, so none passes ungated. */
const OPERATIONS: Record<keyof Operations, true> = {
  session: true, sessions: true, pendingLogin: true, code: true, family: true, families: true, refreshToken: true, accessToken: true, size: true,
  addSession: true, addPendingLogin: true, removePendingLogin: true, addCode: true, addFamily: true, addRefreshToken: true, addAccessToken: true,
  consumeCode: true, recordCodeIssue: true, revokeCodeIssue: true, rotateRefreshToken: true, useRefreshToken: true, revokeFamily: true, revokeAccessToken: true, endSession: true,
  clockOffset: true, advanceClock: true, resetClock: true, shared: true, rememberJti: true, sweep: true, clear: true,
};
