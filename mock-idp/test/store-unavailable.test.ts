/**
 * A store that becomes unreachable (Redis lost) while the mock serves: every endpoint answers it
 * with 503 temporarily_unavailable (JSON, no-store) or, at the authorization endpoint, a redirect
 * with error=temporarily_unavailable (RFC 6749 §4.1.2.1) when the client and redirect_uri are valid;
 * never a 500, never an unexpected error. When the store is back everything works again, and a
 * refresh cut anywhere by the loss either fully happened or not at all (no partial rotation).
 */
import { describe, expect, it } from 'vitest';
import { createMockIdp, type MockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { IdpClient, basic, pkce } from './client.ts';
import { switchableStore, type SwitchableStore } from './switchable-store.ts';

const profile = await loadProfile('telenorid-plus');

async function start(o: { replicated?: boolean } = {}): Promise<{ idp: MockIdp; c: IdpClient; store: SwitchableStore; errors: unknown[] }> {
  const store = switchableStore({ replicated: o.replicated ?? false });
  const errors: unknown[] = [];
  const idp = await createMockIdp({ profile, issuer: 'https://down.test', testMode: true, store, onError: (e) => errors.push(e) });
  return { idp, c: new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init))), store, errors };
}

/** One request straight to the handler, read as the client would (not through IdpClient's invariants: a 503 is expected here). */
async function send(idp: MockIdp, path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; body: any }> {
  const res = await idp.fetch(new Request(path.startsWith('http') ? path : idp.issuer + path, { redirect: 'manual', ...init }));
  const text = await res.text();
  let body: unknown;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, body };
}

const form = (params: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(params).toString(),
});

/** The 503 of an API endpoint: JSON temporarily_unavailable, no-store (RFC 6749 §5.1), nothing else in the body. */
function expectUnavailable(r: { status: number; headers: Headers; body: any; text: string }): void {
  expect(r.status, r.text).toBe(503);
  expect(Object.keys(r.body ?? {}).sort()).toEqual(['error', 'error_description']);
  expect(r.body.error).toBe('temporarily_unavailable');
  expect(r.headers.get('cache-control')).toBe('no-store');
  expect(r.headers.get('pragma')).toBe('no-cache');
}

describe('the store is lost while the mock serves', () => {
  it('every endpoint answers 503 temporarily_unavailable (authorize: by redirect), never a 500; all works again when it is back', async () => {
    const { idp, c, store, errors } = await start();
    const mobile = c.client('Mobile');
    const machine = idp.clients.find((x) => x.confidential && (x.grantTypes as string[]).includes('client_credentials'))!;
    const t = await c.tokens(mobile);
    const code = await c.signIn(mobile);
    const auth = { authorization: basic(machine.id, machine.secret!) };
    const introspector = c.introspector;
    const introspectAuth = { authorization: basic(introspector.id, introspector.secret!) };

    store.down = true;
    const refresh = form({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_id: mobile.id });
    expectUnavailable(await send(idp, '/token', refresh));
    expectUnavailable(await send(idp, '/token', form({ grant_type: 'authorization_code', code: code.code, redirect_uri: mobile.redirectUris[0]!, code_verifier: code.verifier, client_id: mobile.id })));
    expectUnavailable(await send(idp, '/token', form({ grant_type: 'client_credentials' }, auth)));
    expectUnavailable(await send(idp, '/revoke', form({ token: t.refresh_token!, client_id: mobile.id })));
    expectUnavailable(await send(idp, '/introspect', form({ token: t.access_token }, introspectAuth)));
    expectUnavailable(await send(idp, '/userinfo', { headers: { authorization: `Bearer ${t.access_token}` } }));
    for (const [method, path, body] of [
      ['GET', '/clock', undefined],
      ['POST', '/clock/advance', { seconds: 5 }],
      ['POST', '/sso/end', { username: c.user.username }],
      ['POST', '/grants/revoke', { username: c.user.username }],
      ['GET', `/families?username=${c.user.username}`, undefined],
      ['POST', '/reset', undefined],
    ] as const) {
      const headers: Record<string, string> = { authorization: `Bearer ${idp.adminToken}`, ...(body && { 'content-type': 'application/json' }) };
      const r = await send(idp, `/__control${path}`, { method, headers, ...(body && { body: JSON.stringify(body) }) });
      // The clock of a store of one mock is the mock's own: reading it needs no store.
      if (path === '/clock' || path === '/clock/advance') expect(r.status).toBe(200);
      else expectUnavailable(r);
    }

    // Authorize: the client and redirect_uri are valid (configuration), so the client is told by redirect.
    const challenge = pkce();
    const authorizeUrl = c.authorizeUrl(mobile, { state: 'st-1' }, challenge);
    const a = await send(idp, authorizeUrl);
    expect(a.status).toBe(302);
    const back = new URL(a.headers.get('location')!);
    expect(back.href.startsWith(mobile.redirectUris[0]!)).toBe(true);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'temporarily_unavailable', state: 'st-1', iss: idp.issuer });
    expect(back.searchParams.get('code')).toBeNull();
    // Without the shortcut (the login page would be kept as a pending login), and with an SSO cookie: the same.
    expect(new URL((await send(idp, c.authorizeUrl(mobile, { loginHint: null }, challenge))).headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    expect(new URL((await send(idp, authorizeUrl, { headers: { cookie: t.cookie! } })).headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    // An unknown redirect_uri is still refused as such (shown, never redirected): it needs no store.
    expect((await send(idp, c.authorizeUrl(mobile, { redirectUri: 'https://evil.test/cb' }, challenge))).status).toBe(400);
    // The browser's other pages: a 503 page.
    const login = await send(idp, '/login', form({ tx: 'x', username: 'u', password: 'p' }, { origin: idp.issuer, cookie: 'mock_idp_login=abcdefghijklmnopqrstuvwx' }));
    expect([login.status, login.headers.get('content-type')]).toEqual([503, 'text/html; charset=utf-8']);
    const logout = await send(idp, '/end-session', { headers: { cookie: t.cookie! } });
    expect(logout.status).toBe(503);
    // What needs no store is served: discovery and the JWKS (relying parties still verify ID tokens).
    expect((await send(idp, '/.well-known/openid-configuration')).status).toBe(200);
    expect((await send(idp, '/jwks')).status).toBe(200);
    // The housekeeping sweep (every 1024 requests) fails with the store, not the request that runs it.
    const statuses = new Set<number>();
    for (let i = 0; i < 1100; i++) statuses.add((await send(idp, '/jwks')).status);
    expect([...statuses]).toEqual([200]);
    expect(errors).toEqual([]);

    // Back: nothing of the refused requests happened, everything works.
    store.down = false;
    const again = await send(idp, '/token', refresh);
    expect(again.status, again.text).toBe(200);
    const exchanged = await c.exchange(mobile, code.code, code.verifier);
    expect(exchanged.status, exchanged.text).toBe(200);
    expect(await c.active(t.access_token)).toBe(true);
    expect((await c.userinfo(t.access_token)).status).toBe(200);
    expect((await c.tokens(mobile)).refresh_token).toBeTruthy();
    expect(await idp.control.families({ username: c.user.username })).toHaveLength(3);
    expect(errors).toEqual([]);
    expect(c.violations).toEqual([]);
  });

  it('with a replicated store the per-request clock read fails first: the same answers (authorize still redirects)', async () => {
    const { idp, c, store, errors } = await start({ replicated: true });
    const mobile = c.client('Mobile');
    const t = await c.tokens(mobile);
    store.down = true;
    expectUnavailable(await send(idp, '/token', form({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_id: mobile.id })));
    expectUnavailable(await send(idp, '/userinfo', { headers: { authorization: `Bearer ${t.access_token}` } }));
    expectUnavailable(await send(idp, '/__control/clock', { headers: { authorization: `Bearer ${idp.adminToken}` } }));
    expectUnavailable(await send(idp, '/__control/clock/advance', { method: 'POST', headers: { authorization: `Bearer ${idp.adminToken}`, 'content-type': 'application/json' }, body: '{"seconds":5}' }));
    await expect(idp.control.advance(5)).rejects.toThrow(/store unavailable/);
    const a = await send(idp, c.authorizeUrl(mobile, { state: 's' }, pkce()));
    expect(new URL(a.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    expect((await send(idp, '/jwks')).status).toBe(200);
    store.down = false;
    const now = await idp.control.now();
    expect(await idp.control.advance(5)).toBe(now + 5);
    expect((await c.refresh(mobile, t.refresh_token!)).status).toBe(200);
    expect(errors).toEqual([]);
    expect(c.violations).toEqual([]);
  });

  it('a refresh cut at any of its store operations either fully happened or not at all', async () => {
    const { idp, c, store, errors } = await start({ replicated: true });
    const mobile = c.client('Mobile');
    let completed = false;
    for (let cut = 0; !completed; cut++) {
      expect(cut).toBeLessThan(50); // a refresh makes a handful of store calls
      await idp.control.reset();
      const t = await c.tokens(mobile);
      store.failAfter(cut);
      const r = await send(idp, '/token', form({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_id: mobile.id }));
      store.failAfter(Number.POSITIVE_INFINITY);
      store.down = false;
      const [family] = await idp.control.families({ username: c.user.username });
      if (r.status === 503) {
        // Not happened: the presented token is as it was, alone in its family, and refreshes now.
        expectUnavailable(r);
        expect(family!.revokedAt).toBeUndefined();
        expect(family!.tokens.map((x) => [x.generation, x.state, x.usedAt])).toEqual([[0, 'active', undefined]]);
        const retry = await c.refresh(mobile, t.refresh_token!);
        expect(retry.status, retry.text).toBe(200);
      } else {
        // Happened: rotated, and the successor the client got works.
        expect(r.status, r.text).toBe(200);
        expect(family!.tokens.map((x) => [x.generation, x.state])).toEqual([
          [0, 'rotated'],
          [1, 'active'],
        ]);
        expect((await c.refresh(mobile, r.body.refresh_token)).status).toBe(200);
        completed = true;
      }
    }
    expect(errors).toEqual([]);
    expect(c.violations).toEqual([]);
  });
});
