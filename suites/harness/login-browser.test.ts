/**
 * The browser login driver end to end, in headless Chromium (Debian's `chromium` package): against the
 * mock IdP's own login page, and against a page that builds its form with JavaScript. Browsers and
 * servers are closed after every test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMockIdp, type RunningMockIdp } from '../../mock-idp/adapters/node-http.ts';
import { loadProfile } from '../../mock-idp/profile/index.ts';
import { browse, createLoginDriver, DEFAULT_CHROMIUM, endSessionLogout, sameEndpoint } from './drivers/index.ts';
import { browserLogin } from './drivers/login/browser.ts';
import { LoginError } from './errors.ts';
import { createHttp } from './http.ts';
import * as oauth from './oauth.ts';
import { Recorder } from './record.ts';
import { parseTarget } from './target.ts';

beforeAll(() => {
  if (!existsSync(DEFAULT_CHROMIUM)) {
    throw new Error(`Chromium not found at ${DEFAULT_CHROMIUM}: install Debian's chromium package (apt-get install chromium); CI does it in .ci/run`);
  }
});

function recordingHttp() {
  const recorder = new Recorder();
  return { recorder, http: createHttp({ requestTimeoutMs: 10_000, recorder }) };
}

// Test timeouts are generous: a browser may take long to start on a loaded machine (login.launchTimeoutMs).
describe('browser login at the mock IdP login page (testMode off: the form shows)', { timeout: 120_000 }, () => {
  let mock: RunningMockIdp;
  beforeAll(async () => {
    mock = await serveMockIdp({ profile: await loadProfile('telenorid-plus'), testMode: false });
  });
  afterAll(() => mock?.close());

  it('signs in, stops at the private-use redirect_uri, and the code and cookies work', async () => {
    const { idp } = mock;
    const user = idp.users[0]!;
    const client = idp.clients.find((c) => c.policy === 'Mobile')!;
    const redirectUri = client.redirectUris[0]!;
    expect(redirectUri).toMatch(/^no\.example\.[a-z]+:\/oauth2redirect$/);
    const endpoints = { authorization: `${mock.url}/authorize`, token: `${mock.url}/token`, endSession: `${mock.url}/end-session` };
    const pkce = oauth.generatePkce();
    const state = oauth.randomValue();
    const oauthClient = { id: client.id, auth: 'none' as const, redirectUri };
    const authorizationUrl = oauth.buildAuthorizationUrl({
      endpoint: endpoints.authorization,
      client: oauthClient,
      scope: 'openid offline_access',
      state,
      nonce: oauth.randomValue(),
      codeChallenge: pkce.challenge,
    });
    const { http, recorder } = recordingHttp();

    const result = await browserLogin(
      http,
      { authorizationUrl, redirectUri, state },
      {
        steps: [{ waitFor: '#username' }, { fill: '#username', value: user.username }, { fill: '#password', value: user.password }, { click: 'button[type=submit]' }],
        timeoutMs: 20_000,
      },
    );
    expect(result.state).toBe(state);
    expect(result.params.iss).toBe(mock.url);
    expect(result.via).toBe('redirect');

    // The code is real: the token endpoint takes it.
    const tokens = await oauth.exchangeCode(http, endpoints, oauthClient, { code: result.code, codeVerifier: pkce.verifier });
    expect(tokens.response.status).toBe(200);
    expect(typeof (tokens.json as { refresh_token?: unknown }).refresh_token).toBe('string');

    // The navigation is recorded, redacted: the login POST and its redirect to the redirect_uri.
    const last = recorder.exchanges.find((e) => e.method === 'POST' && e.url === `${mock.url}/login`)!;
    expect(recorder.exchanges[0]).toMatchObject({ method: 'GET', status: 200 });
    expect(recorder.exchanges[0]!.url.startsWith(`${mock.url}/authorize?`)).toBe(true);
    expect(last.status).toBe(302);
    const location = last.responseHeaders?.find(([n]) => n === 'location')?.[1] ?? '';
    expect(location.startsWith(redirectUri)).toBe(true);
    expect(location).toContain('[redacted:code#');
    const everything = JSON.stringify(recorder.exchanges);
    expect(everything).not.toContain(result.code);
    expect(everything).not.toContain(user.password);

    // The browser's SSO cookie is in the jar: a prompt=none request with it gets a code without a login...
    const before = await result.cookieJar.clone();
    const silent = (jar = result.cookieJar) =>
      browse<never>({
        http,
        jar,
        start: {
          method: 'GET',
          url: oauth.buildAuthorizationUrl({ endpoint: endpoints.authorization, client: oauthClient, scope: 'openid', state: 's2', codeChallenge: pkce.challenge, prompt: 'none' }),
        },
        isDestination: (u) => sameEndpoint(u, redirectUri),
        onPage: (page) => {
          throw new Error(`unexpected page ${page.status} at ${page.url}`);
        },
      });
    const sso = await silent();
    expect(sso.kind === 'arrived' && sso.arrival.params.get('code')).toBeTruthy();

    // ...and an end-session logout with the jar alone (no id_token_hint: the IdP asks, the driver confirms)
    // ends it; as in a run (suites/runner/context.ts), the driver proves it with its own prompt=none request.
    const out = await endSessionLogout(
      http,
      { cookieJar: result.cookieJar, clientId: client.id, redirectUri },
      { endSessionEndpoint: endpoints.endSession, authorizationEndpoint: endpoints.authorization },
    );
    expect(out).toMatchObject({ outcome: 'page', confirmedBy: 'login_required' });
    const after = await silent(before);
    expect(after.kind === 'arrived' && after.arrival.params.get('error')).toBe('login_required');
  });
});

/** Chromium behind a wrapper that waits `ms` before starting it: a browser slow to launch. */
async function slowChromium(ms: number): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'slow-chromium-'));
  const file = path.join(dir, 'chromium');
  await writeFile(file, `#!/bin/sh\nsleep ${ms / 1000}\nexec ${DEFAULT_CHROMIUM} "$@"\n`, { mode: 0o755 });
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A "Chromium" that never starts: it sleeps, writing its pid first, so the test can end it (playwright's
 * graceful close waits on a browser that never answers).
 */
async function hangingChromium(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hanging-chromium-'));
  const file = path.join(dir, 'chromium');
  await writeFile(file, `#!/bin/sh\necho $$ > "$0.pid"\nexec sleep 60\n`, { mode: 0o755 });
  return {
    path: file,
    remove: async () => {
      const pid = Number(await readFile(`${file}.pid`, 'utf8').catch(() => ''));
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A login page that only exists after its script runs, and a form post that redirects with code and state. */
function jsLoginServer() {
  const seen: string[] = [];
  const readBody = (req: IncomingMessage) =>
    new Promise<URLSearchParams>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => resolve(new URLSearchParams(text)));
    });
  const page = (q: URLSearchParams, error = '') => `<!doctype html><html><head><title>JS login</title></head><body>
<div id="app">Loading…</div>
<script>
  const q = new URLSearchParams(${JSON.stringify(q.toString())});
  setTimeout(() => {
    const f = document.createElement('form');
    f.method = 'post';
    f.action = '/login';
    f.innerHTML = ${JSON.stringify(error ? `<p role="alert">${error}</p>` : '')} +
      '<input id="username" name="username" autocomplete="username">' +
      '<input id="password" name="password" type="password">' +
      '<input type="hidden" name="state"><input type="hidden" name="redirect_uri">' +
      '<button type="submit">Sign in</button>';
    f.elements.state.value = q.get('state');
    f.elements.redirect_uri.value = q.get('redirect_uri');
    const app = document.getElementById('app');
    app.textContent = '';
    app.appendChild(f);
  }, 300);
</script></body></html>`;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push(`${req.method} ${url.pathname}`);
    if (req.method === 'GET' && url.pathname === '/authorize') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(url.searchParams));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login') {
      const form = await readBody(req);
      if (form.get('username') !== 'qa-user' || form.get('password') !== 'S3cret pass&word') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(form, 'Wrong username or password'));
        return;
      }
      const to = new URL(form.get('redirect_uri')!);
      to.searchParams.set('code', 'JS-CODE-0123456789');
      to.searchParams.set('state', form.get('state')!);
      res.writeHead(302, { location: to.href, 'set-cookie': 'sid=js-session-1; Path=/; HttpOnly' }).end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  return {
    seen,
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('browser login at a page that builds its form with JavaScript', { timeout: 120_000 }, () => {
  const site = jsLoginServer();
  let base: string;
  beforeAll(async () => {
    base = await site.start();
  });
  afterAll(() => site.close());

  const authUrl = (redirectUri: string, state: string) => `${base}/authorize?${new URLSearchParams({ redirect_uri: redirectUri, state })}`;
  const steps = (password: string) => [
    { fill: '#username', value: 'qa-user' },
    { fill: '#password', value: password },
    { click: 'button[type=submit]' },
  ];

  it('fills the form the script built, from a target file with ${ENV} values, and stops at a private-use scheme', async () => {
    const target = await parseTarget(
      {
        name: 'js-login',
        issuer: base,
        profile: 'telenorid-plus',
        clients: [{ id: 'app', auth: 'none', redirectUri: 'no.example.app:/cb', policy: 'Mobile' }],
        login: { driver: 'browser', steps: [{ fill: '#username', value: '${QA_USER}' }, { fill: '#password', value: '${QA_PASSWORD}' }, { click: 'button[type=submit]' }], timeoutMs: 15_000 },
        logout: { driver: 'end-session' },
        clock: { driver: 'real' },
      },
      'js-login.json',
      { QA_USER: 'qa-user', QA_PASSWORD: 'S3cret pass&word' },
    );
    const driver = createLoginDriver(target.login);
    expect(driver.kind).toBe('browser');
    const { http, recorder } = recordingHttp();
    const result = await driver.login(http, { authorizationUrl: authUrl('no.example.app:/cb', 'st-1'), redirectUri: 'no.example.app:/cb', state: 'st-1' });
    expect(result).toMatchObject({ code: 'JS-CODE-0123456789', state: 'st-1', params: { code: 'JS-CODE-0123456789', state: 'st-1' } });
    const cookies = await result.cookieJar.getCookies(`${base}/`);
    expect(cookies.map((c) => `${c.key}=${c.value}`)).toEqual(['sid=js-session-1']);
    expect(cookies[0]!.httpOnly).toBe(true);
    // The password went through the recorder only redacted, as a registered secret.
    const post = recorder.exchanges.find((e) => e.method === 'POST')!;
    expect(post.requestBody).toContain('[redacted:password#');
    expect(JSON.stringify(recorder.exchanges)).not.toContain('S3cret');
  });

  it('never requests an http(s) redirect_uri', async () => {
    const redirectUri = `${base}/cb`;
    const { http } = recordingHttp();
    site.seen.length = 0;
    const result = await browserLogin(http, { authorizationUrl: authUrl(redirectUri, 'st-2'), redirectUri, state: 'st-2' }, { steps: steps('S3cret pass&word'), timeoutMs: 15_000 });
    expect(result.code).toBe('JS-CODE-0123456789');
    // (Chromium asks for a favicon by itself.)
    expect(site.seen.filter((r) => r !== 'GET /favicon.ico')).toEqual(['GET /authorize', 'POST /login']);
  });

  it('a refused password ends in LOGIN_TIMEOUT that quotes the page, not the password', async () => {
    const { http } = recordingHttp();
    const err = await browserLogin(
      http,
      { authorizationUrl: authUrl('no.example.app:/cb', 'st-3'), redirectUri: 'no.example.app:/cb', state: 'st-3' },
      { steps: [...steps('wrong-password-123'), { waitFor: '[role=alert]' }], timeoutMs: 4_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect((err as LoginError).code).toBe('LOGIN_TIMEOUT');
    expect((err as LoginError).message).toMatch(/no redirect to the redirect_uri within 4000 ms after 4 step\(s\).*page says: "Wrong username or password"/);
    expect((err as LoginError).message).not.toContain('wrong-password-123');
  });

  it('a step whose element never appears names the step', async () => {
    const { http } = recordingHttp();
    const err = await browserLogin(
      http,
      { authorizationUrl: authUrl('no.example.app:/cb', 'st-4'), redirectUri: 'no.example.app:/cb', state: 'st-4' },
      { steps: [{ fill: '#no-such-field', value: 'x' }], timeoutMs: 2_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect((err as LoginError).code).toBe('LOGIN_TIMEOUT');
    expect((err as LoginError).message).toMatch(/^browser login: step 1 \(fill #no-such-field\) found no usable element within 2000 ms; the page is "JS login" at http:\/\/127\.0\.0\.1:\d+\/authorize/);
  });

  it("a slow browser start does not eat the login's time: the steps still get their timeoutMs", async () => {
    const slow = await slowChromium(3_000);
    try {
      const { http } = recordingHttp();
      const err = await browserLogin(
        http,
        { authorizationUrl: authUrl('no.example.app:/cb', 'st-6'), redirectUri: 'no.example.app:/cb', state: 'st-6' },
        { steps: [{ fill: '#no-such-field', value: 'x' }], timeoutMs: 2_000, executablePath: slow.path },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LoginError);
      expect((err as LoginError).code).toBe('LOGIN_TIMEOUT');
      expect((err as LoginError).message).toMatch(/^browser login: step 1 \(fill #no-such-field\) found no usable element within 2000 ms; the page is "JS login"/);
    } finally {
      await slow.remove();
    }
  });

  it('a browser that does not start within launchTimeoutMs is LOGIN_BROWSER_UNAVAILABLE (our machine), not a login timeout', async () => {
    const slow = await hangingChromium();
    try {
      const { http } = recordingHttp();
      const err = await browserLogin(
        http,
        { authorizationUrl: authUrl('no.example.app:/cb', 'st-7'), redirectUri: 'no.example.app:/cb', state: 'st-7' },
        { steps: steps('x'), timeoutMs: 60_000, launchTimeoutMs: 1_000, executablePath: slow.path },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LoginError);
      expect((err as LoginError).code).toBe('LOGIN_BROWSER_UNAVAILABLE');
      expect((err as LoginError).message).toContain(`Chromium at ${slow.path} did not start within login.launchTimeoutMs (1000 ms)`);
    } finally {
      await slow.remove();
    }
  });

  it('a missing Chromium is a clear LOGIN_BROWSER_UNAVAILABLE', async () => {
    const { http } = recordingHttp();
    const err = await browserLogin(
      http,
      { authorizationUrl: authUrl('no.example.app:/cb', 'st-5'), redirectUri: 'no.example.app:/cb', state: 'st-5' },
      { steps: steps('x'), executablePath: '/nonexistent/chromium' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect((err as LoginError).code).toBe('LOGIN_BROWSER_UNAVAILABLE');
    expect((err as LoginError).message).toContain('no Chromium at /nonexistent/chromium');
  });
});
