/**
 * Deliberate defects: each one a single deviation from the profile, applied to the correct
 * behaviour (behaviour.ts) in this one place, so the correct path stays free of defect branches.
 * The suites must catch every one (fixtures/defects.json maps each to the checks that do).
 */
import type { Behaviour, RefreshGuard, TokenEndpointResponse } from './behaviour.ts';
import type { GuardInput } from './profile/model.ts';
import type { Policy, Profile } from './profile/index.ts';

export const DEFECTS = [
  'no-rotation',
  'old-token-still-valid',
  'no-reuse-detection',
  'reuse-revokes-family-though-rejected',
  'refresh-without-offline-access',
  'public-client-gets-refresh',
  'client-credentials-gets-refresh',
  'fixed-expiry-slides',
  'sliding-expiry-does-not-slide',
  'late-rotation-rotates-early',
  'expired-token-accepted',
  'ignores-sso-logout',
  'missing-no-store',
  'wrong-error-code',
  'invalid-client-as-400-without-auth-check',
  'cross-client-refresh',
  'scope-widening-accepted',
  'non-atomic-rotation',
  'revoked-token-still-works',
  'introspection-says-active-after-revoke',
  'id-token-sub-changes',
  'access-token-lifetime-wrong',
  'no-pragma',
  'token-type-missing',
  'expires-in-string',
  'id-token-already-expired',
  'wrong-www-authenticate-scheme',
  'short-refresh-token',
  'no-refresh-with-offline-access',
  'scope-narrowing-claims-more',
  'metadata-without-grant-types',
  'no-online-token',
  'online-token-survives-logout',
  'offline-token-ends-with-logout',
  'sliding-ignores-maximum',
  'grace-reuse-count-ignored',
  'grace-window-too-short',
  'concurrent-refreshes-new-successors',
  'invalid-grant-status-swapped',
  'introspection-coverage-swapped',
  'id-token-on-refresh-swapped',
  'refresh-expires-in-of-access-token',
  'dpop-proof-optional-at-refresh',
  'dpop-any-key-at-refresh',
  'dpop-binding-lost-on-rotation',
  'dpop-binding-not-enforced',
  'dpop-jti-not-checked',
  'dpop-htm-htu-not-checked',
  'dpop-nonce-not-required',
] as const;
export type Defect = (typeof DEFECTS)[number];

export function isDefect(name: string): name is Defect {
  return (DEFECTS as readonly string[]).includes(name);
}

function mapPolicies(profile: Profile, f: (p: Policy) => Policy): Profile {
  return { ...profile, policies: Object.fromEntries(Object.entries(profile.policies).map(([k, p]) => [k, f(p)])) };
}

function withoutGuard(b: Behaviour, name: RefreshGuard['name']): readonly RefreshGuard[] {
  return b.refreshGuards.filter((g) => g.name !== name);
}

/** The sender-constraint guard (RFC 9449 §5) replaced: `skip(input)` true lets the presentation pass it. */
function senderGuardUnless(b: Behaviour, skip: (input: GuardInput) => boolean): readonly RefreshGuard[] {
  return b.refreshGuards.map((g) => (g.name === 'sender-constraint' ? { ...g, check: (input: GuardInput) => (skip(input) ? undefined : g.check(input)) } : g));
}

/** A change to the token endpoint's responses, after the correct behaviour shaped them. */
function reshape(b: Behaviour, f: (r: TokenEndpointResponse) => TokenEndpointResponse): Behaviour {
  return { ...b, tokenResponse: (r) => f(b.tokenResponse(r)) };
}

/** Each defect as a change to the correct behaviour. */
const apply: Record<Defect, (b: Behaviour) => Behaviour> = {
  'no-rotation': (b) => ({ ...b, profile: mapPolicies(b.profile, (p) => (p.refresh ? { ...p, rotation: false } : p)) }),
  'old-token-still-valid': (b) => ({ ...b, retiredByRotation: () => [] }),
  'no-reuse-detection': (b) => ({ ...b, profile: { ...b.profile, reuseOfRotatedToken: 'reject' } }),
  'reuse-revokes-family-though-rejected': (b) => ({ ...b, profile: { ...b.profile, reuseOfRotatedToken: 'revoke-family' } }),
  'refresh-without-offline-access': (b) => ({
    ...b,
    issuesRefreshToken: (i) => b.issuesRefreshToken({ ...i, scope: [...i.scope, b.profile.offlineAccessScope] }),
  }),
  'public-client-gets-refresh': (b) => ({
    ...b,
    profile: mapPolicies(b.profile, (p) =>
      !p.refresh && !p.confidential
        ? { ...p, refresh: true, lifetimeSeconds: 3600, expiry: 'sliding', rotation: true, grantTypes: [...p.grantTypes, 'refresh_token'] }
        : p,
    ),
  }),
  'client-credentials-gets-refresh': (b) => ({
    ...b,
    // A refresh token from client_credentials, living an access token's lifetime.
    issuesRefreshToken: (i) => {
      if (i.grantType !== 'client_credentials') return b.issuesRefreshToken(i);
      const expiresAt = i.now + (i.policy.lifetimeSeconds ?? b.profile.accessTokenLifetimeSeconds);
      return { issue: true, online: false, expiresAt, fixedExpiresAt: expiresAt };
    },
    profile: mapPolicies(b.profile, (p) =>
      p.grantTypes.includes('client_credentials') && !p.grantTypes.includes('refresh_token') ? { ...p, grantTypes: [...p.grantTypes, 'refresh_token'] } : p,
    ),
  }),
  'fixed-expiry-slides': (b) => ({ ...b, profile: mapPolicies(b.profile, (p) => (p.expiry === 'fixed' ? { ...p, expiry: 'sliding' } : p)) }),
  'sliding-expiry-does-not-slide': (b) => ({ ...b, profile: mapPolicies(b.profile, (p) => (p.expiry === 'sliding' ? { ...p, expiry: 'fixed' } : p)) }),
  // rotateAfterLifetimePercent ignored: a policy that rotates only late in a token's life rotates on every refresh.
  'late-rotation-rotates-early': (b) => ({ ...b, profile: mapPolicies(b.profile, ({ rotateAfterLifetimePercent: _late, ...p }) => p) }),
  'expired-token-accepted': (b) => ({ ...b, refreshGuards: withoutGuard(b, 'expiry') }),
  'ignores-sso-logout': (b) => ({ ...b, profile: { ...b.profile, refreshAfterSsoEnd: 'new-refresh-token', presentedTokenAfterSsoEnd: 'usable-until-expiry' } }),
  'missing-no-store': (b) => ({ ...b, noStore: false }),
  'wrong-error-code': (b) => ({ ...b, errorCode: (code) => (code === 'invalid_grant' ? 'invalid_request' : b.errorCode(code)) }),
  'invalid-client-as-400-without-auth-check': (b) => ({
    ...b,
    confidentialMustAuthenticate: (grantType) => grantType !== 'refresh_token' && b.confidentialMustAuthenticate(grantType),
  }),
  'cross-client-refresh': (b) => ({ ...b, refreshGuards: withoutGuard(b, 'client-binding') }),
  'scope-widening-accepted': (b) => ({ ...b, refreshGuards: withoutGuard(b, 'scope') }),
  'non-atomic-rotation': (b) => ({
    ...b,
    // Check, then act: yield to the event loop between decision and change (concurrent refreshes all
    // pass the guards), then change the token as it is by then, not as the decision saw it.
    commitStep: async (change, _decided, current) => {
      await new Promise((r) => setTimeout(r, 0));
      const now = await current();
      return b.commitStep(change, now, current);
    },
  }),
  'revoked-token-still-works': (b) => ({ ...b, revokedByRevocation: () => [] }),
  'introspection-says-active-after-revoke': (b) => ({
    ...b,
    // Only the revocation marks are overlooked: rotation and consumption still count.
    refreshTokenActive: (record, family) => b.refreshTokenActive(record, { ...family, revokedAt: undefined }) || record.state === 'revoked',
    accessTokenActive: () => true,
  }),
  'id-token-sub-changes': (b) => ({ ...b, refreshIdTokenSubject: (sub) => `${b.refreshIdTokenSubject(sub)}-changed` }),
  'access-token-lifetime-wrong': (b) => ({ ...b, accessTokenLifetime: (declared) => b.accessTokenLifetime(declared) * 2 }),
  'no-pragma': (b) => reshape(b, ({ headers: { pragma: _dropped, ...headers }, ...r }) => ({ ...r, headers })),
  'token-type-missing': (b) =>
    reshape(b, (r) => {
      if (r.grantType !== 'client_credentials' || r.status !== 200) return r;
      const { token_type: _dropped, ...body } = r.body;
      return { ...r, body };
    }),
  'expires-in-string': (b) =>
    reshape(b, (r) => (r.grantType === 'refresh_token' && typeof r.body.expires_in === 'number' ? { ...r, body: { ...r.body, expires_in: String(r.body.expires_in) } } : r)),
  'id-token-already-expired': (b) => ({ ...b, profile: { ...b.profile, idTokenLifetimeSeconds: -60 } }),
  'wrong-www-authenticate-scheme': (b) =>
    reshape(b, (r) => (r.headers['www-authenticate'] ? { ...r, headers: { ...r.headers, 'www-authenticate': 'Bearer realm="mock-idp", error="invalid_client"' } } : r)),
  'short-refresh-token': (b) => ({ ...b, refreshTokenBytes: 8 }),
  'no-refresh-with-offline-access': (b) => ({
    ...b,
    issuesRefreshToken: (i) => (i.grantType === 'authorization_code' ? { issue: false, reason: 'defect: no refresh token from the code exchange' } : b.issuesRefreshToken(i)),
  }),
  'scope-narrowing-claims-more': (b) =>
    reshape(b, (r) =>
      r.grantType === 'refresh_token' && r.requestedScope !== undefined && r.status === 200 ? { ...r, body: { ...r.body, scope: `${String(r.body.scope)} admin` } } : r,
    ),
  // Profiles v2: each a deviation from one declared v2 term.
  'no-online-token': (b) => ({
    ...b,
    profile: { ...b.profile, refreshTokenIssuance: 'offline-access' },
    issuesRefreshToken: (i) =>
      i.grantType === 'authorization_code' && !i.scope.includes(b.profile.offlineAccessScope) ? { issue: false, reason: 'defect: refresh tokens with offline access only' } : b.issuesRefreshToken(i),
  }),
  'online-token-survives-logout': (b) => ({ ...b, profile: { ...b.profile, onlineTokens: { ...b.profile.onlineTokens, refreshAfterSsoEnd: 'new-refresh-token' } } }),
  'offline-token-ends-with-logout': (b) => ({
    ...b,
    profile: b.profile.refreshAfterSsoEnd === 'new-refresh-token' ? { ...b.profile, refreshAfterSsoEnd: 'invalid_grant', presentedTokenAfterSsoEnd: 'usable-until-expiry' } : b.profile,
  }),
  'sliding-ignores-maximum': (b) => {
    const { maxLifetimeSeconds: _online, ...onlineTokens } = b.profile.onlineTokens;
    return { ...b, profile: { ...mapPolicies(b.profile, ({ maxLifetimeSeconds: _max, ...p }) => p), onlineTokens } };
  },
  'grace-reuse-count-ignored': (b) => ({ ...b, profile: { ...b.profile, graceReuseCount: b.profile.graceReuseCount + 10 } }),
  'grace-window-too-short': (b) => ({ ...b, profile: { ...b.profile, graceWindowSeconds: Math.floor(b.profile.graceWindowSeconds / 2) } }),
  'concurrent-refreshes-new-successors': (b) => ({
    ...b,
    // Concurrent presentations each rotate anew (several different winners) instead of one winner or one successor.
    profile: { ...b.profile, concurrentRefresh: 'single-winner' },
    refreshGuards: sameSecondRetriesPass(b),
  }),
  'invalid-grant-status-swapped': (b) =>
    reshape(b, (r) => (r.body.error === 'invalid_grant' && (r.status === 400 || r.status === 403) ? { ...r, status: r.status === 400 ? 403 : 400 } : r)),
  'introspection-coverage-swapped': (b) => ({
    ...b,
    profile: { ...b.profile, introspection: b.profile.introspection === 'access-tokens' ? 'access-and-refresh-tokens' : 'access-tokens' },
  }),
  'id-token-on-refresh-swapped': (b) => ({
    ...b,
    profile: { ...b.profile, idTokenOnRefresh: b.profile.idTokenOnRefresh === 'always' ? 'never' : b.profile.idTokenOnRefresh === 'never' ? 'always' : 'optional' },
  }),
  'refresh-expires-in-of-access-token': (b) =>
    reshape(b, (r) => (typeof r.body.refresh_expires_in === 'number' ? { ...r, body: { ...r.body, refresh_expires_in: r.body.expires_in } } : r)),
  'metadata-without-grant-types': (b) => ({
    ...b,
    metadata: (document) => {
      const { grant_types_supported: _dropped, ...rest } = b.metadata(document);
      return rest;
    },
  }),
  // RFC 9449: a bound refresh token without a proof is accepted (a proof of another key is still refused).
  'dpop-proof-optional-at-refresh': (b) => ({ ...b, refreshGuards: senderGuardUnless(b, (i) => i.proofJkt === undefined) }),
  // Any valid proof is accepted for a bound token, whatever its key (no proof is still refused).
  'dpop-any-key-at-refresh': (b) => ({ ...b, refreshGuards: senderGuardUnless(b, (i) => i.proofJkt !== undefined) }),
  // The binding holds for the code exchange's token only: a rotated successor is unbound.
  'dpop-binding-lost-on-rotation': (b) => ({ ...b, refreshGuards: senderGuardUnless(b, (i) => i.record.hash !== i.family.tokens[0]?.hash) }),
  // Tokens are bound on issue but the binding is never checked at refresh.
  'dpop-binding-not-enforced': (b) => ({ ...b, refreshGuards: withoutGuard(b, 'sender-constraint') }),
  'dpop-jti-not-checked': (b) => ({ ...b, dpopProofChecks: { ...b.dpopProofChecks, jti: false } }),
  'dpop-htm-htu-not-checked': (b) => ({ ...b, dpopProofChecks: { ...b.dpopProofChecks, htmHtu: false } }),
  // The profile declares DPoP nonces; the IdP never demands one.
  'dpop-nonce-not-required': (b) => ({ ...b, profile: { ...b.profile, dpopNonce: false } }),
};

/** The reuse guard, letting through a rotated-out token presented again in its rotation's second while its successor is unused. */
function sameSecondRetriesPass(b: Behaviour): readonly RefreshGuard[] {
  return b.refreshGuards.map((g) =>
    g.name !== 'reuse'
      ? g
      : {
          name: g.name,
          check: (input) => {
            const { record, family, now } = input;
            const active = family.tokens.findLast((t) => t.state === 'active');
            const retry = record.state === 'rotated' && record.retiredAt === now && active !== undefined && active.hash === record.successor && active.usedAt === undefined;
            return retry ? undefined : g.check(input);
          },
        },
  );
}

/** A behaviour transform for createMockIdp({ behaviour }) applying the given defects in order. */
export function withDefects(defects: readonly Defect[]): (correct: Behaviour) => Behaviour {
  return (correct) => defects.reduce((b, d) => apply[d](b), correct);
}
