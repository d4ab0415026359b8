/**
 * The refresh-token profile: a provider's documented policies as data.
 * One profile object drives the mock IdP's behaviour and the suites' expectations,
 * so the two cannot drift. See fixtures/profiles/*.json and README "Profiles".
 */
import { z } from 'zod';
import { CitationSyntaxError, SPECS, docPage, parseCitations, type Citation as CitationValue, type SpecId } from '../citations.ts';

const seconds = z.number().int().nonnegative();
const positiveSeconds = z.number().int().positive();

const CitationToken = z.union([
  z.object({ spec: z.enum(Object.keys(SPECS) as [SpecId, ...SpecId[]]), section: z.string().min(1).optional(), note: z.string().min(1).optional() }).strict(),
  z.object({ seed: z.string().min(1), section: z.string().min(1), note: z.string().min(1).optional() }).strict(),
  z.object({ doc: z.url({ protocol: /^https$/ }), section: z.string().min(1).optional(), note: z.string().min(1).optional() }).strict(),
  z.object({ profileField: z.string().min(1), value: z.union([z.string(), z.number(), z.boolean()]).optional(), note: z.string().min(1).optional() }).strict(),
]);

/**
 * Where a rule comes from (mock-idp/citations.ts): the text form profile files use, read strictly
 * (`000_….txt §Heading (note); RFC 9700 §4.14.2`), or the structured tokens it reads into, so a
 * parsed profile validates again unchanged.
 */
export const Citation = z
  .union([z.string(), z.array(CitationToken).min(1)], {
    error: 'expected a citation: text ("RFC 6749 §6; 000_….txt §Heading (note); profile field") or a list of citation tokens',
  })
  .meta({
    id: 'Citation',
    description: 'Where a rule is written: text, parts separated by "; " (a spec section, a seed file section, "<https URL of a documentation page> §<heading>", or "profile <field>"), or the same as tokens',
  })
  .transform((value, ctx): CitationValue[] => {
    if (typeof value !== 'string') return value;
    try {
      return parseCitations(value);
    } catch (e) {
      if (!(e instanceof CitationSyntaxError)) throw e;
      ctx.addIssue({ code: 'custom', message: `unreadable citation: ${e.message}` });
      return z.NEVER;
    }
  });

const policyV1Fields = {
  description: z.string().optional(),
  /** The provider's own name for the client type (TelenorID+ "Public", "MobileApp", ...). */
  clientType: z.string().min(1),
  /** Confidential clients authenticate with a secret; public ones send only client_id and must use PKCE. */
  confidential: z.boolean(),
  /** Grant types a client of this policy may use at the token endpoint. */
  grantTypes: z
    .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
    .min(1),
  /** Whether this policy ever issues refresh tokens. */
  refresh: z.boolean(),
  /** Refresh-token lifetime; required when refresh is true. */
  lifetimeSeconds: positiveSeconds.optional(),
  /** sliding: each refresh starts the lifetime again; fixed: expiry stays first issue + lifetime. */
  expiry: z.enum(['sliding', 'fixed']).optional(),
  /** rotation: each refresh returns a new refresh token and the presented one stops working. */
  rotation: z.boolean().optional(),
  source: Citation,
};

/** Rules every version of a policy obeys. */
function refinePolicy(p: { refresh: boolean; grantTypes: string[]; confidential: boolean; lifetimeSeconds?: number | undefined; expiry?: string | undefined; rotation?: boolean | undefined }, ctx: z.RefinementCtx): void {
  if (p.refresh) {
    for (const field of ['lifetimeSeconds', 'expiry', 'rotation'] as const) {
      if (p[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `required when refresh is true` });
      }
    }
    if (!p.grantTypes.includes('refresh_token')) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: `must include refresh_token when refresh is true` });
    }
    if (!p.grantTypes.includes('authorization_code')) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: `refresh tokens come from authorization_code (RFC 6749 §4.4.3 excludes client_credentials)` });
    }
  }
  if (p.grantTypes.includes('client_credentials') && !p.confidential) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: `client_credentials needs a confidential client (RFC 6749 §4.4)` });
  }
}

/** A schema-v1 policy (profile files without "version"): read, then migrated (migrate.ts). */
export const PolicyV1 = z.object(policyV1Fields).strict().superRefine(refinePolicy);
export type PolicyV1 = z.infer<typeof PolicyV1>;

export const Policy = z
  .object({
    ...policyV1Fields,
    /**
     * Sliding expiry with an absolute maximum: a refresh renews the lifetime (the idle timeout) but
     * never past the family's first issue + this (Keycloak SSO Session Max, Okta "expire after",
     * Auth0 absolute lifetime). Default: none (sliding without a cap). Only with expiry "sliding".
     */
    maxLifetimeSeconds: positiveSeconds.optional(),
    /**
     * Rotation only once the presented token has lived this percentage of lifetimeSeconds; a refresh
     * before that returns no new refresh token and the presented one keeps its expiry
     * (node-oidc-provider's default rotateRefreshToken for clients that authenticate: 70).
     * Default: none (with rotation, every refresh rotates). Only with rotation true.
     */
    rotateAfterLifetimePercent: z.number().int().min(1).max(100).optional(),
    /**
     * Sender-constrained refresh tokens (RFC 9449): none (default: no DPoP, bearer tokens); dpop (a
     * public client that sends a DPoP proof at the code exchange gets a refresh token bound to that
     * key, §5); dpop-required (every token request of the client needs a proof: without one it is
     * refused with invalid_dpop_proof, as Keycloak, Okta and Auth0 document "require DPoP").
     * Confidential clients' refresh tokens are never bound (§5): they send proofs for their access tokens.
     */
    senderConstraint: z.enum(['none', 'dpop', 'dpop-required']).default('none'),
  })
  .strict()
  .superRefine((p, ctx) => {
    refinePolicy(p, ctx);
    if (p.rotateAfterLifetimePercent !== undefined && p.rotation !== true) {
      ctx.addIssue({ code: 'custom', path: ['rotateAfterLifetimePercent'], message: 'only with rotation true' });
    }
    if (p.maxLifetimeSeconds !== undefined) {
      if (p.expiry !== 'sliding') ctx.addIssue({ code: 'custom', path: ['maxLifetimeSeconds'], message: 'only with expiry "sliding" (a fixed expiry is its own maximum)' });
      else if (p.lifetimeSeconds !== undefined && p.maxLifetimeSeconds < p.lifetimeSeconds) {
        ctx.addIssue({ code: 'custom', path: ['maxLifetimeSeconds'], message: `must be at least lifetimeSeconds (${p.lifetimeSeconds})` });
      }
    }
  });
export type Policy = z.infer<typeof Policy>;

export const Note = z
  .object({
    field: z.string().min(1),
    choice: z.string().min(1),
    reason: z.string().min(1),
  })
  .strict();
export type Note = z.infer<typeof Note>;

/** Asymmetric JWS algorithms a DPoP proof may use (RFC 9449 §4.2: never none or a MAC). */
export const DPOP_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
const DpopAlg = z.enum(DPOP_ALGS);
export type DpopAlg = z.infer<typeof DpopAlg>;

const SsoEnd = z.enum(['new-refresh-token', 'no-new-refresh-token', 'invalid_grant']);

const profileV1Fields = {
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  /**
   * The documents this profile encodes: seed files (../shared/seeds/...) and pages of the vendor's
   * public documentation (https URLs). Every seed or documentation citation names one of them.
   */
  source: z
    .array(
      z
        .string()
        .min(1)
        .refine((s) => !/^[a-z][a-z0-9+.-]*:/i.test(s) || /^https:\/\/[^\s#]+$/.test(s), 'a documentation page is an https URL without a fragment or spaces'),
    )
    .min(1),
  /** The scope that asks for a refresh token (OIDC Core §11). */
  offlineAccessScope: z.string().min(1),
  /** Extra scopes the provider supports besides openid and the offline-access scope. */
  scopes: z.array(z.string().min(1)),
  accessTokenLifetimeSeconds: positiveSeconds,
  idTokenLifetimeSeconds: positiveSeconds,
  /** Absolute SSO session lifetime from login; refreshing does not extend it. */
  ssoSessionLifetimeSeconds: positiveSeconds,
  /**
   * A refresh once the SSO session has ended (logout, expiry):
   * - new-refresh-token: the session does not matter (offline access proper);
   * - no-new-refresh-token: an access token, but no new refresh token;
   * - invalid_grant: the refresh is refused.
   */
  refreshAfterSsoEnd: z.enum(['new-refresh-token', 'no-new-refresh-token', 'invalid_grant']),
  /** With no-new-refresh-token: does the presented token stay usable until its own expiry, or is it used up? */
  presentedTokenAfterSsoEnd: z.enum(['usable-until-expiry', 'consumed']),
  /** Presenting a rotated-out refresh token: reject it, or also revoke its whole family (RFC 9700 §4.14.2). */
  reuseOfRotatedToken: z.enum(['reject', 'revoke-family']),
  /** Seconds after rotation during which the previous token may still be used once (0 = none). */
  graceWindowSeconds: seconds,
  policies: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'letters and digits'), PolicyV1).refine(
    (p) => Object.keys(p).length > 0,
    'at least one policy',
  ),
  /** Where each rule is documented (seed file + section), cited by the checks. */
  citations: z
    .object({
      offlineAccess: Citation,
      rotation: Citation,
      reuse: Citation,
      expiry: Citation,
      sso: Citation,
      clientCredentials: Citation,
    })
    .strict(),
  /** Choices made where the seeds are silent, with their reasons. */
  notes: z.array(Note),
};

type ProfileCommon = {
  source: string[];
  citations: Record<string, CitationValue[]>;
  policies: Record<string, { source: CitationValue[] }>;
  refreshAfterSsoEnd: string;
  presentedTokenAfterSsoEnd: string;
  onlineTokens?: { refreshAfterSsoEnd: string };
  refreshTokenIssuance?: string;
};

/** Rules every version of a profile obeys. */
function refineProfile(p: ProfileCommon, ctx: z.RefinementCtx): void {
  // A profile cites the documents it encodes: a seed citation names a file of its `source`, a
  // documentation citation a page of it (its URL, an #anchor aside).
  const cited: [(string | number)[], CitationValue[]][] = [
    ...Object.entries(p.citations).map(([k, v]): [(string | number)[], CitationValue[]] => [['citations', k], v]),
    ...Object.entries(p.policies).map(([k, v]): [(string | number)[], CitationValue[]] => [['policies', k, 'source'], v.source]),
  ];
  for (const [path, citations] of cited) {
    for (const c of citations) {
      if ('seed' in c && !p.source.includes(c.seed)) {
        ctx.addIssue({ code: 'custom', path, message: `cites ${c.seed}, which is not in the profile's source (${p.source.join(', ')})` });
      }
      if ('doc' in c && !p.source.includes(docPage(c.doc))) {
        ctx.addIssue({ code: 'custom', path, message: `cites ${docPage(c.doc)}, which is not in the profile's source (${p.source.join(', ')})` });
      }
    }
  }
  const online = p.refreshTokenIssuance === 'always' ? p.onlineTokens?.refreshAfterSsoEnd : undefined;
  if (p.refreshAfterSsoEnd !== 'no-new-refresh-token' && online !== 'no-new-refresh-token' && p.presentedTokenAfterSsoEnd !== 'usable-until-expiry') {
    ctx.addIssue({
      code: 'custom',
      path: ['presentedTokenAfterSsoEnd'],
      message: `only meaningful with refreshAfterSsoEnd "no-new-refresh-token"; use "usable-until-expiry"`,
    });
  }
}

/** A schema-v1 profile (a file without "version", or "version": 1): read, then migrated to v2 (migrate.ts). */
export const ProfileV1 = z
  .object({ ...profileV1Fields, version: z.literal(1).optional() })
  .strict()
  .superRefine(refineProfile);
export type ProfileV1 = z.infer<typeof ProfileV1>;

/** The online-token terms: refresh tokens issued without the offline-access scope (refreshTokenIssuance "always"). */
export const OnlineTokens = z
  .object({
    /** A refresh once the SSO session has ended, for an online token. Default invalid_grant: it ends with the session (Keycloak, node-oidc-provider's expiresWithSession). */
    refreshAfterSsoEnd: SsoEnd.default('invalid_grant'),
    /** Lifetime of an online refresh token (Keycloak: SSO Session Idle); default: the policy's lifetimeSeconds. */
    lifetimeSeconds: positiveSeconds.optional(),
    /** Absolute maximum of an online token's family with sliding expiry (Keycloak: SSO Session Max); default: the policy's. */
    maxLifetimeSeconds: positiveSeconds.optional(),
  })
  .strict();
export type OnlineTokens = z.infer<typeof OnlineTokens>;

/**
 * Schema v2: v1 plus the fields below. Each new field has a default that keeps the v1 meaning,
 * so a migrated v1 profile behaves exactly as before (README "Describing your IdP" has the table).
 */
export const Profile = z
  .object({
    ...profileV1Fields,
    version: z.literal(2),
    policies: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'letters and digits'), Policy).refine(
      (p) => Object.keys(p).length > 0,
      'at least one policy',
    ),
    /**
     * When the code exchange issues a refresh token to a refreshing policy: only when the
     * offline-access scope was granted (OIDC Core §11; default), or always (Django OAuth Toolkit,
     * Keycloak's online tokens): a token issued without offline access is then an online token.
     */
    refreshTokenIssuance: z.enum(['offline-access', 'always']).default('offline-access'),
    /** How online tokens (issued without offline access) differ; meaningful with refreshTokenIssuance "always". */
    onlineTokens: OnlineTokens.default({ refreshAfterSsoEnd: 'invalid_grant' }),
    /**
     * How many times, within graceWindowSeconds of its rotation, a rotated-out token may be presented
     * again and succeed (Keycloak refreshTokenMaxReuse, Hydra rotation_grace_reuse_count). Default 1.
     */
    graceReuseCount: z.number().int().positive().default(1),
    /**
     * HTTP status of an invalid_grant refusal (a reused, revoked, expired or unknown refresh token).
     * RFC 6749 §5.2 says 400 (default); Auth0 documents 403.
     */
    invalidGrantStatus: z.union([z.literal(400), z.literal(403)]).default(400),
    /**
     * Concurrent refreshes of one token (presented again in the second it was rotated, its successor
     * unused): single-winner (default: one succeeds, the others are reuse) or same-successor (each
     * gets the same new refresh token: an idempotent retry, not several different winners).
     */
    concurrentRefresh: z.enum(['single-winner', 'same-successor']).default('single-winner'),
    /** What the introspection endpoint knows (RFC 7662 §2.1 lets it cover some token types only). Default: both. */
    introspection: z.enum(['access-and-refresh-tokens', 'access-tokens']).default('access-and-refresh-tokens'),
    /** An id_token in refresh responses with the openid scope (OIDC Core §12.2 makes it optional). Default always. */
    idTokenOnRefresh: z.enum(['always', 'never', 'optional']).default('always'),
    /** Token responses carry refresh_expires_in, the refresh token's remaining lifetime in seconds (Keycloak). Default false. */
    refreshExpiresIn: z.boolean().default(false),
    /**
     * The token endpoint demands a server nonce in DPoP proofs (RFC 9449 §8): a proof without the
     * current one gets use_dpop_nonce and a DPoP-Nonce header to retry with. Default false. Meaningful
     * where a policy declares a senderConstraint.
     */
    dpopNonce: z.boolean().default(false),
    /** JWS algorithms accepted in DPoP proofs (dpop_signing_alg_values_supported, RFC 9449 §5.1). */
    dpopSigningAlgs: z.array(DpopAlg).min(1).default([...DPOP_ALGS]),
  })
  .strict()
  .superRefine((p, ctx) => {
    refineProfile(p, ctx);
    for (const [name, policy] of Object.entries(p.policies)) {
      const online = p.onlineTokens;
      if (online.maxLifetimeSeconds !== undefined && policy.expiry === 'fixed' && p.refreshTokenIssuance === 'always') {
        ctx.addIssue({ code: 'custom', path: ['onlineTokens', 'maxLifetimeSeconds'], message: `policy ${name} has a fixed expiry: a maximum applies to sliding expiry only` });
      }
      const lifetime = online.lifetimeSeconds ?? policy.lifetimeSeconds;
      const max = online.maxLifetimeSeconds ?? policy.maxLifetimeSeconds;
      if (policy.refresh && lifetime !== undefined && max !== undefined && max < lifetime && policy.expiry === 'sliding') {
        ctx.addIssue({ code: 'custom', path: ['onlineTokens'], message: `policy ${name}: an online token's maximum (${max} s) is shorter than its lifetime (${lifetime} s)` });
      }
    }
  });
export type Profile = z.infer<typeof Profile>;

/** A policy that issues refresh tokens, with its refresh fields present. */
export type RefreshPolicy = Policy & {
  refresh: true;
  lifetimeSeconds: number;
  expiry: 'sliding' | 'fixed';
  rotation: boolean;
};

export function isRefreshPolicy(p: Policy): p is RefreshPolicy {
  return p.refresh && p.lifetimeSeconds !== undefined && p.expiry !== undefined && p.rotation !== undefined;
}
