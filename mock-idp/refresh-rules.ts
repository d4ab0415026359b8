/**
 * The refresh decision as a pure function of the profile and the family's state:
 * what a successful refresh does to the presented token and whether a new one is issued.
 */
import type { Profile, RefreshPolicy } from './profile/index.ts';
import type { Family } from './store.ts';

export type RefreshOutcome =
  /** Issue a new refresh token expiring at expiresAt; the presented one is rotated out. */
  | { kind: 'rotate'; expiresAt: number }
  /** No rotation, sliding expiry: the presented token lives on with a new expiry. */
  | { kind: 'extend'; expiresAt: number }
  /** No new refresh token; the presented one stays usable until its own expiry. */
  | { kind: 'keep' }
  /** No new refresh token, and the presented one is used up. */
  | { kind: 'consume' }
  /** The refresh is refused (invalid_grant). */
  | { kind: 'refuse'; reason: string };

export interface RefreshInput {
  profile: Profile;
  policy: RefreshPolicy;
  family: Family;
  now: number;
  ssoActive: boolean;
}

export function decideRefresh({ profile, policy, family, now, ssoActive }: RefreshInput): RefreshOutcome {
  // 000_a8c14fb60ecbbef3.txt: "The client will only get a new refresh token if the SSO session still is active."
  if (!ssoActive && profile.refreshAfterSsoEnd !== 'new-refresh-token') {
    if (profile.refreshAfterSsoEnd === 'invalid_grant') return { kind: 'refuse', reason: 'SSO session is not active' };
    return profile.presentedTokenAfterSsoEnd === 'consumed' ? { kind: 'consume' } : { kind: 'keep' };
  }
  // Sliding: the lifetime starts again; fixed: the family's first issue + lifetime (000 §Refresh policies).
  const expiresAt = policy.expiry === 'sliding' ? now + policy.lifetimeSeconds : family.fixedExpiresAt;
  if (policy.rotation) return { kind: 'rotate', expiresAt };
  return policy.expiry === 'sliding' ? { kind: 'extend', expiresAt } : { kind: 'keep' };
}
