/**
 * The catalogue against the correct embedded mock serving the node-oidc-provider profile, for the
 * branches its rotateAfterLifetimePercent opens (that nothing fails is library.test.ts's business):
 * its Web policy rotates only after 70 % of a token's lifetime, so the checks that need a rotation
 * right after login skip it with the model's reason, and the no-rotation check runs for it instead.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadProfile } from '../../mock-idp/profile/index.ts';
import { loadTarget } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';
import { catalogueResults } from './self-test.ts';

let results: InstanceResult[];

beforeAll(async () => {
  results = await catalogueResults(await loadTarget('fixtures/targets/mock.json'), await loadProfile('node-oidc-provider'));
}, 120_000);

const of = (id: string, client: string) => {
  const r = results.find((x) => x.id === id && x.client === client);
  if (!r) throw new Error(`no result for ${id} [${client}]`);
  return r;
};

describe('the catalogue against the mock serving node-oidc-provider: a late rotation', () => {
  test('Web (rotation after 70 %): the rotation checks skip with the model reason; the no-rotation check passes', () => {
    for (const id of ['rotation.new-token-each-refresh', 'rotation.old-token-rejected', 'rotation.reuse-revokes-family', 'token-endpoint.introspection-after-rotation']) {
      const r = of(id, 'web');
      expect(r.status, id).toBe('skipped');
      expect(r.message, id).toMatch(/rotates only once 70 % of a token's 14 d lifetime has passed: a refresh right after login keeps the token/);
    }
    expect(of('rotation.not-rotated-when-declared-off', 'web').status).toBe('passed');
    // Kept after logout as during the session: the token survives logout, refreshing twice with the same token.
    const survives = of('sso.offline-token-survives-logout', 'web');
    expect(survives.status).toBe('passed');
    expect(survives.timeline.map((e) => `${e.kind}${e.label ? `: ${e.label}` : ''}`)).toContain('refresh: after logout, again');
  });

  test('Native and SPA (public): every refresh rotates; reuse revokes the family', () => {
    for (const client of ['native', 'spa']) {
      expect(of('rotation.new-token-each-refresh', client).status, client).toBe('passed');
      expect(of('rotation.reuse-revokes-family', client).status, client).toBe('passed');
      expect(of('rotation.not-rotated-when-declared-off', client).status, client).toBe('skipped');
    }
  });
});
