/** Small helpers shared by the checks. */
import { isRefreshPolicy, type Policy, type Profile, type RefreshPolicy } from '../../mock-idp/profile/index.ts';
import { refreshOutcomeAt, replay, slidesUntil, type Outcome } from '../../mock-idp/profile/model.ts';
import { inconclusive } from './expect.ts';
import type { ApplicabilityInput, CheckContext } from './types.ts';

/**
 * The slack checks declare in waits() and applicability for a boundary of `lifetime` on a real clock
 * (an upper bound of what timing.ts adds: the whole-second second and the measured jitter).
 */
export function realMargin(lifetime: number): number {
  return Math.max(2, Math.ceil(lifetime * 0.1));
}

export function refreshPolicy(i: ApplicabilityInput): RefreshPolicy | string {
  if (!i.policy.refresh) return `policy ${i.client.policy} does not issue refresh tokens`;
  if (!isRefreshPolicy(i.policy)) return `policy ${i.client.policy} lacks refresh fields`;
  return i.policy;
}

export function interactive(i: ApplicabilityInput): true | string {
  return i.policy.grantTypes.includes('authorization_code') ? true : `policy ${i.client.policy} has no interactive (authorization_code) login`;
}

/** Applies when the policy refreshes and `extra` holds. */
export function whenRefresh(extra?: (p: RefreshPolicy, i: ApplicabilityInput) => true | string) {
  return (i: ApplicabilityInput): true | string => {
    const p = refreshPolicy(i);
    if (typeof p === 'string') return p;
    return extra ? extra(p, i) : true;
  };
}

/** The policy of a check whose applies() already proved it refreshes. */
export function rp(t: { policy: Policy }): RefreshPolicy {
  if (!isRefreshPolicy(t.policy)) throw new TypeError('check ran for a policy without refresh');
  return t.policy;
}

export function scopeOf(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}

export function days(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The target's time in Unix seconds: the mock's clock for a mock clock, the harness's for a real one. */
export async function targetNow(t: Pick<CheckContext, 'clock'>): Promise<number> {
  if (t.clock.targetTime) return t.clock.targetTime();
  if (t.clock.kind === 'real') return Math.floor(Date.now() / 1000);
  return inconclusive('the mock clock cannot be read: no time to judge against');
}

// ---------------------------------------------------------------- the refresh model's answers
// The rules live in mock-idp/profile/model.ts; the checks ask it, never work them out themselves.
// Its times are seconds after the login; timing.ts turns them into measured boundaries.

type ModelInput = Pick<ApplicabilityInput, 'profile' | 'policy'> & { client: { policy: string } };

const accepted = (o: Outcome): boolean => o.kind === 'rotated' || o.kind === 'repeated' || o.kind === 'extended' || o.kind === 'kept' || o.kind === 'consumed';

/**
 * The profile with the check's policy declared sliding: the IdP a fixed-expiry check tells apart
 * (a refresh that would have renewed a sliding token must not renew a fixed one).
 */
export function asSliding(i: ModelInput): Profile {
  const policy = { ...rp(i), expiry: 'sliding' as const };
  return { ...i.profile, policies: { ...i.profile.policies, [i.client.policy]: policy } };
}

/**
 * Until when (seconds after login, exclusive) a refresh of the login's token renews its lifetime
 * where the policy slides (for a fixed policy: where it would slide): the lifetime, or the SSO
 * session's end where the model says a refresh after it no longer slides.
 */
export function renewsUntil(i: ModelInput): number {
  return Math.min(rp(i).lifetimeSeconds, slidesUntil(asSliding(i), i.client.policy));
}

/**
 * A refresh of the login's token at t (seconds after login) returns a new refresh token (the model:
 * rotation declared, and any rotateAfterLifetimePercent reached), or why not.
 */
export function rotatesAt(i: ModelInput, t: number): true | string {
  const o = refreshOutcomeAt(i.profile, i.client.policy, t);
  if (o.kind === 'rotated') return true;
  const p = rp(i);
  const when = t === 0 ? 'right after login' : `${days(t)} after login`;
  if (!p.rotation) return `policy ${i.client.policy} declares no rotation`;
  if (p.rotateAfterLifetimePercent !== undefined && o.kind === 'kept') {
    return `policy ${i.client.policy} rotates only once ${p.rotateAfterLifetimePercent} % of a token's ${days(p.lifetimeSeconds)} lifetime has passed: a refresh ${when} keeps the token`;
  }
  return `a refresh ${when} does not rotate (${o.kind === 'refused' ? o.reason : o.kind})`;
}

/** A refresh right after the login rotates (what the rotation checks exercise), or why not. */
export function rotatesOnRefresh(i: ModelInput): true | string {
  return rotatesAt(i, 0);
}

/** A refresh of the login's token at t (seconds after login) is accepted by the model, or why not. */
export function refreshAcceptedAt(i: ModelInput, t: number): true | string {
  const o = refreshOutcomeAt(i.profile, i.client.policy, t);
  return accepted(o) ? true : `a refresh ${days(t)} after login is refused (${o.kind === 'refused' ? o.reason : o.kind})`;
}

export interface ReuseOutcome {
  /** Presenting the rotated-out token after its grace is refused. */
  refused: boolean;
  /** The reuse revoked the family: the newest token is refused too. */
  familyRevoked: boolean;
  /** The newest token is still accepted after the reuse. */
  newestWorks: boolean;
}

/**
 * Rotation: login, refresh at 0 (t0 → t1), then reuse t0 once any grace window has passed (at
 * `after`), then present t1. `after` is the first whole second with no grace: the model decides.
 */
export function reuseAfterRotation(i: ModelInput): ReuseOutcome & { after: number } {
  const after = graceEndsAfter(i);
  const steps = replay(i.profile, i.client.policy, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'refresh', at: 0, token: 't0', as: 't1' },
    { kind: 'refresh', at: after, token: 't0', as: 'reused' },
    { kind: 'refresh', at: after, token: 't1', as: 't2' },
  ]);
  const reuse = steps[2]!.outcome;
  const newest = steps[3]!.outcome;
  return {
    after,
    refused: reuse.kind === 'refused',
    familyRevoked: reuse.kind === 'refused' && reuse.familyRevoked,
    newestWorks: accepted(newest),
  };
}

/** The first whole second after a rotation at 0 at which the rotated-out token gets no grace retry. */
function graceEndsAfter(i: ModelInput): number {
  const retried = (w: number) =>
    replay(i.profile, i.client.policy, [
      { kind: 'issue', at: 0, token: 't0' },
      { kind: 'refresh', at: 0, token: 't0', as: 't1' },
      { kind: 'refresh', at: w, token: 't0', as: 'retry' },
    ]).at(-1)!.outcome.kind !== 'refused';
  let w = 0;
  // The grace window is bounded by the token's lifetime: a retry past it is an expiry refusal.
  while (retried(w) && w < rp(i).lifetimeSeconds) w = w === 0 ? 1 : w * 2;
  if (w === 0) return 0;
  let lo = Math.floor(w / 2);
  let hi = w;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (retried(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** How many of n concurrent presentations of the login's token the model accepts. */
export function concurrentWinners(i: ModelInput, n: number): number {
  return replay(i.profile, i.client.policy, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'concurrent', at: 0, token: 't0', n },
  ]).filter((s) => s.event === 1 && accepted(s.outcome)).length;
}
