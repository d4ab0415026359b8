/**
 * The refresh-token profile: a provider's documented policies as data.
 * One profile object drives the mock IdP's behaviour and the suites' expectations,
 * so the two cannot drift. See fixtures/profiles/*.json and README "Profiles".
 */
import { z } from 'zod';
import { CitationSyntaxError, SPECS, parseCitations, type Citation as CitationValue, type SpecId } from '../citations.ts';

const seconds = z.number().int().nonnegative();
const positiveSeconds = z.number().int().positive();

const CitationToken = z.union([
  z.object({ spec: z.enum(Object.keys(SPECS) as [SpecId, ...SpecId[]]), section: z.string().min(1).optional(), note: z.string().min(1).optional() }).strict(),
  z.object({ seed: z.string().min(1), section: z.string().min(1), note: z.string().min(1).optional() }).strict(),
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
  .meta({ id: 'Citation', description: 'Where a rule is written: text, parts separated by "; " (a spec section, a seed file section, or "profile <field>"), or the same as tokens' })
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

export const Policy = z
  .object({
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
  })
  .strict()
  .superRefine((p, ctx) => {
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

export const Profile = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: z.string().min(1),
    /** Seed files (../shared/seeds/...) this profile encodes. */
    source: z.array(z.string().min(1)).min(1),
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
    policies: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'letters and digits'), Policy).refine(
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
  })
  .strict()
  .superRefine((p, ctx) => {
    // A profile cites the documents it encodes: a seed citation names a file of its `source`.
    const cited: [(string | number)[], CitationValue[]][] = [
      ...Object.entries(p.citations).map(([k, v]): [(string | number)[], CitationValue[]] => [['citations', k], v]),
      ...Object.entries(p.policies).map(([k, v]): [(string | number)[], CitationValue[]] => [['policies', k, 'source'], v.source]),
    ];
    for (const [path, citations] of cited) {
      for (const c of citations) {
        if ('seed' in c && !p.source.includes(c.seed)) {
          ctx.addIssue({ code: 'custom', path, message: `cites ${c.seed}, which is not in the profile's source (${p.source.join(', ')})` });
        }
      }
    }
    if (p.refreshAfterSsoEnd !== 'no-new-refresh-token' && p.presentedTokenAfterSsoEnd !== 'usable-until-expiry') {
      ctx.addIssue({
        code: 'custom',
        path: ['presentedTokenAfterSsoEnd'],
        message: `only meaningful with refreshAfterSsoEnd "no-new-refresh-token"; use "usable-until-expiry"`,
      });
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
