/**
 * Login drivers against a small simulated IdP (msw). Responses that set cookies are plain `Response`s:
 * msw's `HttpResponse` would also put them in msw's own emulated browser cookie store, which adds them
 * to later requests by itself, and these tests must see only the cookies the driver's jar sends.
 */
import { http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { CookieJar } from 'tough-cookie';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLoginDriver } from './drivers/index.ts';
import { formLogin } from './drivers/login/form.ts';
import { mockLogin } from './drivers/login/mock.ts';
import { LoginError } from './errors.ts';
import { createHttp } from './http.ts';
import { formatExchanges, Recorder } from './record.ts';

const IDP = 'https://login.test';
const REDIRECT_URI = 'no.example.mobile:/cb';
const STATE = 'st-123';
const CODE = 'CODE-0123456789';
const PASSWORD = 'c0rrect horse&battery';

/** What the IdP received, for assertions. */
const seen: Array<{ method: string; url: string; cookie: string | null; body: string }> = [];

function html(body: string, init: ResponseInit = {}): Response {
  return new Response(`<!doctype html><html><body>${body}</body></html>`, {
    ...init,
    headers: { 'content-type': 'text/html; charset=utf-8', ...(init.headers as Record<string, string>) },
  });
}

function redirect(location: string, setCookie?: string): Response {
  const headers = new Headers({ location });
  if (setCookie) headers.append('set-cookie', setCookie);
  return new Response(null, { status: 302, headers });
}

const loginForm = (error = ''): string => `
  ${error && `<div class="alert error">${error}</div>`}
  <form method="post" action="">
    <input type="hidden" name="csrf" value="csrf-1">
    <label>E-mail <input type="email" name="login"></label>
    <label>Password <input type="password" name="pw"></label>
    <input type="checkbox" name="remember" checked>
    <button type="submit">Sign in</button>
  </form>`;

const consentPage = `
  <h1>App wants access</h1>
  <form method="post" action="${IDP}/consent/decide">
    <input type="hidden" name="consent_id" value="cons-7">
    <button name="decision" value="deny">No thanks</button>
    <button name="decision" value="allow">Allow</button>
  </form>`;

const cookieOf = (req: Request, name: string): string | undefined =>
  req.headers
    .get('cookie')
    ?.split(/;\s*/)
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);

const server = setupServer(
  // A full form login: authorize → login form → (wrong password: form again) → consent → redirect_uri.
  mock.get(`${IDP}/authorize`, ({ request }) => {
    const state = new URL(request.url).searchParams.get('state');
    return redirect(`/login?ctx=1&state=${state}`, 'ctx=c1; Path=/; HttpOnly; Secure');
  }),
  mock.get(`${IDP}/login`, ({ request }) => (cookieOf(request, 'ctx') === 'c1' ? html(loginForm()) : html('no context', { status: 400 }))),
  mock.post(`${IDP}/login`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    if (form.get('csrf') !== 'csrf-1' || cookieOf(request, 'ctx') !== 'c1') return html('bad csrf', { status: 400 });
    if (form.get('login') !== 'alice@example.com' || form.get('pw') !== PASSWORD) {
      return html(loginForm('Invalid e-mail or password'));
    }
    const state = new URL(request.url).searchParams.get('state');
    return redirect(`/consent?state=${state}`, 'sid=s1; Path=/; HttpOnly; Secure');
  }),
  mock.get(`${IDP}/consent`, ({ request }) => (cookieOf(request, 'sid') === 's1' ? html(consentPage) : html('login first', { status: 401 }))),
  mock.post(`${IDP}/consent/decide`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    if (form.get('decision') !== 'allow' || form.get('consent_id') !== 'cons-7' || cookieOf(request, 'sid') !== 's1') {
      return redirect(`${REDIRECT_URI}?error=access_denied&state=${STATE}`);
    }
    return redirect(`${REDIRECT_URI}?code=${CODE}&state=${STATE}&iss=${encodeURIComponent(IDP)}`);
  }),

  // Identifier-first: username page, then password page, then redirect (query state from a cookie).
  mock.get(`${IDP}/id-first`, () => html('<form method=post action=/id-first/user><input type=text name=identifier><button>Next</button></form>')),
  mock.post(`${IDP}/id-first/user`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    if (form.get('identifier') !== 'alice@example.com') return html('<form method=post action=/id-first/user><input type=text name=identifier><button>Next</button></form>');
    return html('<form method=post action=/id-first/pw><input type=hidden name=identifier value="alice@example.com"><input type=password name=password><button>Sign in</button></form>');
  }),
  mock.post(`${IDP}/id-first/pw`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    return form.get('password') === PASSWORD ? redirect(`${REDIRECT_URI}?code=${CODE}&state=${STATE}`) : html('nope', { status: 403 });
  }),

  // response_mode=form_post: an auto-submitting form aimed at an https redirect_uri.
  mock.get(`${IDP}/form-post`, () =>
    html(`<form method="post" action="https://app.test/cb"><input type=hidden name=code value="${CODE}"><input type=hidden name=state value="${STATE}"></form><script>document.forms[0].submit()</script>`),
  ),

  // Faults.
  mock.get(`${IDP}/loop/a`, () => redirect(`${IDP}/loop/b`)),
  mock.get(`${IDP}/loop/b`, () => redirect(`${IDP}/loop/a`)),
  mock.get(`${IDP}/hops/:n`, ({ params }) => redirect(`${IDP}/hops/${Number(params.n) + 1}`)),
  mock.get(`${IDP}/denied`, () => redirect(`${REDIRECT_URI}?error=access_denied&error_description=User+said+no&state=${STATE}`)),
  mock.get(`${IDP}/wrong-state`, () => redirect(`${REDIRECT_URI}?code=${CODE}&state=forged`)),
  mock.get(`${IDP}/no-code`, () => redirect(`${REDIRECT_URI}?state=${STATE}`)),
  mock.get(`${IDP}/broken`, () => HttpResponse.json({ error: 'server_error' }, { status: 500 })),
  mock.get(`${IDP}/dead-end`, () => html('<h1>Something went wrong</h1><p role="alert">Session expired</p>')),

  // The mock IdP's test-mode shortcut.
  mock.get('https://mock.test/authorize', ({ request }) => {
    const q = new URL(request.url).searchParams;
    if (!q.get('login_hint')) return html(loginForm());
    return redirect(`${q.get('redirect_uri')}?code=${CODE}&state=${q.get('state')}`, `mock_idp_sso=sso-${q.get('login_hint')}; Path=/; HttpOnly`);
  }),
);

beforeAll(() => {
  server.listen({ onUnhandledRequest: 'error' });
  server.events.on('request:start', ({ request }) => {
    const clone = request.clone();
    void clone.text().then((body) => seen.push({ method: request.method, url: request.url, cookie: request.headers.get('cookie'), body }));
  });
});
afterEach(() => {
  seen.length = 0;
});
afterAll(() => server.close());

const input = (path: string, extra: Partial<{ redirectUri: string; state: string }> = {}) => ({
  authorizationUrl: `${IDP}${path}?client_id=app&state=${STATE}`,
  redirectUri: extra.redirectUri ?? REDIRECT_URI,
  state: extra.state ?? STATE,
});

const alice = { username: 'alice@example.com', password: PASSWORD };

async function loginError(p: Promise<unknown>): Promise<LoginError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LoginError);
    return e as LoginError;
  }
  throw new Error('expected a LoginError');
}

describe('form login', () => {
  it('logs in through login form and consent, stopping at a private-use-scheme redirect_uri', async () => {
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 2000, recorder });
    const result = await formLogin(http, input('/authorize'), alice);
    expect(result.code).toBe(CODE);
    expect(result.state).toBe(STATE);
    expect(result.params.iss).toBe(IDP);
    expect(result.via).toBe('redirect');
    expect(result.hops).toBe(5);
    // The session cookies are in the returned jar.
    expect(await result.cookieJar.getCookieString(`${IDP}/`)).toBe('ctx=c1; sid=s1');
    // The login POST kept hidden and checked inputs, filled the email field before the password.
    const post = new URLSearchParams(seen.find((s) => s.method === 'POST' && s.url.includes('/login'))!.body);
    expect(Object.fromEntries(post)).toEqual({ csrf: 'csrf-1', login: 'alice@example.com', pw: PASSWORD, remember: 'on' });
    // The consent form was submitted with the affirmative button.
    const consent = new URLSearchParams(seen.find((s) => s.url.endsWith('/consent/decide'))!.body);
    expect(Object.fromEntries(consent)).toEqual({ consent_id: 'cons-7', decision: 'allow' });
    // The redirect_uri itself was never requested.
    expect(seen.every((s) => s.url.startsWith(IDP))).toBe(true);
    // Neither the password nor the code is in the recorded evidence.
    const evidence = formatExchanges(recorder.exchanges);
    expect(evidence).not.toContain(PASSWORD);
    expect(evidence).not.toContain(encodeURIComponent(PASSWORD));
    expect(evidence).not.toContain(new URLSearchParams({ p: PASSWORD }).toString().slice(2));
    expect(evidence).not.toContain(CODE);
    expect(evidence).toContain('[redacted:password#');
  });

  it('reports wrong credentials as LOGIN_REJECTED with the page message', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    const err = await loginError(formLogin(http, input('/authorize'), { ...alice, password: 'wrong' }));
    expect(err.code).toBe('LOGIN_REJECTED');
    expect(err.message).toContain('login as "alice@example.com": the login form came back after the password was submitted');
    expect(err.message).toContain('page says: "Invalid e-mail or password"');
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(1); // did not retry
  });

  it('handles identifier-first logins (username page, then password page)', async () => {
    const result = await formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/id-first'), alice);
    expect(result.code).toBe(CODE);
  });

  it('rejects an unknown user on an identifier-first login', async () => {
    const err = await loginError(formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/id-first'), { ...alice, username: 'bob' }));
    expect(err.code).toBe('LOGIN_REJECTED');
    expect(err.message).toContain('username form came back');
  });

  it('takes the code from a form_post response without posting it', async () => {
    const result = await formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/form-post', { redirectUri: 'https://app.test/cb' }), alice);
    expect(result).toMatchObject({ code: CODE, state: STATE, via: 'form_post' });
  });

  it('detects a redirect loop', async () => {
    const err = await loginError(formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/loop/a'), alice));
    expect(err.code).toBe('LOGIN_REDIRECT_LOOP');
    // authorize?…(a) → b → a → b again with the same cookies: a loop, caught before the 4th request.
    expect(err.message).toBe(`login as "alice@example.com": redirect loop at ${IDP}/loop/b`);
    expect(seen).toHaveLength(3);
  });

  it('gives up after 20 requests', async () => {
    const err = await loginError(formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/hops/0'), alice));
    expect(err.code).toBe('LOGIN_TOO_MANY_HOPS');
    expect(err.message).toContain('after 20 requests');
    expect(seen).toHaveLength(20);
  });

  it('turns an error response at the redirect_uri into LOGIN_AUTHORIZATION_ERROR', async () => {
    const err = await loginError(formLogin(createHttp({ requestTimeoutMs: 2000 }), input('/denied'), alice));
    expect(err.code).toBe('LOGIN_AUTHORIZATION_ERROR');
    expect(err.details).toMatchObject({ error: 'access_denied', error_description: 'User said no' });
    expect(err.message).toBe('authorization failed: error=access_denied (User said no) at the redirect_uri');
  });

  it('checks state and the presence of code', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    expect((await loginError(formLogin(http, input('/wrong-state'), alice))).code).toBe('LOGIN_STATE_MISMATCH');
    expect((await loginError(formLogin(http, input('/no-code'), alice))).code).toBe('LOGIN_NO_CODE');
  });

  it('stops with LOGIN_UNEXPECTED_RESPONSE at an error status or a page without a form', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    const broken = await loginError(formLogin(http, input('/broken'), alice));
    expect(broken.code).toBe('LOGIN_UNEXPECTED_RESPONSE');
    expect(broken.message).toContain('HTTP 500 error=server_error');
    const deadEnd = await loginError(formLogin(http, input('/dead-end'), alice));
    expect(deadEnd.code).toBe('LOGIN_UNEXPECTED_RESPONSE');
    expect(deadEnd.message).toContain('page without a form');
    expect(deadEnd.message).toContain('Session expired');
  });
});

describe('mock login', () => {
  const mockInput = {
    authorizationUrl: `https://mock.test/authorize?client_id=app&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&state=${STATE}`,
    redirectUri: REDIRECT_URI,
    state: STATE,
  };

  it('adds login_hint and takes the code from the immediate redirect; the SSO cookie lands in the jar', async () => {
    const jar = new CookieJar();
    const result = await mockLogin(createHttp({ requestTimeoutMs: 2000 }), { ...mockInput, cookieJar: jar }, { username: 'alice' });
    expect(result.code).toBe(CODE);
    expect(result.cookieJar).toBe(jar);
    expect(await jar.getCookieString('https://mock.test/')).toBe('mock_idp_sso=sso-alice');
    expect(new URL(seen[0]!.url).searchParams.get('login_hint')).toBe('alice');
    expect(seen).toHaveLength(1);
  });

  it('fails clearly without a username, or when the mock shows a page instead of redirecting', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    expect(() => createLoginDriver({ driver: 'mock' })).toThrow('login.driver "mock": no username in the target and no default user from the mock');
    // With a username, but the shortcut switched off (simulated by a handler that ignores login_hint):
    server.use(mock.get('https://mock.test/authorize', () => html(loginForm()), { once: true }));
    const page = await loginError(mockLogin(http, mockInput, { username: 'alice' }));
    expect(page.code).toBe('LOGIN_UNEXPECTED_RESPONSE');
    expect(page.message).toContain('mock login as "alice": expected a redirect to the redirect_uri, got HTTP 200');
  });

  it('createLoginDriver picks the driver from the target configuration', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    const driver = createLoginDriver({ driver: 'mock' }, { defaultUsername: 'bob' });
    expect(driver.kind).toBe('mock');
    expect((await driver.login(http, mockInput)).code).toBe(CODE);
    expect(new URL(seen[0]!.url).searchParams.get('login_hint')).toBe('bob');
    expect(createLoginDriver({ driver: 'form', username: 'u', password: 'p', allowedOrigins: [] }).kind).toBe('form');
  });
});
