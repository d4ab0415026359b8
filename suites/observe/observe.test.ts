/**
 * observe against the correct embedded mock on its exact clock: for every profile of the library
 * and every variant of the refresh model, every field observed exactly equals the served profile's,
 * every bounded one contains it, and the fields a mock clock can always show are observed exactly.
 */
import { describe, expect, test } from 'vitest';
import { BUILTIN_PROFILES, isRefreshPolicy, loadProfile, type Profile } from '../../mock-idp/profile/index.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { diffProfiles } from './diff.ts';
import { observeTarget, probedClients } from './observe.ts';

const base = await loadTarget('fixtures/targets/mock.json');
const library = await Promise.all(BUILTIN_PROFILES.map((name) => loadProfile(name)));
const variants = await loadVariants();
const profiles = [...new Map([...library, ...variants].map((p) => [p.name, p])).values()];

export function servingTarget(profile: Profile): Target {
  return { ...base, profile, profileRef: profile.name, embedded: { transport: 'direct' } } as Target;
}

describe('observe reproduces the served profile on the mock clock', () => {
  test.each(profiles.map((p) => ({ name: p.name, profile: p })))('$name', async ({ profile }) => {
    const target = servingTarget(profile);
    const r = await observeTarget(target);
    const differences = diffProfiles(profile, r.fields).filter((d) => d.differs);
    expect(differences.map((d) => `${d.field}: declared ${JSON.stringify(d.declared)}, observed ${JSON.stringify(d.observed.value)} (${d.observed.reason})`)).toEqual([]);
    expect(r.findings).toEqual([]);
    expect(r.problems).toEqual([]);

    // Not vacuous: what a mock clock always shows is observed exactly.
    const exact = new Set(r.fields.filter((f) => f.confidence === 'observed').map((f) => f.field));
    const must = ['accessTokenLifetimeSeconds', 'refreshTokenIssuance'];
    const clients = probedClients(target);
    const refreshing = clients.filter((c) => isRefreshPolicy(profile.policies[c.policy]!));
    for (const c of clients) must.push(`policies.${c.policy}.refresh`);
    for (const c of refreshing) must.push(`policies.${c.policy}.rotation`);
    if (refreshing.length) must.push('idTokenOnRefresh', 'refreshExpiresIn');
    if (refreshing.some((c) => profile.policies[c.policy]!.rotation)) must.push('invalidGrantStatus', 'reuseOfRotatedToken', 'concurrentRefresh', 'graceWindowSeconds');
    expect(must.filter((f) => !exact.has(f))).toEqual([]);
    // Lifetimes are seen: exactly, or bounded where the SSO session's end may hide them.
    for (const c of refreshing) {
      const life = r.fields.find((f) => f.field === `policies.${c.policy}.lifetimeSeconds`);
      expect(life?.confidence, c.policy).not.toBe('unobservable');
    }
  }, 300_000);
});
