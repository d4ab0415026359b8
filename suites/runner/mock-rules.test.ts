/**
 * The mock's rule table (mock-idp/rules.ts) against the check catalogue: both sides cite the same
 * tokens, so a clause or a check id leads to the rule that serves it and back.
 */
import { describe, expect, it } from 'vitest';
import { sameToken, renderCitations } from '../../mock-idp/citations.ts';
import { correctBehaviour } from '../../mock-idp/behaviour.ts';
import { BUILTIN_PROFILES, loadProfile, type Profile } from '../../mock-idp/profile/index.ts';
import { MOCK_RULES } from '../../mock-idp/rules.ts';
import { OnlineTokens, Policy, PolicyV1, Profile as ProfileSchema, ProfileV1 } from '../../mock-idp/profile/schema.ts';
import { CHECKS, type ApplicabilityInput, type Check, type CheckClient } from '../checks/index.ts';
import { citationsOf } from '../checks/citations.ts';
import { planChecks } from './plan.ts';
import type { TargetClient } from '../harness/target.ts';

const profiles: Profile[] = await Promise.all(BUILTIN_PROFILES.map((name) => loadProfile(name)));

/** One client per policy of each built-in profile, the others as its peers. */
const inputs: ApplicabilityInput[] = profiles.flatMap((profile) => {
  const clients: CheckClient[] = Object.keys(profile.policies).map((policy) => ({ id: `client-${policy}`, auth: 'none', redirectUri: 'https://client.example/cb', policy }));
  return clients.map((client) => ({ profile, policy: profile.policies[client.policy]!, client, otherClients: clients.filter((c) => c !== client) }));
});

/** The inputs a check applies to (all of them when it applies to none of the built-in profiles' clients). */
function inputsOf(check: Check): ApplicabilityInput[] {
  const applicable = inputs.filter((i) => check.applies(i) === true);
  return applicable.length ? applicable : inputs;
}

const byId = new Map(CHECKS.map((c) => [c.id, c]));

describe('mock rules and checks cite the same tokens', () => {
  it('every check id the table names exists in the catalogue', () => {
    const unknown = MOCK_RULES.flatMap((r) => r.observedBy.filter((id) => !byId.has(id)).map((id) => `${r.name}: ${id}`));
    expect(unknown).toEqual([]);
  });

  it('rule names are unique, and every rule is observed by at least one check', () => {
    expect(new Set(MOCK_RULES.map((r) => r.name)).size).toBe(MOCK_RULES.length);
    expect(MOCK_RULES.filter((r) => r.observedBy.length === 0).map((r) => r.name)).toEqual([]);
  });

  it('every check observes at least one mock rule', () => {
    const observed = new Set(MOCK_RULES.flatMap((r) => r.observedBy));
    expect(CHECKS.map((c) => c.id).filter((id) => !observed.has(id))).toEqual([]);
  });

  it('a check shares at least one citation token with each rule it observes, for every client it applies to', () => {
    const missing: string[] = [];
    for (const rule of MOCK_RULES) {
      for (const id of rule.observedBy) {
        const check = byId.get(id);
        if (!check) continue;
        for (const input of inputsOf(check)) {
          const cited = citationsOf(check, input);
          if (!cited.some((c) => rule.citations.some((r) => sameToken(c, r)))) {
            missing.push(`${id} [${input.profile.name} ${input.client.policy}] cites "${renderCitations(cited)}"; ${rule.name} cites "${renderCitations(rule.citations)}"`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('every field schema v2 added is cited by a mock rule (the mock implements each)', () => {
    const keys = (schema: unknown) => Object.keys((schema as { shape: object }).shape);
    const added = [
      ...keys(ProfileSchema).filter((k) => !keys(ProfileV1).includes(k) && k !== 'version' && k !== 'onlineTokens'),
      ...keys(OnlineTokens).map((k) => `onlineTokens.${k}`),
      ...keys(Policy).filter((k) => !keys(PolicyV1).includes(k)).map((k) => `policies.*.${k}`),
    ];
    expect(added).toEqual(expect.arrayContaining(['refreshTokenIssuance', 'invalidGrantStatus', 'onlineTokens.refreshAfterSsoEnd', 'policies.*.maxLifetimeSeconds']));
    const cited = new Set(MOCK_RULES.flatMap((r) => r.citations.flatMap((c) => ('profileField' in c ? [c.profileField] : []))));
    expect(added.filter((f) => !cited.has(f))).toEqual([]);
  });

  it('every guard of the refresh grant is in the table', () => {
    const guards = correctBehaviour(profiles[0]!).refreshGuards.map((g) => `refresh-guard.${g.name}`);
    expect(guards.filter((name) => !MOCK_RULES.some((r) => r.name === name))).toEqual([]);
    expect(MOCK_RULES.filter((r) => r.name.startsWith('refresh-guard.') && !guards.includes(r.name)).map((r) => r.name)).toEqual([]);
  });
});

describe('the plan resolves citations per client', () => {
  it('gives each instance its policy\'s citations, each token once, and the clause as their text', () => {
    const profile = profiles[0]!;
    const clients: TargetClient[] = Object.entries(profile.policies).map(([policy, policyRules]) => ({ id: `c-${policy}`, auth: 'none', redirectUri: 'https://client.example/cb', policy, policyRules, scope: 'openid' }));
    const plan = planChecks({ profile, clients, clock: { driver: 'mock' } });
    const rotation = plan.find((i) => i.check.id === 'rotation.new-token-each-refresh' && i.client.policy === 'Mobile')!;
    expect(rotation.citations).toContainEqual({ profileField: 'policies.Mobile.rotation', value: true });
    expect(rotation.clause).toBe(renderCitations(rotation.citations));
    expect(rotation.clause).toContain('profile policies.Mobile.rotation=true; RFC 6749 §6');
    for (const instance of plan) {
      expect(instance.citations.length, instance.name).toBeGreaterThan(0);
      const texts = instance.citations.map((c) => JSON.stringify(c));
      expect(new Set(texts).size, instance.name).toBe(texts.length);
    }
    // The profile cites reuseOfRotatedToken with a note, the check with its value: one token, both.
    const reuse = plan.find((i) => i.check.id === 'rotation.reuse-revokes-family' && i.client.policy === 'Mobile')!;
    expect(reuse.citations.filter((c) => 'profileField' in c && c.profileField === 'reuseOfRotatedToken')).toEqual([
      { profileField: 'reuseOfRotatedToken', value: 'revoke-family', note: 'the seeds are silent: see its note' },
    ]);
  });
});
