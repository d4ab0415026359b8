/**
 * The mock as another project's IdP, as its README says to run it: a service started from a config
 * file whose client is the app's own (its own redirect and post-logout URIs, client_secret_post only),
 * over HTTPS with a generated certificate whose CA the app trusts. A third-party OIDC client
 * (openid-client 6, the library such an app would use) logs in through the login form, reads
 * UserInfo, refreshes and logs out. Plus what the service refuses to start with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateTls } from '../mock-idp/service/tls.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MOCK = ['--import', 'tsx', path.join(ROOT, 'scripts/mock-idp.ts')];

const APP = {
  id: 'shop-web',
  secret: 'shop-web-secret-7f3a9c',
  redirectUri: 'http://localhost:3000/auth/callback',
  postLogoutUri: 'http://localhost:3000/signed-out',
};
const CONFIG = {
  fixtureClients: false,
  fixtureUsers: false,
  clients: [
    {
      id: APP.id,
      secret: APP.secret,
      authMethod: 'client_secret_post',
      policy: 'Confidential',
      redirectUris: [APP.redirectUri],
      postLogoutRedirectUris: [APP.postLogoutUri],
    },
  ],
  users: [{ username: 'alice', password: 'alice-password-1', sub: 'user-0001', name: 'Alice Example', email: 'alice@shop.example', claims: { roles: ['buyer'] } }],
};

/** A child in its own process group, so the group can be killed as a whole. */
function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [...MOCK, ...args], { cwd: ROOT, detached: true, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
  return exited;
}

function banner(child: ChildProcess, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops the server.')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code} before the banner:\n${out}\n${err}`)));
  });
}

/** Runs the mock to its exit (a refused start): code and stderr. */
async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...MOCK, ...args], { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

/** Cookies by name, as a browser keeps them for the IdP (enough for its session and login cookies). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get size(): number {
    return this.cookies.size;
  }
}

describe('the mock as a service: an app\'s own client over HTTPS, with openid-client 6', () => {
  let mock: ChildProcess | undefined;
  let issuer: string;
  let ca: string;
  let tlsAgent: Agent;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mock-service-'));
    await writeFile(path.join(dir, 'idp.json'), JSON.stringify(CONFIG));
    mock = start(['--config', path.join(dir, 'idp.json'), '--port', '0', '--https', '--write-ca', path.join(dir, 'ca.pem'), '--no-test-mode']);
    const text = await banner(mock);
    issuer = /^issuer: +(https:\/\/127\.0\.0\.1:\d+)$/m.exec(text)![1]!;
    ca = await readFile(path.join(dir, 'ca.pem'), 'utf8');
    // The CA it printed is the one it wrote: what a reader of the terminal would trust.
    expect(text).toContain(ca.trim());
    tlsAgent = new Agent({ connect: { ca } });
  }, 90_000);

  afterAll(async () => {
    await tlsAgent?.close();
    if (mock) await stop(mock);
  });

  /** fetch that trusts the mock's CA (and nothing else extra), not following redirects unless asked. */
  const fetchTls = (url: string | URL, init: RequestInit = {}): Promise<Response> =>
    fetch(url, { redirect: 'manual', ...init, dispatcher: tlsAgent } as RequestInit);

  test('an untrusted client refuses the generated certificate (it is not a publicly trusted one)', async () => {
    await expect(fetch(`${issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  test('serves only the configured client and user', async () => {
    const page = await fetchTls(`${issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'web', redirect_uri: 'https://web.client.example/callback', scope: 'openid' })}`);
    expect(page.status).toBe(400);
    expect(await page.json()).toMatchObject({ error: 'invalid_request', error_description: 'unknown client_id' });
  });

  test('login (form), UserInfo, refresh and logout', async () => {
    const config = await oidc.discovery(new URL(issuer), APP.id, { client_secret: APP.secret }, oidc.ClientSecretPost(APP.secret), {
      [oidc.customFetch]: (url, options) => fetchTls(url, options as RequestInit),
    });
    config[oidc.customFetch] = (url, options) => fetchTls(url, options as RequestInit);
    expect(config.serverMetadata().issuer).toBe(issuer);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizeUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: APP.redirectUri,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });

    // The browser's part: the login page, then the form posted with the configured user's password.
    const jar = new Jar();
    const page = await fetchTls(authorizeUrl);
    expect(page.status).toBe(200);
    jar.take(page);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const tx = /name="tx" value="([^"]+)"/.exec(html)![1]!;
    const wrong = await fetchTls(new URL(action, issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ tx, username: 'alice', password: 'not-her-password' }),
    });
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('Invalid username or password.');
    const loggedIn = await fetchTls(new URL(action, issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ tx, username: 'alice', password: 'alice-password-1' }),
    });
    expect(loggedIn.status).toBe(302);
    jar.take(loggedIn);
    const callback = new URL(loggedIn.headers.get('location')!);
    // Back at the app's own callback, which the config registered.
    expect(`${callback.origin}${callback.pathname}`).toBe(APP.redirectUri);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe('user-0001');
    expect(claims.aud).toBe(APP.id);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: 'user-0001', name: 'Alice Example', email: 'alice@shop.example', email_verified: true, roles: ['buyer'] });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).toMatchObject({ sub: 'user-0001' });

    // The client registered for client_secret_post: the same secret sent with Basic is refused.
    const basic = await fetchTls(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${APP.id}:${APP.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token ?? tokens.refresh_token! }),
    });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toMatchObject({ error: 'invalid_client' });

    // RP-initiated logout, back to the app's own post-logout page.
    const logoutState = oidc.randomState();
    const logoutUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: APP.postLogoutUri, state: logoutState });
    const loggedOut = await fetchTls(logoutUrl, { headers: { cookie: jar.header() } });
    expect(loggedOut.status).toBe(302);
    const after = new URL(loggedOut.headers.get('location')!);
    expect(`${after.origin}${after.pathname}`).toBe(APP.postLogoutUri);
    expect(after.searchParams.get('state')).toBe(logoutState);
    jar.take(loggedOut);
    // The SSO session is over: the next authorization request asks for the password again.
    const again = await fetchTls(authorizeUrl, { headers: { cookie: jar.header() } });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('name="password"');
  }, 90_000);
});

describe('the mock as a service: your own certificate, clients and users from flags', () => {
  test('--https --cert --key serves the given certificate; --client takes its secret from MOCK_IDP_CLIENT_SECRET_<ID>', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mock-service-'));
    // A certificate the operator brought (made here with the same generator, for a name the mock does not pick).
    const own = generateTls(['idp.shop.test', '127.0.0.1']);
    await writeFile(path.join(dir, 'cert.pem'), own.cert);
    await writeFile(path.join(dir, 'key.pem'), own.key);
    const child = spawn(
      process.execPath,
      [...MOCK, '--port', '0', '--https', '--cert', path.join(dir, 'cert.pem'), '--key', path.join(dir, 'key.pem'), '--client', 'shop-api:Confidential:http://localhost:8080/cb', '--client', 'shop-spa:PublicWeb:http://localhost:5173/cb', '--user', 'bob:bob:pw'],
      { cwd: ROOT, detached: true, env: { ...process.env, NO_COLOR: '1', MOCK_IDP_CLIENT_SECRET_SHOP_API: 'api-secret-from-env' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const agent = new Agent({ connect: { ca: own.ca } });
    try {
      const text = await banner(child);
      expect(text).toContain(`https:      with the certificate of ${path.join(dir, 'cert.pem')}`);
      expect(text).not.toContain('BEGIN CERTIFICATE');
      expect(text).toMatch(/^ {2}shop-api +policy Confidential +secret api-secret-from-env$/m);
      expect(text).toMatch(/^ {2}shop-spa +policy PublicWeb +public \(PKCE, no secret\)$/m);
      expect(text).toMatch(/^ {2}bob +bob:pw$/m);
      const issuer = /^issuer: +(https:\/\/127\.0\.0\.1:\d+)$/m.exec(text)![1]!;
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, { dispatcher: agent } as RequestInit);
      expect(((await res.json()) as { issuer: string }).issuer).toBe(issuer);
      // The flag client is registered: its own redirect URI gets the login page, another one a 400.
      const authorize = (redirect: string) =>
        fetch(`${issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'shop-api', redirect_uri: redirect, scope: 'openid' })}`, { dispatcher: agent, redirect: 'manual' } as RequestInit);
      expect((await authorize('http://localhost:8080/cb')).status).toBe(200);
      expect((await authorize('http://localhost:8080/other')).status).toBe(400);
    } finally {
      await agent.close();
      await stop(child);
    }
  }, 90_000);
});

describe('what the service refuses to start with', () => {
  test('a config error names the file and the field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mock-service-'));
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ clients: [{ ...CONFIG.clients[0], redirectUris: ['/relative'] }] }));
    const r = await refused(['--config', file, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: invalid config`);
    expect(r.stderr).toContain('clients[0].redirectUris[0]: an absolute URI without a fragment');
  }, 60_000);

  test('a non-loopback bind without --allow-remote, and with it but no admin token', async () => {
    const noOptIn = await refused(['--host', '0.0.0.0', '--port', '0']);
    expect(noOptIn.code).toBe(2);
    expect(noOptIn.stderr).toContain('--allow-remote');
    const noToken = await refused(['--host', '0.0.0.0', '--allow-remote', '--issuer', 'http://mock-idp.internal:{port}', '--port', '0'], { MOCK_IDP_ADMIN_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('needs an admin token you choose');
  }, 60_000);
});
