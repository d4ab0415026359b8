/** Small helpers shared by the checks. */
import { isRefreshPolicy, type Policy, type Profile, type RefreshPolicy } from '../../mock-idp/profile/index.ts';
import { issueOutcome, refreshExpiresIn, refreshIdToken, refreshOutcomeAt, replay, slidesUntil, termsOf, type ModelEvent, type Outcome } from '../../mock-idp/profile/model.ts';
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

/**
 * The rotation at 0 (t0 → t1, t1 never presented) and retries of t0 after it, as the model answers
 * them: `at`, the first second a retry is a grace retry (a new refresh token, not the same-second
 * repeat of concurrentRefresh "same-successor"); `count`, how many retries in a row succeed at `at`
 * (profile graceReuseCount); `until`, the last second a first retry succeeds (graceWindowSeconds);
 * `endsBy`, the guard that refuses a retry the second after `until` ('reuse': the window's end, not
 * the token's expiry). undefined: no retry ever gets a new refresh token.
 */
export interface GraceRetries {
  at: number;
  count: number;
  until: number;
  endsBy: string;
}

/** More retries than any profile allows in a row: the count is capped here, and a cap this high is refused as unobservable. */
const RETRY_CAP = 64;

export function graceRetries(i: ModelInput): GraceRetries | undefined {
  const rotation: ModelEvent[] = [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'refresh', at: 0, token: 't0', as: 't1' },
  ];
  const retries = (at: number, n: number) =>
    replay(i.profile, i.client.policy, [...rotation, ...Array.from({ length: n }, (): ModelEvent => ({ kind: 'refresh', at, token: 't0' }))]).slice(2);
  const until = graceEndsAfter(i) - 1;
  const at = [0, 1].find((w) => w <= until && retries(w, 1)[0]!.outcome.kind === 'rotated');
  if (at === undefined) return undefined;
  const outcomes = retries(at, RETRY_CAP + 1).map((s) => s.outcome);
  const count = outcomes.findIndex((o) => !accepted(o));
  const after = retries(until + 1, 1)[0]!.outcome;
  return { at, count: count < 0 ? RETRY_CAP + 1 : count, until, endsBy: after.kind === 'refused' ? after.by : after.kind };
}

/**
 * n concurrent presentations of the login's token: how many the model accepts, and how many
 * distinct refresh tokens those successes carry (concurrentRefresh "same-successor": one).
 */
export function concurrentSuccessors(i: ModelInput, n: number): { winners: number; successors: number } {
  const outcomes = replay(i.profile, i.client.policy, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'concurrent', at: 0, token: 't0', n },
  ])
    .filter((s) => s.event === 1 && accepted(s.outcome))
    .map((s) => s.outcome);
  const tokens = new Set(outcomes.map((o) => (o.kind === 'rotated' || o.kind === 'repeated' ? o.token : 't0')));
  return { winners: outcomes.length, successors: tokens.size };
}

/** Does the code exchange issue a refresh token without offline access (profile refreshTokenIssuance "always": an online token)? */
export function onlineTokenIssued(i: ModelInput): boolean {
  const o = issueOutcome(i.profile, i.client.policy, false);
  return o.kind === 'issued' && o.online;
}

/** The profile with the check's policy and the online tokens uncapped: the IdP a cap check tells apart. */
function withoutMax(i: ModelInput): Profile {
  const { maxLifetimeSeconds: _max, ...policy } = rp(i);
  const { maxLifetimeSeconds: _online, ...onlineTokens } = i.profile.onlineTokens;
  return { ...i.profile, onlineTokens, policies: { ...i.profile.policies, [i.client.policy]: policy } };
}

/** More refreshes than a check should make to reach a cap. */
const MAX_CAP_REFRESHES = 100;

export type CapSchedule =
  | {
      observable: true;
      /** Refresh times (seconds after login), each inside the idle lifetime of the one before. */
      refreshes: number[];
      /** The family's maximum: a refresh from then on is refused, though the token was used less than a lifetime ago. */
      max: number;
      lifetime: number;
    }
  | { observable: false; reason: string };

/**
 * Sliding with an absolute maximum (policies.*.maxLifetimeSeconds): refresh every half idle lifetime
 * until the maximum, then present the newest token at the maximum. Observable where the model
 * accepts every refresh of the schedule and refuses the probe for its expiry, while the same IdP
 * without the maximum would accept it (so the refusal is the cap's, not the SSO session's).
 */
export function absoluteCap(i: ModelInput): CapSchedule {
  const p = rp(i);
  const terms = termsOf(i.profile, p, false);
  if (terms.maxLifetimeSeconds === undefined) return { observable: false, reason: `policy ${i.client.policy} declares no absolute maximum (${p.expiry} expiry)` };
  const L = terms.lifetimeSeconds;
  const M = terms.maxLifetimeSeconds;
  const every = Math.max(1, Math.floor(L / 2));
  const refreshes = Array.from({ length: Math.ceil(M / every) - 1 }, (_, k) => (k + 1) * every).filter((t) => t < M);
  if (refreshes.length > MAX_CAP_REFRESHES) return { observable: false, reason: `reaching the ${days(M)} maximum takes ${refreshes.length} refreshes of a ${days(L)} idle lifetime` };
  if (refreshes.length === 0) return { observable: false, reason: `the ${days(M)} maximum leaves no refresh inside the ${days(L)} idle lifetime` };
  const history = (profile: Profile) => {
    const events: ModelEvent[] = [{ kind: 'issue', at: 0, token: 'g0' }];
    let current = 'g0';
    const steps = () => replay(profile, i.client.policy, events);
    for (const [k, at] of refreshes.entries()) {
      events.push({ kind: 'refresh', at, token: current, as: `g${k + 1}` });
      if (steps().at(-1)!.outcome.kind === 'rotated') current = `g${k + 1}`;
    }
    events.push({ kind: 'refresh', at: M, token: current, as: 'probe' });
    return steps();
  };
  const capped = history(i.profile);
  const missed = capped.slice(1, -1).find((s) => s.outcome.kind !== 'rotated' && s.outcome.kind !== 'extended');
  if (missed) return { observable: false, reason: `a refresh ${days(missed.at)} after login does not renew the token (${missed.outcome.kind === 'refused' ? missed.outcome.reason : missed.outcome.kind})` };
  const probe = capped.at(-1)!.outcome;
  if (probe.kind !== 'refused' || probe.by !== 'expiry') return { observable: false, reason: `a refresh at the ${days(M)} maximum is not refused for its expiry (${probe.kind})` };
  const contrast = history(withoutMax(i)).at(-1)!.outcome;
  if (!accepted(contrast)) return { observable: false, reason: `without the maximum a refresh at ${days(M)} would be refused too (${contrast.kind === 'refused' ? contrast.reason : contrast.kind})` };
  return { observable: true, refreshes, max: M, lifetime: L };
}

/** What the client is told the refresh token has left (profile refreshExpiresIn): on the code exchange, and on a refresh t seconds after login. */
export function refreshExpiresInAt(i: ModelInput, t: number): { login: number | undefined; refresh: number | undefined } {
  const steps = replay(i.profile, i.client.policy, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'refresh', at: t, token: 't0' },
  ]);
  return { login: refreshExpiresIn(i.profile, steps[0]!), refresh: refreshExpiresIn(i.profile, steps[1]!) };
}

/** The id_token a refresh response owes for the client's scope (OIDC Core §12.2; profile idTokenOnRefresh). */
export function refreshIdTokenRule(i: Pick<ApplicabilityInput, 'profile' | 'client'>): 'required' | 'absent' | 'optional' {
  return refreshIdToken(i.profile, scopeOf(i.client.scope ?? 'openid'));
}
