/**
 * How this IdP behaves, as one object: the profile it follows plus the few rule points a
 * deliberate defect (defects.ts) may replace. The correct behaviour is the default here;
 * endpoint and grant code consult this object instead of branching on defect names.
 */
import { type Policy, type Profile, isRefreshPolicy } from './profile/index.ts';
import { OAuthError, invalidGrant, invalidScope, type OAuthErrorCode } from './errors.ts';
import type { Family, MockStore, RefreshTokenRecord } from './store.ts';
import type { MockClient } from './fixtures.ts';

export interface RefreshGuardInput {
  store: MockStore;
  profile: Profile;
  client: MockClient;
  record: RefreshTokenRecord;
  family: Family;
  now: number;
  requestedScope: string[] | undefined;
}

/** One named precondition of the refresh grant; returns the error that refuses the request. */
export interface RefreshGuard {
  name: 'client-binding' | 'family-revoked' | 'reuse' | 'state' | 'expiry' | 'scope';
  check(input: RefreshGuardInput): OAuthError | undefined;
}

export interface Behaviour {
  /** The profile the IdP follows (a defect may alter a declaration). */
  profile: Profile;
  /** Does a token response of this grant carry a refresh token? */
  issuesRefreshToken(input: { policy: Policy; grantType: 'authorization_code' | 'client_credentials'; scope: string[] }): boolean;
  /** The refresh grant's guard clauses, in order. */
  refreshGuards: RefreshGuard[];
  /** Rotation retires the presented token (and any other active one of the family). */
  retiresRotatedToken: boolean;
  /** Check-and-rotate without yielding to the event loop: concurrent refreshes have one winner. */
  atomicRefresh: boolean;
  /** Confidential clients must authenticate for the refresh grant (RFC 6749 §6). */
  refreshRequiresClientAuth: boolean;
  /** RFC 7009 revocation of a refresh token revokes its family. */
  revocationRevokesFamily: boolean;
  /** Introspection reports revoked tokens inactive (RFC 7662 §2.2). */
  introspectionSeesRevocation: boolean;
  /** The sub claim of an ID token issued by the refresh grant (OIDC Core §12.2: unchanged). */
  refreshIdTokenSubject(sub: string): string;
  /** Access-token lifetime actually used, from the declared one. */
  accessTokenLifetime(declared: number): number;
  /** Error code as sent, from the correct one. */
  errorCode(code: OAuthErrorCode): OAuthErrorCode;
  /** Cache-Control: no-store / Pragma: no-cache on token responses (RFC 6749 §5.1). */
  noStore: boolean;
}

export const refreshGuards: RefreshGuard[] = [
  {
    // RFC 6749 §6 and §10.4: the refresh token is bound to the client it was issued to.
    name: 'client-binding',
    check: ({ record, client }) => (record.clientId !== client.id ? invalidGrant('refresh token was issued to another client') : undefined),
  },
  {
    name: 'family-revoked',
    check: ({ family }) => (family.revokedAt !== undefined ? invalidGrant(`refresh token is revoked (${family.revokedReason ?? 'revoked'})`) : undefined),
  },
  {
    // RFC 9700 §4.14.2: presenting a rotated-out token is a replay; revoke the family where the profile says so.
    // Grace (FAPI 2.0 §5.3.2.1: a retry when the response was lost): once, within the window, and only
    // if the token this one produced was never presented. A token superseded by such a retry was never
    // received by a legitimate client, so it is never eligible: two holders cannot keep swapping.
    name: 'reuse',
    check: ({ store, profile, record, family, now }) => {
      if (record.state !== 'rotated') return undefined;
      const active = family.tokens.findLast((t) => t.state === 'active');
      const inGrace =
        profile.graceWindowSeconds > 0 &&
        record.usedAt !== undefined &&
        !record.graceUsed &&
        active !== undefined &&
        active.hash === record.successor &&
        active.usedAt === undefined &&
        record.retiredAt !== undefined &&
        now - record.retiredAt <= profile.graceWindowSeconds;
      if (inGrace) return undefined;
      if (profile.reuseOfRotatedToken === 'revoke-family') {
        store.revokeFamily(family, now, 'rotated-out refresh token was reused');
        return invalidGrant('refresh token was already used; the token family is revoked');
      }
      return invalidGrant('refresh token was already used');
    },
  },
  {
    name: 'state',
    check: ({ record }) =>
      record.state === 'consumed' || record.state === 'revoked' ? invalidGrant(`refresh token is ${record.state}`) : undefined,
  },
  {
    name: 'expiry',
    check: ({ record, now }) => (now >= record.expiresAt ? invalidGrant('refresh token is expired') : undefined),
  },
  {
    // RFC 6749 §6: the requested scope must not include any scope not originally granted.
    name: 'scope',
    check: ({ requestedScope, family }) => {
      const extra = (requestedScope ?? []).filter((s) => !family.scope.includes(s));
      return extra.length ? invalidScope(`scope exceeds the original grant: ${extra.join(' ')}`) : undefined;
    },
  },
];

export function correctBehaviour(profile: Profile): Behaviour {
  return {
    profile,
    issuesRefreshToken: ({ policy, grantType, scope }) =>
      // RFC 6749 §4.4.3: no refresh token from client_credentials; OIDC Core §11: only with offline_access.
      grantType === 'authorization_code' && isRefreshPolicy(policy) && scope.includes(profile.offlineAccessScope),
    refreshGuards,
    retiresRotatedToken: true,
    atomicRefresh: true,
    refreshRequiresClientAuth: true,
    revocationRevokesFamily: true,
    introspectionSeesRevocation: true,
    refreshIdTokenSubject: (sub) => sub,
    accessTokenLifetime: (declared) => declared,
    errorCode: (code) => code,
    noStore: true,
  };
}
