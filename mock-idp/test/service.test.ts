/** The mock as a service: its config (errors name the field), the bind rules, the generated certificate, and what configured clients and users change. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { checkBind, generateTls, parseClientFlag, parseServiceConfig, parseUserFlag, resolveClients, resolveUsers, ServiceConfigError, type BindInput } from '../service/index.ts';
import { IdpClient } from './client.ts';

const profile = await loadProfile('telenorid-plus');
const app = { id: 'shop', policy: 'Confidential', secret: 'shop-secret', redirectUris: ['http://localhost:3000/cb'] };

function errorOf(f: () => unknown): ServiceConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ServiceConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('config file', () => {
  test('defaults: the fixtures stay, nothing added', () => {
    expect(parseServiceConfig({}, 'c.json')).toEqual({ fixtureClients: true, fixtureUsers: true, clients: [], users: [] });
  });

  test.each([
    [{ clients: [{ ...app, redirectUris: [] }] }, 'clients[0].redirectUris'],
    [{ clients: [{ ...app, redirectUris: ['/cb'] }] }, 'clients[0].redirectUris[0]: an absolute URI without a fragment'],
    [{ clients: [{ ...app, redirectUris: ['https://app.example/cb#x'] }] }, 'clients[0].redirectUris[0]: an absolute URI without a fragment'],
    [{ clients: [app, { ...app, id: 'has space' }] }, 'clients[1].id: visible ASCII characters, no spaces'],
    [{ clients: [{ ...app, authMethod: 'private_key_jwt' }] }, 'clients[0].authMethod'],
    [{ clients: [{ ...app, redirect: 'x' }] }, 'clients[0]: Unrecognized key: "redirect"'],
    [{ users: [{ username: 'a' }] }, 'users[0].password'],
    [{ users: [{ username: 'a', password: 'p', claims: { sub: 'x' } }] }, 'users[0].claims: sub is set by the "sub" field'],
    [{ fixtureClients: 'no' }, 'fixtureClients'],
  ])('%j → %s', (json, field) => {
    const e = errorOf(() => parseServiceConfig(json, 'idp.json'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('idp.json: invalid config');
    expect(e.message).toContain(field);
  });
});

describe('clients against the profile', () => {
  const at = 'idp.json clients[0]';
  test('a confidential client with its secret and auth method, after the fixtures', () => {
    const clients = resolveClients(profile, [{ client: { ...app, authMethod: 'client_secret_post', postLogoutRedirectUris: ['http://localhost:3000/'] }, at }], true);
    expect(clients.length).toBe(Object.keys(profile.policies).length + 1);
    expect(clients.at(-1)).toEqual({
      id: 'shop',
      policy: 'Confidential',
      confidential: true,
      grantTypes: profile.policies.Confidential!.grantTypes,
      secret: 'shop-secret',
      authMethod: 'client_secret_post',
      redirectUris: ['http://localhost:3000/cb'],
      postLogoutRedirectUris: ['http://localhost:3000/'],
    });
  });

  test('without the fixtures, a public client; a generated secret goes only to a confidential one', () => {
    const clients = resolveClients(
      profile,
      [
        { client: { id: 'spa', policy: 'PublicWeb', redirectUris: ['http://localhost:5173/cb'] }, at, generatedSecret: 'gen' },
        { client: { id: 'api', policy: 'Confidential', redirectUris: ['http://localhost:8080/cb'] }, at, generatedSecret: 'gen-2' },
      ],
      false,
    );
    expect(clients.map((c) => [c.id, c.confidential, c.secret])).toEqual([
      ['spa', false, undefined],
      ['api', true, 'gen-2'],
    ]);
  });

  test.each([
    [{ ...app, policy: 'Gold' }, `${at}.policy: "Gold" is not a policy of profile telenorid-plus (its policies: ${Object.keys(profile.policies).join(', ')})`],
    [{ ...app, secret: undefined }, `${at}.secret: required: policy Confidential is confidential`],
    [{ ...app, authMethod: 'none' as const }, `${at}.authMethod: policy Confidential is confidential`],
    [{ ...app, policy: 'PublicWeb' }, `${at}.secret: policy PublicWeb is public: a public client has no secret`],
    [{ id: 'spa', policy: 'PublicWeb', authMethod: 'client_secret_basic' as const, redirectUris: ['http://l/cb'] }, `${at}.authMethod: policy PublicWeb is public`],
    [{ ...app, id: 'web' }, `${at}.id: "web" is taken by a fixture client`],
    [{ ...app, redirectUris: ['nope'] }, `${at}.redirectUris[0]: an absolute URI without a fragment`],
  ])('%j is refused', (client, message) => {
    expect(errorOf(() => resolveClients(profile, [{ client, at }], true)).message).toContain(message);
  });

  test('two configured clients with one id', () => {
    const e = errorOf(() => resolveClients(profile, [{ client: app, at: 'a' }, { client: app, at: '--client #1 (shop)' }], false));
    expect(e.message).toBe('--client #1 (shop).id: "shop" is taken by a');
  });
});

describe('users', () => {
  test('sub defaults to the username; the fixtures come first unless turned off', () => {
    const users = resolveUsers([{ user: { username: 'alice', password: 'pw', email: 'a@x.test', claims: { roles: ['r'] } }, at: 'u' }], true);
    expect(users.length).toBe(6);
    expect(users.at(-1)).toEqual({ username: 'alice', password: 'pw', sub: 'alice', email: 'a@x.test', claims: { roles: ['r'] } });
    expect(resolveUsers([], false)).toEqual([]);
  });

  test('usernames and subs are unique', () => {
    expect(errorOf(() => resolveUsers([{ user: { username: 'a', password: 'p' }, at: 'u0' }, { user: { username: 'a', password: 'q' }, at: 'u1' }], false)).message).toBe('u1.username: "a" is taken');
    expect(errorOf(() => resolveUsers([{ user: { username: 'a', password: 'p' }, at: 'u0' }, { user: { username: 'b', password: 'q', sub: 'a' }, at: 'u1' }], false)).message).toBe('u1.sub: "a" is taken');
  });
});

describe('flags', () => {
  test('--client id:policy:redirect keeps the colons of the URI', () => {
    expect(parseClientFlag('shop:Confidential:http://localhost:3000/cb')).toEqual({ id: 'shop', policy: 'Confidential', redirectUris: ['http://localhost:3000/cb'] });
  });
  test.each(['shop', 'shop:Confidential', 'shop:Confidential:', ':Confidential:http://x/', 'shop::http://x/'])('--client %j is refused', (flag) => {
    expect(errorOf(() => parseClientFlag(flag)).message).toContain('expected id:policy:redirect_uri');
  });
  test('--user name:password (the password may hold colons)', () => {
    expect(parseUserFlag('bob:p:w')).toEqual({ username: 'bob', password: 'p:w' });
    expect(errorOf(() => parseUserFlag('bob')).message).toContain('expected username:password');
    expect(errorOf(() => parseUserFlag('bob:')).message).toContain('expected username:password');
  });
});

describe('bind', () => {
  const base: BindInput = { host: '127.0.0.1', allowRemote: false, testMode: true, https: false };
  const token = 'a'.repeat(16);
  test.each<[Partial<BindInput>]>([
    [{}],
    [{ host: '::1' }],
    [{ host: 'localhost', issuer: 'http://localhost:{port}' }],
    [{ host: '0.0.0.0', allowRemote: true, adminToken: token, issuer: 'http://mock-idp:4455' }],
    [{ host: '192.168.1.5', allowRemote: true, testMode: false }],
    [{ host: '0.0.0.0', allowRemote: true, testMode: false, https: true, issuer: 'https://idp.internal/base' }],
  ])('accepted: %j', (input) => {
    expect(() => checkBind({ ...base, ...input })).not.toThrow();
  });
  test.each<[Partial<BindInput>, string]>([
    [{ host: '0.0.0.0' }, 'add --allow-remote'],
    [{ host: '192.168.1.5' }, 'add --allow-remote'],
    [{ host: 'idp.example', allowRemote: true }, '--host must be an IP address or localhost'],
    [{ host: '0.0.0.0', allowRemote: true, issuer: 'http://x' }, 'needs an admin token you choose'],
    [{ host: '0.0.0.0', allowRemote: true, adminToken: 'short', issuer: 'http://x' }, 'at least 16 characters'],
    [{ host: '0.0.0.0', allowRemote: true, adminToken: token }, '--issuer URL says the one clients use'],
    [{ issuer: 'https://localhost:4455' }, 'the server speaks http (add --https for https)'],
    [{ https: true, issuer: 'http://localhost:4455' }, 'the server speaks https'],
    [{ issuer: 'http://localhost:4455/?tenant=1' }, 'no query, fragment or credentials'],
    [{ issuer: 'not a url' }, '--issuer must be an absolute URL'],
  ])('refused: %j', (input, message) => {
    expect(errorOf(() => checkBind({ ...base, ...input })).message).toContain(message);
  });
});

describe('generated certificate', () => {
  test('a CA, and a server certificate it signed for the names and addresses given', { timeout: 30_000 }, () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const tls = generateTls(['idp.internal', '127.0.0.1', '::1', 'localhost'], 7, now);
    const ca = new X509Certificate(tls.ca);
    const [leafPem] = tls.cert.split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem!);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:idp.internal, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost');
    expect(leaf.checkHost('idp.internal')).toBe('idp.internal');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkHost('other.example')).toBeUndefined();
    expect(leaf.checkPrivateKey(createPrivateKey(tls.key))).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBe(now.getTime() + 7 * 86_400_000);
    // The chain the server presents ends with the CA.
    expect(tls.cert.endsWith(tls.ca)).toBe(true);
  });
  test('needs a name', { timeout: 30_000 }, () => {
    expect(() => generateTls([])).toThrow(TypeError);
  });
});

describe('configured clients and users in the IdP', () => {
  async function start() {
    const clients = resolveClients(profile, [{ client: { ...app, authMethod: 'client_secret_post' }, at: 'c' }], false);
    const users = resolveUsers([{ user: { username: 'alice', password: 'pw', name: 'Alice', claims: { roles: ['buyer'], name: 'not this' } }, at: 'u' }], false);
    const idp = await createMockIdp({ profile, issuer: 'https://svc.test', clients, users, testMode: true });
    return new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
  }

  test('a client registered for client_secret_post may not use Basic', async () => {
    const c = await start();
    const shop = c.client('Confidential');
    const s = await c.signIn(shop, { loginHint: 'alice', scope: 'openid offline_access' });
    const basic = await c.exchange(shop, s.code, s.verifier);
    expect(basic.status).toBe(401);
    expect(basic.body).toMatchObject({ error: 'invalid_client', error_description: 'this client must authenticate with client_secret_post' });
    const s2 = await c.signIn(shop, { loginHint: 'alice', scope: 'openid offline_access' });
    const post = await c.exchange(shop, s2.code, s2.verifier, { auth: 'client_secret_post' });
    expect(post.status).toBe(200);
    expect(post.body.refresh_token).toEqual(expect.any(String));
  });

  test('UserInfo: the configured claims, no claim the user has not got, the standard ones win', async () => {
    const c = await start();
    const shop = c.client('Confidential');
    const s = await c.signIn(shop, { loginHint: 'alice', scope: 'openid profile email phone' });
    const tokens = await c.exchange(shop, s.code, s.verifier, { auth: 'client_secret_post' });
    const info = await c.userinfo(tokens.body.access_token);
    expect(info.status).toBe(200);
    expect(info.body).toEqual({ sub: 'alice', roles: ['buyer'], name: 'Alice', preferred_username: 'alice' });
  });
});
