/** Logout drivers: RP-initiated logout through a confirmation form, and the mock's control API. */
import { http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { CookieJar } from 'tough-cookie';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogoutDriver } from './drivers/index.ts';
import { endSessionLogout } from './drivers/logout/end-session.ts';
import { createMockLogout } from './drivers/logout/mock.ts';
import { ControlError, LogoutError, SetupError } from './errors.ts';
import { createHttp } from './http.ts';
import { formatExchanges, Recorder } from './record.ts';
import { marker } from './redact.ts';

const IDP = 'https://op.test';
const END_SESSION = `${IDP}/end_session`;
const POST_LOGOUT = 'https://app.test/logged-out';
const AUTHORIZE = `${IDP}/authorize`;
const REDIRECT = 'https://app.test/cb';
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
  // Logs out, then shows its own login page.
  mock.get(`${IDP}/end_session_to_login`, () => new Response(null, { status: 302, headers: { location: `${IDP}/login`, 'set-cookie': 'sid=; Path=/; Max-Age=0' } })),
  mock.get(`${IDP}/login`, () => signInPage()),
  // Says "signed out", keeps the session.
  mock.get(`${IDP}/end_session_noop`, () => html('<h1>You are signed out</h1>')),
  mock.get(`${IDP}/end_session_noop_redirect`, ({ request }) => {
    const q = new URL(request.url).searchParams;
    return new Response(null, { status: 302, headers: { location: `${q.get('post_logout_redirect_uri')}?state=${q.get('state')}` } });
  }),

  // OIDC Core §3.1.2: with the session cookie a code, without it login_required for prompt=none, else the login page.
  mock.get(AUTHORIZE, ({ request }) => {
    const q = new URL(request.url).searchParams;
    const back = new URL(q.get('redirect_uri')!);
    back.searchParams.set('state', q.get('state')!);
    if (request.headers.get('cookie')?.includes('sid=s1')) back.searchParams.set('code', 'c-1');
    else if (q.get('prompt') === 'none') back.searchParams.set('error', 'login_required');
    else return signInPage();
    return new Response(null, { status: 302, headers: { location: back.href } });
  }),
  // An IdP that never says login_required.
  mock.get(`${IDP}/authorize_interaction`, ({ request }) => {
    const q = new URL(request.url).searchParams;
    return new Response(null, { status: 302, headers: { location: `${q.get('redirect_uri')}?error=interaction_required&state=${q.get('state')}` } });
  }),

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

function signInPage(): Response {
  return new Response('<html><head><title>Sign in</title></head><body><form method=post action="/login"><input name=u><input type=password name=p><button>Sign in</button></form></body></html>', {
    headers: { 'content-type': 'text/html' },
  });
}

async function loggedInJar(): Promise<CookieJar> {
  const jar = new CookieJar();
  await jar.setCookie('sid=s1; Path=/; Secure; HttpOnly', `${IDP}/login`);
  return jar;
}

describe('end-session logout', () => {
  const http = () => createHttp({ requestTimeoutMs: 2000 });
  const input = async () => ({ idToken: ID_TOKEN, cookieJar: await loggedInJar(), clientId: 'app', redirectUri: REDIRECT });

  it('confirms the logout and stops at the post_logout_redirect_uri without requesting it, then proves it with prompt=none', async () => {
    const jar = await loggedInJar();
    const recorder = new Recorder();
    const result = await endSessionLogout(
      createHttp({ requestTimeoutMs: 2000, recorder }),
      { idToken: ID_TOKEN, cookieJar: jar, state: 'lo-1', clientId: 'app', redirectUri: REDIRECT },
      { endSessionEndpoint: END_SESSION, postLogoutRedirectUri: POST_LOGOUT, authorizationEndpoint: AUTHORIZE },
    );
    expect(result).toEqual({ outcome: 'redirected', url: `${POST_LOGOUT}?state=lo-1`, state: 'lo-1', confirmedBy: 'login_required' });
    const first = new URL(seen[0]!.url).searchParams;
    expect(Object.fromEntries(first)).toEqual({ id_token_hint: ID_TOKEN, post_logout_redirect_uri: POST_LOGOUT, state: 'lo-1', client_id: 'app' });
    expect(seen[0]!.cookie).toBe('sid=s1');
    expect(Object.fromEntries(new URLSearchParams(seen[1]!.body))).toEqual({ xsrf: 'x-1', logout: 'yes' });
    // The effect: an authorization request with prompt=none and the login's (now empty) cookie jar.
    const probe = new URL(seen[2]!.url);
    expect(`${probe.origin}${probe.pathname}`).toBe(AUTHORIZE);
    expect(probe.searchParams.get('prompt')).toBe('none');
    expect(probe.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(seen[2]!.cookie).toBeNull();
    expect(seen).toHaveLength(3);
    expect(await jar.getCookieString(`${IDP}/`)).toBe(''); // the IdP cleared its cookie
    expect(formatExchanges(recorder.exchanges)).not.toContain(ID_TOKEN);
  });

  it("ends on the IdP's signed-out page without post_logout_redirect_uri, not submitting its forms", async () => {
    const result = await endSessionLogout(http(), await input(), { endSessionEndpoint: END_SESSION, authorizationEndpoint: AUTHORIZE });
    expect(result).toEqual({ outcome: 'page', url: `${IDP}/end_session/confirm`, confirmedBy: 'login_required' });
    expect(seen.map((s) => s.method)).toEqual(['GET', 'POST', 'GET']); // the "Sign in again" form was left alone
  });

  it('without the prompt=none proof, the redirect to the registered post_logout_redirect_uri confirms it', async () => {
    const result = await endSessionLogout(http(), { ...(await input()), state: 'lo-2' }, { endSessionEndpoint: END_SESSION, postLogoutRedirectUri: POST_LOGOUT });
    expect(result).toEqual({ outcome: 'redirected', url: `${POST_LOGOUT}?state=lo-2`, state: 'lo-2', confirmedBy: 'post_logout_redirect_uri' });
  });

  it('an IdP that logs out and then shows its login page has logged out (the form is never filled)', async () => {
    // Before: LOGOUT_UNEXPECTED_RESPONSE "the IdP asks for a login", and a failed sso.refresh-after-logout.
    const result = await endSessionLogout(http(), await input(), { endSessionEndpoint: `${IDP}/end_session_to_login`, authorizationEndpoint: AUTHORIZE });
    expect(result).toEqual({ outcome: 'page', url: `${IDP}/login`, confirmedBy: 'login_required' });
    expect(seen.filter((s) => s.method === 'POST')).toEqual([]);
  });

  it('an end-session endpoint that leaves the session active is LOGOUT_UNCONFIRMED', async () => {
    const err = await endSessionLogout(http(), await input(), { endSessionEndpoint: `${IDP}/end_session_noop`, authorizationEndpoint: AUTHORIZE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogoutError);
    expect((err as LogoutError).code).toBe('LOGOUT_UNCONFIRMED');
    expect((err as LogoutError).message).toBe(
      `end-session logout: the SSO session is still active: the logout ended on HTTP 200 "Sign out" at ${IDP}/end_session_noop?id_token_hint=${marker('id_token_hint', ID_TOKEN)}&client_id=app, then a prompt=none authorization request returned a code`,
    );
  });

  it('a code disproves the logout even after a redirect to post_logout_redirect_uri', async () => {
    const err = await endSessionLogout(http(), await input(), {
      endSessionEndpoint: `${IDP}/end_session_noop_redirect`,
      postLogoutRedirectUri: POST_LOGOUT,
      authorizationEndpoint: AUTHORIZE,
    }).catch((e: unknown) => e);
    expect((err as LogoutError).code).toBe('LOGOUT_UNCONFIRMED');
    expect((err as LogoutError).message).toContain('still active');
  });

  it('interaction_required proves nothing: without a redirect to post_logout_redirect_uri the logout is LOGOUT_UNCONFIRMED', async () => {
    const err = await endSessionLogout(http(), await input(), { endSessionEndpoint: END_SESSION, authorizationEndpoint: `${IDP}/authorize_interaction` }).catch((e: unknown) => e);
    expect((err as LogoutError).code).toBe('LOGOUT_UNCONFIRMED');
    expect((err as LogoutError).message).toMatch(
      /^end-session logout: not confirmed: the logout ended on HTTP 200 at https:\/\/op\.test\/end_session\/confirm, and a prompt=none authorization request afterwards got error=interaction_required \(only error=login_required for prompt=none shows the session ended, OIDC Core §3\.1\.2\.6/,
    );
  });

  it('an error page at the end-session endpoint and no way to check the effect is LOGOUT_UNCONFIRMED, naming the page', async () => {
    const err = await endSessionLogout(http(), { idToken: ID_TOKEN, cookieJar: new CookieJar() }, { endSessionEndpoint: END_SESSION }).catch((e: unknown) => e);
    expect((err as LogoutError).code).toBe('LOGOUT_UNCONFIRMED');
    expect((err as LogoutError).message).toMatch(
      /^end-session logout: not confirmed: the logout ended on HTTP 400 "Sign out" at https:\/\/op\.test\/end_session\?id_token_hint=\[redacted:id_token_hint#[0-9a-f]{6}\], and no prompt=none authorization request could be sent/,
    );
  });

  it('without the login\'s cookies (a manual login) login_required proves nothing: LOGOUT_UNCONFIRMED, and no prompt=none request', async () => {
    const err = await endSessionLogout(http(), { ...(await input()), cookieJar: new CookieJar() }, { endSessionEndpoint: `${IDP}/end_session_to_login`, authorizationEndpoint: AUTHORIZE }).catch(
      (e: unknown) => e,
    );
    expect((err as LogoutError).code).toBe('LOGOUT_UNCONFIRMED');
    expect((err as LogoutError).message).toContain('the login left no session cookies for the authorization endpoint');
    expect(seen.some((s) => s.url.startsWith(AUTHORIZE))).toBe(false);
  });

  it('createLogoutDriver looks for the end_session_endpoint only when a check logs out', async () => {
    // Before: creating the driver threw ENDPOINT_MISSING, so every check of such a target failed.
    const driver = createLogoutDriver({ driver: 'end-session' }, { endpoints: {} });
    expect(driver.kind).toBe('end-session');
    const err = await driver.logout(http(), await input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).code).toBe('ENDPOINT_MISSING');
    expect(seen).toHaveLength(0);
  });

  it('createLogoutDriver confirms with the authorization endpoint it was given', async () => {
    const driver = createLogoutDriver({ driver: 'end-session' }, { endpoints: { endSession: END_SESSION, authorization: AUTHORIZE } });
    expect(await driver.logout(http(), await input())).toMatchObject({ outcome: 'page', confirmedBy: 'login_required' });
  });

  it('logout.driver "none" cannot log out: LOGOUT_UNAVAILABLE', async () => {
    const driver = createLogoutDriver({ driver: 'none' }, { endpoints: { endSession: END_SESSION } });
    expect(driver.kind).toBe('none');
    const err = await driver.logout(http(), await input()).catch((e: unknown) => e);
    expect((err as LogoutError).code).toBe('LOGOUT_UNAVAILABLE');
    expect(seen).toHaveLength(0);
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
