/**
 * A target whose declaration is wrong makes exactly the checks concerned fail: the mock serves
 * the real telenorid-plus profile while the suites check a declaration with one field changed.
 */
import { describe, expect, test } from 'vitest';
import { loadProfile, type Profile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { runCatalogue } from './pipeline.ts';

async function failuresWhenDeclared(change: (p: Profile) => Profile) {
  const served = await loadProfile('telenorid-plus');
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, profile: change(structuredClone(served)), embedded: { transport: 'direct' } } as Target;
  const { results } = await runCatalogue(target, { servedProfile: served });
  return {
    failed: results.filter((r) => r.status === 'failed').map((r) => `${r.id} [${r.client}]`).sort(),
    messages: results.filter((r) => r.status === 'failed').map((r) => r.message ?? ''),
    passed: results.filter((r) => r.status === 'passed').length,
    inconclusive: results.filter((r) => r.status === 'inconclusive').map((r) => `${r.id} [${r.client}]`).sort(),
  };
}

describe('a wrong declaration fails exactly the checks concerned', () => {
  test('control: the true declaration passes everything', async () => {
    const r = await failuresWhenDeclared((p) => p);
    expect(r.failed).toEqual([]);
    expect(r.inconclusive).toEqual([]);
    expect(r.passed).toBeGreaterThan(80);
  });

  test('Mobile declared fixed (it slides)', async () => {
    const r = await failuresWhenDeclared((p) => ({ ...p, policies: { ...p.policies, Mobile: { ...p.policies.Mobile!, expiry: 'fixed' } } }));
    expect(r.failed).toEqual(['expiry.fixed-not-extended [mobile]']);
    expect(r.messages[0]).toMatch(/fixed expiry/);
    expect(r.messages[0]).toMatch(/HTTP exchanges/);
  });

  test('Mobile declared without rotation (it rotates)', async () => {
    const r = await failuresWhenDeclared((p) => ({ ...p, policies: { ...p.policies, Mobile: { ...p.policies.Mobile!, rotation: false } } }));
    expect(r.failed).toEqual(['rotation.not-rotated-when-declared-off [mobile]']);
    expect(r.messages[0]).toMatch(/no new refresh_token/);
  });

  test('Confidential declared with rotation (it does not rotate)', async () => {
    const r = await failuresWhenDeclared((p) => ({ ...p, policies: { ...p.policies, Confidential: { ...p.policies.Confidential!, rotation: true } } }));
    expect(r.failed).toEqual([
      'rotation.concurrent-single-winner [confidential]',
      'rotation.new-token-each-refresh [confidential]',
      'sso.new-token-while-session-active [confidential]',
    ]);
    // The checks that need a rotated-out token to judge something else observed nothing: one
    // deviation fails the checks about it, not the ones it leaves without a starting point.
    expect(r.inconclusive).toEqual([
      'rotation.old-token-rejected [confidential]',
      'rotation.reuse-revokes-family [confidential]',
      'token-endpoint.introspection-after-rotation [confidential]',
      'token-endpoint.refused-token-error [confidential]',
    ]);
  });

  test('access tokens declared to live an hour (they live 5 minutes)', async () => {
    const r = await failuresWhenDeclared((p) => ({ ...p, accessTokenLifetimeSeconds: 3600 }));
    expect(r.failed).toEqual(['confidential', 'mobile', 'no-refresh', 'public-web', 'web'].map((c) => `expiry.access-token-expires-in [${c}]`));
  });
});
