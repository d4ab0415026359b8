/**
 * observe --against against the mock with each seeded defect: the difference names exactly the
 * profile fields the defect breaks, and a defect that breaks no profile field (a header, an error
 * code, a claim) makes no difference. Run on telenorid-plus, and on erp-net where a defect shows
 * only there; a defect missing from BREAKS fails the test until its fields are pinned here.
 */
import { describe, expect, test } from 'vitest';
import { DEFECTS, type Defect } from '../../mock-idp/index.ts';
import { loadProfile } from '../../mock-idp/profile/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { diffProfiles } from './diff.ts';
import { observeTarget } from './observe.ts';

/** Per defect, the fields `--against` must name (sorted), on the profile given (default telenorid-plus). */
const BREAKS: Record<string, { profile?: string; fields: string[] }> = {
  'no-rotation': { fields: ['policies.Mobile.rotation', 'policies.PublicWeb.rotation', 'policies.Web.rotation'] },
  'old-token-still-valid': { fields: ['graceReuseCount', 'graceWindowSeconds'] },
  'no-reuse-detection': { fields: ['reuseOfRotatedToken'] },
  'refresh-without-offline-access': { fields: ['onlineTokens.refreshAfterSsoEnd', 'refreshTokenIssuance'] },
  'public-client-gets-refresh': {
    fields: ['policies.NoRefresh.expiry', 'policies.NoRefresh.lifetimeSeconds', 'policies.NoRefresh.refresh', 'policies.NoRefresh.rotation'],
  },
  'fixed-expiry-slides': { fields: ['policies.Confidential.expiry'] },
  'sliding-expiry-does-not-slide': { fields: ['policies.Mobile.expiry', 'policies.PublicWeb.expiry', 'policies.Web.expiry'] },
  'expired-token-accepted': {
    fields: ['policies.Confidential.lifetimeSeconds', 'policies.Mobile.lifetimeSeconds', 'policies.PublicWeb.lifetimeSeconds', 'policies.Web.lifetimeSeconds'],
  },
  'ignores-sso-logout': { fields: ['refreshAfterSsoEnd'] },
  'access-token-lifetime-wrong': { fields: ['accessTokenLifetimeSeconds'] },
  'id-token-already-expired': { fields: ['idTokenLifetimeSeconds'] },
  'no-refresh-with-offline-access': {
    fields: ['policies.Confidential.refresh', 'policies.Mobile.refresh', 'policies.PublicWeb.refresh', 'policies.Web.refresh'],
  },
  // Concurrent refreshes with several different winners: a finding, and a difference from single-winner.
  'non-atomic-rotation': { fields: ['concurrentRefresh'] },
  // Breaks only a profile field telenorid-plus does not declare (reuse only rejected): erp-net's variant does.
  'reuse-revokes-family-though-rejected': { profile: 'erp-net-reject-grace-mixed', fields: ['reuseOfRotatedToken'] },
  'late-rotation-rotates-early': { profile: 'erp-net-reject-grace-mixed', fields: ['policies.InteractiveLateRotation.rotateAfterLifetimePercent'] },
  // The schema-v2 fields, on the variants that declare them.
  'no-online-token': { profile: 'erp-net-keycloak-like', fields: ['refreshTokenIssuance'] },
  'online-token-survives-logout': { profile: 'erp-net-keycloak-like', fields: ['onlineTokens.refreshAfterSsoEnd'] },
  'offline-token-ends-with-logout': { profile: 'erp-net-keycloak-like', fields: ['refreshAfterSsoEnd'] },
  'sliding-ignores-maximum': { profile: 'erp-net-keycloak-like', fields: ['policies.Interactive.maxLifetimeSeconds'] },
  'grace-reuse-count-ignored': { profile: 'erp-net-keycloak-like', fields: ['graceReuseCount'] },
  'grace-window-too-short': { profile: 'erp-net-keycloak-like', fields: ['graceWindowSeconds'] },
  // New successors for same-second retries: unlimited same-second retries as well as several winners.
  'concurrent-refreshes-new-successors': { profile: 'telenorid-plus-auth0-like', fields: ['concurrentRefresh', 'graceReuseCount'] },
  'invalid-grant-status-swapped': { profile: 'telenorid-plus-auth0-like', fields: ['invalidGrantStatus'] },
  'introspection-coverage-swapped': { profile: 'telenorid-plus-auth0-like', fields: ['introspection'] },
  'id-token-on-refresh-swapped': { profile: 'telenorid-plus-auth0-like', fields: ['idTokenOnRefresh'] },
};

/** Defects that change no profile field: headers, error codes and shapes, claims, revocation, introspection after revocation, client binding, scope. */
const NO_PROFILE_FIELD = new Set([
  'client-credentials-gets-refresh',
  'missing-no-store',
  'wrong-error-code',
  'invalid-client-as-400-without-auth-check',
  'cross-client-refresh',
  'scope-widening-accepted',
  'revoked-token-still-works',
  'introspection-says-active-after-revoke',
  'id-token-sub-changes',
  'no-pragma',
  'token-type-missing',
  'expires-in-string',
  'wrong-www-authenticate-scheme',
  'short-refresh-token',
  'scope-narrowing-claims-more',
  'metadata-without-grant-types',
  // The value of refresh_expires_in, not its presence (observe reads the presence).
  'refresh-expires-in-of-access-token',
]);

/**
 * Defects of sender constraints (DPoP, RFC 9449): observe does not probe proofs and key binding (the
 * sender-constraint checks do), so they change nothing it reports.
 */
const NOT_PROBED = new Set([
  'dpop-proof-optional-at-refresh',
  'dpop-any-key-at-refresh',
  'dpop-binding-lost-on-rotation',
  'dpop-binding-not-enforced',
  'dpop-jti-not-checked',
  'dpop-htm-htu-not-checked',
  'dpop-nonce-not-required',
]);

const base = await loadTarget('fixtures/targets/mock.json');
const { loadVariants } = await import('../../mock-idp/profile/variants.ts');
const variants = await loadVariants();
const profileNamed = async (name: string) => variants.find((v) => v.name === name) ?? (await loadProfile(name));

describe('observe --against names the fields a defect breaks', () => {
  test('every defect is pinned here', () => {
    expect(DEFECTS.filter((d) => !(d in BREAKS) && !NO_PROFILE_FIELD.has(d) && !NOT_PROBED.has(d))).toEqual([]);
  });

  test.each(DEFECTS.filter((d) => !NOT_PROBED.has(d)).map((d: Defect) => ({ defect: d })))('$defect', async ({ defect }) => {
    const profile = await profileNamed(BREAKS[defect]?.profile ?? 'telenorid-plus');
    const target = { ...base, profile, profileRef: profile.name, embedded: { transport: 'direct' } } as Target;
    const r = await observeTarget(target, { defects: [defect] });
    const named = diffProfiles(profile, r.fields)
      .filter((d) => d.differs)
      .map((d) => d.field)
      .sort();
    expect(named).toEqual(BREAKS[defect]?.fields ?? []);
  }, 300_000);
});
