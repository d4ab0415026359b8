/** Logout drivers: RP-initiated logout through a confirmation form, and the mock's control API. */
import { http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { CookieJar } from 'tough-cookie';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogoutDriver } from './drivers/index.ts';
import { endSessionLogout } from './drivers/logout/end-session.ts';
import { createMockLogout } from './drivers/logout/mock.ts';
import { ControlError, LogoutError } from './errors.ts';
import { createHttp } from './http.ts';
import { formatExchanges, Recorder } from './record.ts';

const IDP = 'https://op.test';
const END_SESSION = `${IDP}/end_session`;
const POST_LOGOUT = 'https://app.test/logged-out';
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const ADMIN = 'admin-token-0123456789';

const seen: Array<{ method: string; url: string; cookie: string | null; authorization: string | null; body: string }> = [];
let ssoEnded: string[] = [];
/** The query of the last end-session request: the IdP remembers post_logout_redirect_uri and state. */
let endSessionQuery = new URLSearchParams();

const html = (body: string, status = 200): Response =>
  new Response(`<html><head><title>Sign out</title></head><body>${body}</body></html>`, { status, headers: { 'content-type': 'text/html' } });

const confirmation = `
  <form method="post" action="/end_session/confirm">
    <input type="hidden" name="xsrf" value="x-1">
    <button name="logout" value="no">No, stay signed in</button>
    <button name="logout" value="yes">Yes, sign me out</button>
  </form>`;

const server = setupServer(
  mock.get(END_SESSION, ({ request }) => {
    endSessionQuery = new URL(request.url).searchParams;
    if (!request.headers.get('cookie')?.includes('sid=s1')) return html('<p>No session</p>', 400);
    return html(confirmation);
  }),
  mock.post(`${IDP}/end_session/confirm`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    if (form.get('logout') !== 'yes' || form.get('xsrf') !== 'x-1') return html('<p>Still signed in</p>');
    const clear = 'sid=; Path=/; Max-Age=0';
    const first = endSessionQuery;
    const target = first.get('post_logout_redirect_uri');
    if (!target) return new Response('<html><body><h1>You are signed out</h1><form action="/login"><button>Sign in again</button></form></body></html>', { headers: { 'content-type': 'text/html', 'set-cookie': clear } });
    return new Response(null, { status: 302, headers: { location: `${target}?state=${first.get('state')}`, 'set-cookie': clear } });
  }),
  mock.get(`${IDP}/end_session_login`, () => html('<form method=post><input name=u><input type=password name=p><button>Sign in</button></form>')),

  // The mock IdP's control API.
  mock.post(`${IDP}/__control/sso/end`, async ({ request }) => {
    if (request.headers.get('authorization') !== `Bearer ${ADMIN}`) return HttpResponse.json({ error: 'unauthorized' }, { status: 401 });
    const { username } = (await request.json()) as { username: string };
    ssoEnded.push(username);
    return HttpResponse.json({ ended: 1 });
  }),
);

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  server.events.on('request:start', ({ request }) => {
    void request
      .clone()
      .text()
      .then((body) =>
        seen.push({ method: request.method, url: request.url, cookie: request.headers.get('cookie'), authorization: request.headers.get('authorization'), body }),
      );
  });
});
afterEach(() => {
  seen.length = 0;
  ssoEnded = [];
});
afterAll(() => server.close());

async function loggedInJar(): Promise<CookieJar> {
  const jar = new CookieJar();
  await jar.setCookie('sid=s1; Path=/; Secure; HttpOnly', `${IDP}/login`);
  return jar;
}

describe('end-session logout', () => {
  it('confirms the logout and stops at the post_logout_redirect_uri without requesting it', async () => {
    const jar = await loggedInJar();
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 2000, recorder });
    const result = await endSessionLogout(
      http,
      { idToken: ID_TOKEN, cookieJar: jar, state: 'lo-1', clientId: 'app' },
      { endSessionEndpoint: END_SESSION, postLogoutRedirectUri: POST_LOGOUT },
    );
    expect(result).toEqual({ outcome: 'redirected', url: `${POST_LOGOUT}?state=lo-1`, state: 'lo-1' });
    const first = new URL(seen[0]!.url).searchParams;
    expect(Object.fromEntries(first)).toEqual({ id_token_hint: ID_TOKEN, post_logout_redirect_uri: POST_LOGOUT, state: 'lo-1', client_id: 'app' });
    expect(seen[0]!.cookie).toBe('sid=s1');
    expect(Object.fromEntries(new URLSearchParams(seen[1]!.body))).toEqual({ xsrf: 'x-1', logout: 'yes' });
    expect(seen.map((s) => s.url.startsWith(IDP))).toEqual([true, true]);
    expect(await jar.getCookieString(`${IDP}/`)).toBe(''); // the IdP cleared its cookie
    expect(formatExchanges(recorder.exchanges)).not.toContain(ID_TOKEN);
  });

  it("ends on the IdP's signed-out page without post_logout_redirect_uri, not submitting its forms", async () => {
    const result = await endSessionLogout(createHttp({ requestTimeoutMs: 2000 }), { idToken: ID_TOKEN, cookieJar: await loggedInJar() }, { endSessionEndpoint: END_SESSION });
    expect(result).toEqual({ outcome: 'page', url: `${IDP}/end_session/confirm` });
    expect(seen).toHaveLength(2); // the "Sign in again" form was left alone
  });

  it('refuses to log in when the end-session endpoint asks for credentials', async () => {
    const err = await endSessionLogout(createHttp({ requestTimeoutMs: 2000 }), { idToken: ID_TOKEN }, { endSessionEndpoint: `${IDP}/end_session_login` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogoutError);
    expect((err as LogoutError).code).toBe('LOGOUT_UNEXPECTED_RESPONSE');
    expect((err as LogoutError).message).toContain('asks for a login');
  });

  it('reports an error status with the page title', async () => {
    const err = await endSessionLogout(createHttp({ requestTimeoutMs: 2000 }), { idToken: ID_TOKEN, cookieJar: new CookieJar() }, { endSessionEndpoint: END_SESSION }).catch(
      (e: unknown) => e,
    );
    expect((err as LogoutError).code).toBe('LOGOUT_UNEXPECTED_RESPONSE');
    expect((err as LogoutError).message).toMatch(/^end-session logout: stopped at HTTP 400 "Sign out" at https:\/\/op\.test\/end_session\?id_token_hint=\[redacted:id_token_hint#[0-9a-f]{6}\]$/);
  });

  it('createLogoutDriver needs an end_session_endpoint', () => {
    expect(() => createLogoutDriver({ driver: 'end-session' }, { endpoints: {} })).toThrow(/ENDPOINT_MISSING|end_session_endpoint/);
    expect(createLogoutDriver({ driver: 'end-session' }, { endpoints: { endSession: END_SESSION } }).kind).toBe('end-session');
  });
});

describe('mock logout', () => {
  it("ends the user's SSO session through the control API, with the admin token hidden in the evidence", async () => {
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 2000, recorder });
    const driver = createLogoutDriver({ driver: 'mock' }, { endpoints: {}, issuer: IDP, adminToken: ADMIN });
    expect(await driver.logout(http, { username: 'alice' })).toEqual({ outcome: 'control' });
    expect(ssoEnded).toEqual(['alice']);
    expect(seen[0]).toMatchObject({ method: 'POST', url: `${IDP}/__control/sso/end`, authorization: `Bearer ${ADMIN}`, body: '{"username":"alice"}' });
    expect(formatExchanges(recorder.exchanges)).not.toContain(ADMIN);
  });

  it('fails with CONTROL_FAILED when the control API refuses', async () => {
    const driver = createMockLogout({ issuer: IDP, adminToken: 'wrong-token' });
    const err = await driver.logout(createHttp({ requestTimeoutMs: 2000 }), { username: 'alice' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).message).toBe(`POST ${IDP}/__control/sso/end returned HTTP 401: {"error":"unauthorized"}`);
  });

  it('uses an in-process control when given one', async () => {
    const calls: unknown[] = [];
    const driver = createMockLogout({ control: { endSsoSession: (input) => void calls.push(input) } });
    await driver.logout(createHttp({ requestTimeoutMs: 2000 }), { username: 'carol' });
    expect(calls).toEqual([{ username: 'carol' }]);
    expect(seen).toHaveLength(0);
  });
});
