/**
 * Profile variants: a small covering set of valid profiles derived from the two seed profiles,
 * so that every value of every profile field is exercised somewhere (the mock's tests, the model's
 * tests, and the catalogue and self-test against the mock). Not the cartesian product: each field
 * value, each valid refreshAfterSsoEnd × presentedTokenAfterSsoEnd pair, grace 0 and > 0 with each
 * reuse rule, lifetimes shorter and longer than the SSO session, rotation on and off, sliding and
 * fixed; online tokens (refreshTokenIssuance "always") with each refreshAfterSsoEnd; a sliding maximum, a grace
 * count above 1 and a 403 refusal status. test/variants.test.ts walks the schema and fails when a value
 * (or an optional number) is covered by no variant.
 */
import { SEED_PROFILES, loadProfile, parseProfile, type SeedProfile } from './load.ts';
import type { Policy, Profile } from './schema.ts';

export type Seeds = Record<SeedProfile, Profile>;

/** A variant of a seed, validated like a profile file; `name` is the seed's name + suffix. */
export function variantOf(base: Profile, suffix: string, change: Partial<Profile>, why: string): Profile {
  const notes = [...base.notes, { field: 'variant', choice: suffix, reason: why }];
  return parseProfile({ ...base, ...change, notes, name: `${base.name}-${suffix}` }, `variant ${suffix}`);
}

/** The covering set: the seeds themselves first, then the derived variants. */
export function deriveVariants(seeds: Seeds): Profile[] {
  const telenor = seeds['telenorid-plus'];
  const erp = seeds['erp-net'];
  const interactive = erp.policies.Interactive!;
  return [
    telenor,
    erp,
    variantOf(
      telenor,
      'sso-invalid-grant',
      { refreshAfterSsoEnd: 'invalid_grant', reuseOfRotatedToken: 'reject' },
      'refresh refused after the SSO session, with lifetimes longer (Mobile, Confidential) and shorter (PublicWeb) than it; reuse only rejected',
    ),
    variantOf(
      telenor,
      'sso-consumed-grace',
      { presentedTokenAfterSsoEnd: 'consumed', graceWindowSeconds: 30 },
      'the presented token is used up after the SSO session; a 30 s grace window with family revocation on reuse',
    ),
    variantOf(
      erp,
      'reject-grace-mixed',
      {
        reuseOfRotatedToken: 'reject',
        graceWindowSeconds: 30,
        policies: {
          ...erp.policies,
          Interactive: { ...interactive, expiry: 'sliding', rotation: false, description: 'sliding expiry without rotation' } satisfies Policy,
          InteractiveFixed: {
            ...interactive,
            lifetimeSeconds: 3600,
            expiry: 'fixed',
            rotation: true,
            description: 'fixed expiry with rotation; a lifetime shorter than the SSO session',
          } satisfies Policy,
          InteractiveLateRotation: {
            ...interactive,
            lifetimeSeconds: 3600,
            expiry: 'fixed',
            rotation: true,
            rotateAfterLifetimePercent: 70,
            // client id interactive-late-rotation: client_secret_post like the variant's other confidential clients (connection.ts)
            description: "rotation only once 70 % of the token's lifetime passed (node-oidc-provider's default for clients that authenticate)",
          } satisfies Policy,
        },
      },
      'rotation off with sliding expiry, on with fixed expiry, and on only late in the token\'s life; a 30 s grace window with reuse only rejected',
    ),
    variantOf(
      erp,
      'keycloak-like',
      {
        refreshTokenIssuance: 'always',
        onlineTokens: { refreshAfterSsoEnd: 'invalid_grant', lifetimeSeconds: 1800, maxLifetimeSeconds: 36000 },
        policies: { ...erp.policies, Interactive: { ...interactive, maxLifetimeSeconds: 5184000, description: 'sliding expiry capped at 60 days from the first issue' } satisfies Policy },
        graceWindowSeconds: 30,
        graceReuseCount: 3,
        refreshExpiresIn: true,
        idTokenOnRefresh: 'optional',
      },
      'Keycloak-like: online tokens without offline_access that end with the SSO session (30 min idle, 10 h max), offline ones that survive it; sliding with a maximum; a 30 s window reused up to 3 times; refresh_expires_in',
    ),
    variantOf(
      telenor,
      'auth0-like',
      {
        refreshTokenIssuance: 'always',
        onlineTokens: { refreshAfterSsoEnd: 'no-new-refresh-token' },
        invalidGrantStatus: 403,
        concurrentRefresh: 'same-successor',
        introspection: 'access-tokens',
        idTokenOnRefresh: 'never',
      },
      'reuse and other invalid_grant refusals answered 403; concurrent refreshes get the same successor; introspection covers access tokens only; no id_token on refresh; online tokens kept (no new one) after the SSO session',
    ),
    variantOf(
      erp,
      'always-unbound',
      {
        refreshTokenIssuance: 'always',
        onlineTokens: { refreshAfterSsoEnd: 'new-refresh-token' },
        reuseOfRotatedToken: 'reject',
        concurrentRefresh: 'same-successor',
      },
      'Django OAuth Toolkit-like: a refresh token on every code exchange, none bound to the SSO session; same-successor concurrency where introspection sees refresh tokens; reuse only rejected',
    ),
    variantOf(
      erp,
      'dpop',
      {
        dpopNonce: true,
        dpopSigningAlgs: ['ES256', 'EdDSA'],
        policies: {
          ...erp.policies,
          Interactive: { ...interactive, senderConstraint: 'dpop', description: 'confidential with DPoP: DPoP access tokens, an unbound refresh token (RFC 9449 §5)' } satisfies Policy,
          InteractivePublic: {
            ...erp.policies.InteractivePublic!,
            senderConstraint: 'dpop',
            rotation: false,
            description: 'public, refresh tokens DPoP-bound instead of rotated (RFC 9700 §4.14.2 allows either)',
          } satisfies Policy,
          InteractivePublicRequired: {
            ...erp.policies.InteractivePublic!,
            senderConstraint: 'dpop-required',
            description: 'public, DPoP required on every token request; rotated and bound',
          } satisfies Policy,
        },
      },
      'node-oidc-provider-like DPoP: nonces demanded, ES256 and EdDSA proofs; a public client bound instead of rotated, one required to use DPoP and rotated, a confidential one whose refresh token stays unbound',
    ),
  ];
}

export async function loadVariants(): Promise<Profile[]> {
  const [telenor, erp] = await Promise.all(SEED_PROFILES.map((name) => loadProfile(name)));
  return deriveVariants({ 'telenorid-plus': telenor!, 'erp-net': erp! });
}
