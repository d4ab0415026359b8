/**
 * The whole catalogue against the correct embedded mock serving (and declaring) every profile
 * variant: nothing fails, errors, warns or is inconclusive, and the branches only some variants
 * reach (reuse only rejected, the grace wait, refusal and consumption after the SSO session) run.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import type { Profile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';
import { deviationsOf, loadDefectTable, loadMatrixProfiles } from './defect-table.ts';
import { catalogueResults } from './self-test.ts';

const variants = await loadVariants();
// The table names every profile the self-test runs (seeds, variants, library); it is validated against all of them.
const table = await loadDefectTable(await loadMatrixProfiles());
const results = new Map<string, InstanceResult[]>();
let base: Target;

beforeAll(async () => {
  base = await loadTarget('fixtures/targets/mock.json');
  // One catalogue run at a time: in parallel on a busy machine they starve each other's request timeouts.
  for (const p of variants) results.set(p.name, await catalogueResults(base, p));
}, 120_000);

const of = (variant: string, id: string, client: string) => {
  const r = results.get(variant)!.find((x) => x.id === id && x.client === client);
  if (!r) throw new Error(`no result for ${id} [${client}] under ${variant}`);
  return r;
};
const labels = (r: InstanceResult) => r.timeline.map((e) => `${e.kind}${e.label ? `: ${e.label}` : ''}`);

describe('the catalogue against the correct mock, per variant (declared = served)', () => {
  test.each(variants.map((p: Profile) => ({ name: p.name })))('$name: every check passes or is skipped', ({ name }) => {
    const list = results.get(name)!;
    // Strict: a correct mock on its exact clock leaves no check inconclusive (no allowed reasons). The one
    // exception is a deviation from a standard the profile documents (defects.json deviations): a warning.
    const documented = deviationsOf(table, name);
    const notPassed = list
      .filter((r) => r.status !== 'passed' && r.status !== 'skipped' && !(r.status === 'warning' && documented.includes(r.id)))
      .map((r) => `${r.status} ${r.id} [${r.client}]: ${r.message}`);
    expect(notPassed).toEqual([]);
    expect([...new Set(list.filter((r) => r.status === 'warning').map((r) => r.id))].sort()).toEqual(documented);
    expect(list.filter((r) => r.status === 'passed').length).toBeGreaterThan(50);
    // Every skip says why.
    expect(list.filter((r) => r.status === 'skipped' && !r.message)).toEqual([]);
  });
});

describe('branches only the variants reach', () => {
  test('the sliding-chain false verdict: Mobile (90 d) outlives the 8 h SSO session that ends refresh; skipped with the model reason', () => {
    // Before the checks read the model this failed against a correct mock.
    const r = of('telenorid-plus-sso-invalid-grant', 'expiry.sliding-chain-outlives-lifetime', 'mobile');
    expect(r.status).toBe('skipped');
    expect(r.message).toMatch(/after the first 7776000 s lifetime a refresh is refused \(SSO session is not active\)/);
    // Where the chain ends before the SSO session it still runs.
    expect(of('telenorid-plus-sso-invalid-grant', 'expiry.sliding-chain-outlives-lifetime', 'web').status).toBe('passed');
  });

  test('reuse only rejected: the newest token keeps working (both reject variants)', () => {
    for (const v of ['telenorid-plus-sso-invalid-grant', 'erp-net-reject-grace-mixed']) {
      const passed = results.get(v)!.filter((r) => r.id === 'rotation.reuse-rejected-family-kept' && r.status === 'passed');
      expect(passed.length, v).toBeGreaterThan(0);
      expect(results.get(v)!.filter((r) => r.id === 'rotation.reuse-revokes-family' && r.status !== 'skipped'), v).toEqual([]);
    }
  });

  test('a grace window: the rotation checks wait it out (31 s: the model\'s first second without a retry)', () => {
    for (const v of ['telenorid-plus-sso-consumed-grace', 'erp-net-reject-grace-mixed']) {
      const r = results.get(v)!.find((x) => x.id === 'rotation.old-token-rejected' && x.status === 'passed')!;
      expect(r, v).toBeDefined();
      const wait = r.timeline.find((e) => e.kind === 'wait' && e.label === 'the grace window to pass');
      expect(wait, v).toMatchObject({ seconds: 31 });
      // Concurrent refreshes may succeed twice under grace: the single-winner check does not apply.
      expect(results.get(v)!.filter((x) => x.id === 'rotation.concurrent-single-winner').map((x) => x.status), v).not.toContain('passed');
    }
  });

  test('refreshAfterSsoEnd invalid_grant: the refresh after logout and after the session lifetime is refused', () => {
    const logout = of('telenorid-plus-sso-invalid-grant', 'sso.refresh-after-logout', 'mobile');
    expect(logout.status).toBe('passed');
    expect(labels(logout)).toContain('rejected: after the SSO session');
    const expiry = of('telenorid-plus-sso-invalid-grant', 'sso.refresh-after-session-expiry', 'mobile');
    expect(expiry.status).toBe('passed');
    expect(labels(expiry)).toContain('rejected: after the SSO session');
  });

  test('presentedTokenAfterSsoEnd consumed: the presented token is refused the second time', () => {
    for (const id of ['sso.refresh-after-logout', 'sso.refresh-after-session-expiry']) {
      const r = of('telenorid-plus-sso-consumed-grace', id, 'mobile');
      expect(r.status, id).toBe('passed');
      expect(labels(r), id).toContain('rejected: presented token consumed');
    }
  });

  test('refreshTokenIssuance always: a refresh token without offline_access (an online token), and the "none without" check steps aside', () => {
    for (const v of ['erp-net-keycloak-like', 'telenorid-plus-auth0-like', 'erp-net-always-unbound']) {
      const online = results.get(v)!.filter((r) => r.id === 'offline-access.online-token-without-offline-access' && r.status === 'passed');
      expect(online.length, v).toBeGreaterThan(0);
      for (const r of online) expect(labels(r), v).toContain('login: online refresh token');
      const none = results.get(v)!.filter((r) => r.id === 'offline-access.none-without-offline-access' && r.client !== 'no-refresh' && r.client !== 'service');
      expect(none.map((r) => r.status), v).not.toContain('passed');
      for (const r of none) expect(r.message, v).toMatch(/refreshTokenIssuance always/);
    }
  });

  test('online tokens after logout, per onlineTokens.refreshAfterSsoEnd: refused (keycloak-like), kept (auth0-like), renewed (always-unbound)', () => {
    const keycloak = of('erp-net-keycloak-like', 'sso.online-token-ends-with-session', 'interactive');
    expect(keycloak.status).toBe('passed');
    expect(labels(keycloak)).toContain('rejected: after the SSO session');
    expect(labels(keycloak)[0]).toBe('login: online token');
    const auth0 = of('telenorid-plus-auth0-like', 'sso.online-token-ends-with-session', 'mobile');
    expect(auth0.status).toBe('passed');
    expect(labels(auth0)).not.toContain('rejected: after the SSO session');
    expect(of('erp-net-always-unbound', 'sso.online-token-ends-with-session', 'interactive').status).toBe('passed');
  });

  test('an offline token that survives logout refreshes twice after it; sso.refresh-after-logout steps aside there', () => {
    for (const v of ['erp-net', 'erp-net-keycloak-like', 'erp-net-always-unbound']) {
      const r = of(v, 'sso.offline-token-survives-logout', 'interactive');
      expect(r.status, v).toBe('passed');
      // login, logout, the first refresh after it, the second (a rotation: the first one's new token).
      expect(labels(r), v).toEqual(['login', 'logout', 'rotation', 'rotation: after logout, again']);
      expect(of(v, 'sso.refresh-after-logout', 'interactive').status, v).toBe('skipped');
    }
    expect(of('telenorid-plus', 'sso.offline-token-survives-logout', 'mobile').status).toBe('skipped');
  });

  test('sliding with a maximum (keycloak-like Interactive: 30 d idle, 60 d max): refreshed every 15 d, refused at 60 d', () => {
    const r = of('erp-net-keycloak-like', 'expiry.absolute-max-caps-sliding', 'interactive');
    expect(r.status).toBe('passed');
    expect(labels(r).filter((l) => l.startsWith('rotation') || l.startsWith('refresh'))).toHaveLength(3);
    expect(labels(r).at(-1)).toBe('rejected: absolute maximum');
    // The sliding chain still runs there, inside the cap.
    expect(of('erp-net-keycloak-like', 'expiry.sliding-chain-outlives-lifetime', 'interactive').status).toBe('passed');
  });

  test('grace retries (keycloak-like: 30 s window, 3 retries): three succeed, the fourth is refused; the window ends after 30 s', () => {
    const count = of('erp-net-keycloak-like', 'rotation.grace-retry-within-window', 'interactive');
    expect(count.status).toBe('passed');
    expect(count.timeline.filter((e) => e.kind === 'rotation')).toHaveLength(4);
    expect(labels(count).at(-1)).toBe('rejected: grace retries spent');
    const window = of('erp-net-keycloak-like', 'rotation.grace-window-ends', 'interactive');
    expect(window.status).toBe('passed');
    expect(window.timeline.filter((e) => e.kind === 'wait').map((e) => e.seconds)).toEqual([30, 31]);
    expect(labels(window).at(-1)).toBe('rejected: grace window over');
    // One retry (graceReuseCount default) in the older grace variants.
    expect(of('erp-net-reject-grace-mixed', 'rotation.grace-retry-within-window', 'interactive-fixed').timeline.filter((e) => e.kind === 'rotation')).toHaveLength(2);
  });

  test('same-successor concurrency: every success carries one successor, which works afterwards; single-winner steps aside', () => {
    for (const v of ['telenorid-plus-auth0-like', 'erp-net-always-unbound']) {
      const passed = results.get(v)!.filter((r) => r.id === 'rotation.concurrent-same-successor' && r.status === 'passed');
      expect(passed.length, v).toBeGreaterThan(0);
      for (const r of passed) expect(r.timeline.filter((e) => e.label === 'same successor again'), v).toHaveLength(7);
      expect(results.get(v)!.filter((r) => r.id === 'rotation.concurrent-single-winner').map((r) => r.status), v).not.toContain('passed');
    }
  });

  test('invalidGrantStatus 403 (auth0-like): the refusals warn, citing RFC 6749 §5.2 and the profile field; a 400 profile passes', () => {
    for (const id of ['token-endpoint.error-shape', 'token-endpoint.refused-token-error']) {
      const r = of('telenorid-plus-auth0-like', id, 'mobile');
      expect(r.status, id).toBe('warning');
      expect(r.message, id).toMatch(/expected: .*HTTP 400 with error=invalid_grant \(RFC 6749 §5\.2\)/);
      expect(r.message, id).toMatch(/seen: HTTP 403 error=invalid_grant, as the profile documents \(invalidGrantStatus 403\)/);
      expect(of('telenorid-plus', id, 'mobile').status, id).toBe('passed');
    }
  });

  test('introspection of access tokens only (auth0-like): coverage passes, the refresh-token introspection checks step aside', () => {
    expect(of('telenorid-plus-auth0-like', 'token-endpoint.introspection-coverage', 'mobile').status).toBe('passed');
    for (const id of ['token-endpoint.introspection-after-revocation', 'token-endpoint.introspection-after-rotation']) {
      const r = of('telenorid-plus-auth0-like', id, 'mobile');
      expect(r.status, id).toBe('skipped');
      expect(r.message, id).toMatch(/access tokens only/);
      expect(of('telenorid-plus', id, 'mobile').status, id).toBe('passed');
    }
  });

  test('idTokenOnRefresh never (auth0-like) and refresh_expires_in (keycloak-like) are judged', () => {
    expect(of('telenorid-plus-auth0-like', 'token-endpoint.id-token-on-refresh', 'mobile').status).toBe('passed');
    expect(of('erp-net-keycloak-like', 'token-endpoint.refresh-expires-in', 'interactive').status).toBe('passed');
    expect(of('erp-net', 'token-endpoint.refresh-expires-in', 'interactive').status).toBe('skipped');
  });
});
