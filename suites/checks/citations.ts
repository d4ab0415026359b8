/**
 * Citations as the checks write them: the shared tokens (mock-idp/citations.ts) plus the profile
 * fields a check judges, with the value this client's policy declares, so a report names the very
 * field (`profile policies.Mobile.rotation=true`) and the mock rule observing it matches the token.
 */
import { cite, citationKey, type Citation } from '../../mock-idp/citations.ts';
import type { Policy, Profile } from '../../mock-idp/profile/index.ts';
import type { ApplicabilityInput, Check } from './types.ts';

export { cite, type Citation };

/** A field of the client's policy, with its declared value: `policies.<name>.<field>=<value>`. */
export function policyField(input: Pick<ApplicabilityInput, 'client' | 'policy'>, field: keyof Policy & ('refresh' | 'lifetimeSeconds' | 'expiry' | 'rotation' | 'grantTypes' | 'senderConstraint')): Citation {
  const value = input.policy[field];
  return cite.field(`policies.${input.client.policy}.${field}`, Array.isArray(value) ? value.join(' ') : value);
}

type ScalarField = { [K in keyof Profile]-?: Profile[K] extends string | number | boolean ? K : never }[keyof Profile];

/** A top-level field of the profile, with its value: `refreshAfterSsoEnd=no-new-refresh-token`. */
export function profileField(profile: Profile, field: ScalarField): Citation {
  return cite.field(field, profile[field]);
}

/**
 * A check's citations for one client, each token once (a profile's citation may repeat a check's
 * own); a repeated profile field lends its value to the first mention when that has none.
 */
export function citationsOf(check: Pick<Check, 'clause'>, input: ApplicabilityInput): Citation[] {
  const all = typeof check.clause === 'function' ? check.clause(input) : check.clause;
  const out: Citation[] = [];
  const at = new Map<string, number>();
  for (const c of all) {
    const key = citationKey(c);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.push(c) - 1);
      continue;
    }
    const first = out[i]!;
    if ('profileField' in first && 'profileField' in c && first.value === undefined && c.value !== undefined) out[i] = { ...first, value: c.value };
  }
  return out;
}
