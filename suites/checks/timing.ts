/**
 * Boundaries from measured times (README "Real clock"). A token whose request left at `sentAt` and
 * whose answer came at `receivedAt` was issued in between; with lifetime L the server sets
 * exp = floor(issue) + L and treats exp <= floor(now) as expired. So the token is surely alive up to
 * sentAt + L - 1 and surely dead from receivedAt + L + 1 (the extra second covers servers that round
 * the other way). A request aimed at a "surely alive" bound leaves `t.clock.jitter()` before it (its
 * latency and a late timer only move it later); one aimed at a "surely dead" bound needs no slack
 * (later is still dead). The jitter is 0 on the mock clock, where times are exact. A probe whose
 * window cannot hold that is inconclusive, with the numbers.
 */
import { inconclusive } from './expect.ts';
import type { CheckContext, LoginSession, Tokens } from './types.ts';

/** When a token's request left and its answer came, on the check's clock. */
export type Issued = Pick<Tokens, 'sentAt' | 'receivedAt'>;

/** The last moment a token of `lifetime` seconds is surely alive. */
export function aliveUntil(issued: Issued, lifetime: number): number {
  return issued.sentAt + lifetime - 1;
}

/** The first moment a token of `lifetime` seconds is surely dead. */
export function deadFrom(issued: Issued, lifetime: number): number {
  return issued.receivedAt + lifetime + 1;
}

/** The last moment the login's SSO session is surely active: it began no earlier than the login did. */
export function ssoActiveUntil(t: Pick<CheckContext, 'profile'>, session: Pick<LoginSession, 'startedAt'>): number {
  return session.startedAt + t.profile.ssoSessionLifetimeSeconds - 1;
}

/** The first moment the login's SSO session is surely over: it began before the code exchange answered. */
export function ssoEndedFrom(t: Pick<CheckContext, 'profile'>, session: Pick<LoginSession, 'tokens'>): number {
  return session.tokens.receivedAt + t.profile.ssoSessionLifetimeSeconds + 1;
}

/** "0.8 s", "3 s": seconds as the messages show them. */
export function secs(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/**
 * Lets time pass until `at` on the check's clock (at once if that is already past; again if a timer
 * fired early, a few times at most: a clock whose waits do not move its time is our bug, never a hang).
 */
export async function waitUntil(t: Pick<CheckContext, 'clock'>, at: number, why: string): Promise<void> {
  let left = at - t.clock.now();
  for (let tries = 0; left > 1e-6; tries++, left = at - t.clock.now()) {
    if (tries === 5) throw new Error(`the check's clock did not reach ${secs(at)} after 5 waits (${secs(left)} left): ${why}`);
    await t.clock.wait(left, why);
  }
}

/**
 * The moment to probe inside [from, to]: `from`, or now if later. Inconclusive when that leaves less
 * than the clock's jitter before `to`; `about` opens the reason ("lifetime 3 s").
 */
export function aimInside(t: Pick<CheckContext, 'clock'>, from: number, to: number, about: string): number {
  const m = t.clock.jitter();
  const aim = Math.max(from, t.clock.now());
  if (aim > to - m) {
    inconclusive(`${about}, window ${secs(Math.max(0, to - from))}, margin ${secs(m)}: too narrow to probe on this clock`);
  }
  return aim;
}

/**
 * An answer that came after `until` (the last moment the token, or session, it relies on was surely
 * alive) cannot tell the rule from an expiry: inconclusive. Call it where the outcome is one an
 * expiry would also explain (a refusal).
 */
export function unlessPast(answer: Issued, until: number, what: string): void {
  if (answer.receivedAt > until) {
    inconclusive(`${what} was answered at ${secs(answer.receivedAt)}, after ${secs(until)} when what it relies on was last surely alive (whole-second exp, measured times): the answer cannot be judged`);
  }
}
