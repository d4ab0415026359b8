/**
 * A target that cannot log out (logout.driver "none", or an IdP without end_session_endpoint) runs
 * every check but the ones that need a logout; those are skipped with the reason. A remote target at
 * https://no-logout.test, simulated with msw: discovery, JWKS, the login_hint shortcut and a token
 * endpoint that refuses codes and refresh tokens (as in faults.test.ts).
 */
import { exportJWK, generateKeyPair } from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS, type CheckClient } from '../checks/index.ts';
import { loadProfile } from '../../mock-idp/index.ts';
import { parseTarget, type Target } from '../harness/target.ts';
import { capabilitiesOf, connectRemote } from './connection.ts';
import { runCatalogue } from './pipeline.ts';

const ISSUER = 'https://no-logout.test';
const server = setupServer();

beforeAll(async () => {
  const { publicKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
  server.use(
    // No end_session_endpoint.
    http.get(`${ISSUER}/.well-known/openid-configuration`, () =>
      HttpResponse.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` }),
    ),
    // Also served elsewhere, for a target's discoveryUrl.
    http.get(`${ISSUER}/meta/openid-configuration`, () =>
      HttpResponse.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks`, end_session_endpoint: `${ISSUER}/logout` }),
    ),
    http.get(`${ISSUER}/jwks`, () => HttpResponse.json(jwks)),
    http.get(`${ISSUER}/authorize`, ({ request }) => {
      const q = new URL(request.url).searchParams;
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', `code-${Math.random().toString(36).slice(2)}-0123456789`);
      back.searchParams.set('state', q.get('state') ?? '');
      return new HttpResponse(null, { status: 302, headers: { location: back.href } });
    }),
    http.post(`${ISSUER}/token`, () => HttpResponse.json({ error: 'invalid_grant', error_description: 'refused' }, { status: 400 })),
  );
  server.listen({ onUnhandledRequest: 'error' });
});
afterAll(() => server.close());

function targetFile(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'no-logout',
    profile: 'telenorid-plus',
    issuer: ISSUER,
    clients: [{ id: 'mobile', auth: 'none', redirectUri: 'https://rp.example/cb', policy: 'Mobile', scope: 'openid profile' }],
    login: { driver: 'mock', username: 'alice' },
    clock: { driver: 'real', maxWaitSeconds: 0 },
    timeouts: { requestMs: 1000, runMs: 20_000 },
    ...overrides,
  };
}

async function run(logout: unknown, overrides: Record<string, unknown> = {}) {
  const t = await parseTarget(targetFile({ logout, ...overrides }), 'needs.test.ts');
  return (await runCatalogue(t, { concurrency: 4 })).results;
}

const needsLogout = CHECKS.filter((c) => c.needs?.includes('logout')).map((c) => c.id);

/** Does the check apply to the target's Mobile client (telenorid-plus) at all? Where not, its own reason comes before the missing logout. */
const profile = await loadProfile('telenorid-plus');
const mobile: CheckClient = { id: 'mobile', auth: 'none', redirectUri: 'https://rp.example/cb', policy: 'Mobile', scope: 'openid profile' };
const appliesToMobile = (id: string) => CHECKS.find((c) => c.id === id)!.applies({ profile, policy: profile.policies.Mobile!, client: mobile, otherClients: [] }) === true;

describe('a target that cannot log out', () => {
  it('declares the checks that log out', () => {
    expect(needsLogout).toEqual(['sso.refresh-after-logout', 'sso.offline-token-survives-logout', 'sso.online-token-ends-with-session']);
  });

  it.each([
    ['an IdP without end_session_endpoint', { driver: 'end-session' }, "needs logout: the IdP's discovery has no end_session_endpoint (and the target sets no endpoints.endSession)"],
    ['logout.driver "none"', { driver: 'none' }, 'needs logout: the target declares no logout (logout.driver none)'],
  ])('%s: only the checks that log out are skipped, with the reason; every other one runs', async (_name, logout, reason) => {
    const results = await run(logout);
    const logoutChecks = results.filter((x) => needsLogout.includes(x.id));
    expect(logoutChecks.filter((r) => appliesToMobile(r.id)).map((r) => r.id)).toEqual(['sso.refresh-after-logout']);
    for (const r of logoutChecks) expect(r).toMatchObject({ status: 'skipped', ...(appliesToMobile(r.id) && { message: reason }) });
    const ran = results.filter((r) => r.status !== 'skipped');
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.filter((r) => r.status === 'passed').length).toBeGreaterThan(0);
    // Before: every check died at connection time with ENDPOINT_MISSING.
    for (const r of ran) expect(r.message ?? '').not.toMatch(/ENDPOINT_MISSING|LOGOUT_UNAVAILABLE|end_session/);
  });
});

describe('target format', () => {
  it("discovers at the target's discoveryUrl, and then the target can log out", async () => {
    const t = await parseTarget(targetFile({ logout: { driver: 'end-session' }, discoveryUrl: `${ISSUER}/meta/openid-configuration` }), 'needs.test.ts');
    const conn = await connectRemote(t as Extract<Target, { kind: 'remote' }>);
    expect(conn.endpoints.endSession).toBe(`${ISSUER}/logout`);
    expect(capabilitiesOf(t, conn.endpoints).logout).toBe(true);
  });

  it('runs a client without redirectUri (client_credentials only): its checks never try to log in', async () => {
    const results = await run(
      { driver: 'none' },
      {
        profile: 'erp-net',
        clients: [{ id: 'svc', secret: 'svc-secret-0123456789', auth: 'client_secret_post', policy: 'Service' }],
        login: { driver: 'form', username: 'u', password: 'p' },
      },
    );
    expect(results.filter((r) => r.status !== 'skipped').length).toBeGreaterThan(0);
    for (const r of results) expect(r.message ?? '').not.toContain('redirectUri');
  });
});
