/**
 * Profile fields as observe speaks of them: a path into the profile, read for its effective value
 * (a default or an inherited term resolved through the refresh model's termsOf), and the clause a
 * difference in it affects. `policies.X.online.*` are the online-token terms of policy X.
 */
import { renderCitations, cite, type Citation } from '../../mock-idp/citations.ts';
import { isRefreshPolicy, type Profile } from '../../mock-idp/profile/index.ts';
import { termsOf } from '../../mock-idp/profile/model.ts';
import type { FieldValue } from './types.ts';

/** The value a profile gives a field, defaults and inherited terms resolved; null for "none". */
export function declaredValue(profile: Profile, field: string): FieldValue | undefined {
  const parts = field.split('.');
  if (parts[0] === 'policies') {
    const policy = profile.policies[parts[1]!];
    if (!policy) return undefined;
    if (parts[2] === 'online') {
      if (!isRefreshPolicy(policy)) return undefined;
      const terms = termsOf(profile, policy, true);
      return parts[3] === 'lifetimeSeconds' ? terms.lifetimeSeconds : parts[3] === 'maxLifetimeSeconds' ? (terms.maxLifetimeSeconds ?? null) : undefined;
    }
    if (parts[2] === 'maxLifetimeSeconds') return policy.maxLifetimeSeconds ?? null;
    const v = (policy as Record<string, unknown>)[parts[2]!];
    return v === undefined ? null : (v as FieldValue);
  }
  let v: unknown = profile;
  for (const p of parts) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v === undefined ? null : (v as FieldValue);
}

/** The last segment names the rule (policies.X.rotation → rotation). */
const CLAUSES: Record<string, Citation[]> = {
  refresh: [cite.spec('OIDC Core', '11')],
  refreshTokenIssuance: [cite.spec('OIDC Core', '11')],
  rotation: [cite.spec('RFC 6749', '6'), cite.spec('RFC 9700', '4.14.2')],
  reuseOfRotatedToken: [cite.spec('RFC 9700', '4.14.2')],
  graceWindowSeconds: [cite.spec('RFC 9700', '4.14.2')],
  graceReuseCount: [cite.spec('RFC 9700', '4.14.2')],
  concurrentRefresh: [cite.spec('RFC 9700', '4.14.2')],
  invalidGrantStatus: [cite.spec('RFC 6749', '5.2')],
  introspection: [cite.spec('RFC 7662', '2.2')],
  idTokenOnRefresh: [cite.spec('OIDC Core', '12.2')],
  refreshExpiresIn: [cite.field('refreshExpiresIn')],
  lifetimeSeconds: [cite.spec('RFC 9700', '4.14.2', 'refresh tokens SHOULD expire')],
  maxLifetimeSeconds: [cite.spec('RFC 9700', '4.14.2', 'refresh tokens SHOULD expire')],
  expiry: [cite.spec('RFC 9700', '4.14.2', 'expire after inactivity')],
  refreshAfterSsoEnd: [cite.spec('OIDC Core', '11'), cite.field('refreshAfterSsoEnd')],
  presentedTokenAfterSsoEnd: [cite.field('presentedTokenAfterSsoEnd')],
  accessTokenLifetimeSeconds: [cite.spec('RFC 6749', '5.1', 'expires_in')],
  idTokenLifetimeSeconds: [cite.spec('OIDC Core', '2', 'exp')],
};

export function clauseOf(field: string): string {
  const last = field.split('.').at(-1)!;
  return renderCitations(CLAUSES[last] ?? [cite.field(field)]);
}
