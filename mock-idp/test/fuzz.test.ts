/**
 * Property-based fuzzing of the mock's endpoints, against the handler (idp.fetch): random methods,
 * paths among the real endpoints (and /__control with and without the admin token, and an IdP with
 * the control API off), content types, form fields, repeated parameters, huge and empty values,
 * invalid UTF-8, JSON bodies, random and real tokens, codes, cookies and client credentials.
 * Over 10 000 requests in all. For every one:
 *   - idp.fetch resolves (no exception) and the IdP reports no unexpected error (onError);
 *   - never a 5xx;
 *   - every 4xx is RFC-shaped JSON: content-type application/json, exactly { error, error_description? },
 *     both strings of the RFC 6749 §5.2 character set;
 *   - a 3xx carries a Location that is an absolute URL;
 *   - a 2xx is JSON, an empty revocation answer, or one of the documented HTML pages (login form,
 *     end-session confirmation, signed-out page) at the endpoint that shows it.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMockIdp, type MockIdp, type MockIdpOptions } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { IdpClient, basic } from './client.ts';

const ADMIN = 'fuzz-admin-token-0123456789';
const NQSCHAR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
const PATHS = [
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/jwks',
  '/authorize',
  '/login',
  '/token',
  '/userinfo',
  '/revoke',
  '/introspect',
  '/end-session',
  '/__control',
  '/__control/clock',
  '/__control/clock/advance',
  '/__control/sso/end',
  '/__control/grants/revoke',
  '/__control/families',
  '/__control/reset',
];
const FIELDS = [
  'grant_type', 'refresh_token', 'code', 'client_id', 'client_secret', 'redirect_uri', 'code_verifier', 'scope', 'token',
  'token_type_hint', 'response_type', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'login_hint', 'tx',
  'username', 'password', 'id_token_hint', 'post_logout_redirect_uri', 'confirm', 'seconds', 'sub', 'clientId',
];
const HTML_PAGES: Record<string, RegExp> = {
  '/authorize': /<form method="post" action="[^"]*\/login">/,
  '/login': /<form method="post" action="[^"]*\/login">/,
  '/end-session': /<h1>(Sign out\?|You are signed out)<\/h1>/,
};

interface Target {
  idp: MockIdp;
  c: IdpClient;
  errors: unknown[];
  /** Real values of this IdP: client ids and secrets, tokens, codes, cookies, users, URIs. */
  values: string[];
  cookies: string[];
  /** Refresh tokens with the client they were issued to: the refresh grant is reached only with both. */
  grants: Array<{ clientId: string; token: string }>;
}

let targets: Target[];
let requests = 0;
const stats = new Map<string, number>();

async function target(profileName: string, testMode: boolean, behaviour?: MockIdpOptions['behaviour']): Promise<Target> {
  const errors: unknown[] = [];
  const idp = await createMockIdp({
    profile: await loadProfile(profileName),
    issuer: `https://fuzz-${profileName}-${testMode}.test`,
    testMode,
    ...(testMode && { adminToken: ADMIN }),
    onError: (e) => errors.push(e),
    ...(behaviour && { behaviour }),
  });
  const c = new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
  const values = [
    ADMIN, 'refresh_token', 'authorization_code', 'client_credentials', 'openid', 'openid offline_access', 'offline_access profile',
    'S256', 'plain', 'code', 'login', 'none', 'consent', 'yes', 'access_token', 'refresh_token', '0', '-1', '1e308', 'NaN',
  ];
  const cookies: string[] = ['mock_idp_sso=none'];
  const grants: Target['grants'] = [];
  for (const client of idp.clients) {
    values.push(client.id, ...client.redirectUris, ...client.postLogoutRedirectUris);
    if (client.secret) values.push(client.secret);
  }
  for (const u of idp.users) values.push(u.username, u.password, u.sub);
  if (testMode) {
    // Real tokens, codes and cookies from a few logins, so that requests get past the first checks.
    for (const client of idp.clients.filter((x) => x.grantTypes.includes('authorization_code'))) {
      const t = await c.tokens(client);
      if (t.refresh_token) grants.push({ clientId: client.id, token: t.refresh_token });
      values.push(t.access_token, ...(t.refresh_token ? [t.refresh_token] : []), ...(t.id_token ? [t.id_token] : []));
      if (t.cookie) cookies.push(t.cookie);
      const s = await c.signIn(client);
      values.push(s.code, s.verifier);
    }
  }
  return { idp, c, errors, values, cookies, grants };
}

beforeAll(async () => {
  targets = [await target('telenorid-plus', true), await target('erp-net', true), await target('telenorid-plus', false)];
});

// ---------------------------------------------------------------- arbitraries

const huge = fc.constantFrom(64 * 1024, 64 * 1024 + 1, 200_000).map((n) => 'x'.repeat(n));
const text = fc.string({ maxLength: 30 });
const unicode = fc.string({ unit: 'grapheme', maxLength: 12 });
const binary = fc.string({ unit: 'binary', maxLength: 12 });
/** Percent-escapes that are malformed or decode to invalid UTF-8. */
const badEscape = fc.constantFrom('%', '%G1', '%zz', '%C3%28', '%FF%FE', '%ED%A0%80', '%E2%82', '%00', '%C0%AF', '%F4%90%80%80');

/** A value from the target's pool, read at generation time: it grows with what the IdP hands out. */
function known(pool: string[]): fc.Arbitrary<string> {
  return fc.nat().map((i) => pool[i % pool.length]!);
}

function value(t: Target): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: known(t.values) },
    { weight: 3, arbitrary: text },
    { weight: 1, arbitrary: unicode },
    { weight: 1, arbitrary: binary },
    { weight: 2, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: huge },
  );
}

const fieldName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: fc.constant('') });

/** A query string or form body: known and random fields, repeats, empty and raw malformed pieces. */
function encoded(t: Target): fc.Arbitrary<string> {
  const pair = fc.oneof(
    { weight: 10, arbitrary: fc.tuple(fieldName, value(t)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`) },
    { weight: 1, arbitrary: fc.tuple(fieldName, badEscape).map(([k, v]) => `${encodeURIComponent(k)}=${v}`) },
    { weight: 1, arbitrary: fieldName.map((k) => encodeURIComponent(k)) },
    { weight: 1, arbitrary: fc.constantFrom('=', '&', '==', '+', 'a=b=c') },
  );
  return fc.array(pair, { maxLength: 12 }).chain((pairs) =>
    // Repeat one of the pairs now and then (RFC 6749 §3.1: repeated parameters are an error).
    fc.boolean().map((repeat) => (repeat && pairs.length ? [...pairs, pairs[0]!] : pairs).join('&')),
  );
}

type Body = string | Uint8Array | undefined;

function body(t: Target): fc.Arbitrary<{ type: string | undefined; body: Body }> {
  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/xml',
    ';;;',
    undefined,
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ type: contentType, body: encoded(t) }) },
    { weight: 2, arbitrary: fc.record({ type: contentType, body: fc.oneof(fc.json({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null')) }) },
    // Raw bytes: invalid UTF-8 and everything else.
    { weight: 2, arbitrary: fc.record({ type: contentType, body: fc.uint8Array({ maxLength: 64 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: contentType,
        body: fc.constantFrom(new Uint8Array([0xc3, 0x28]), new Uint8Array([0xff, 0xfe, 0x3d]), new Uint8Array([0x74, 0x6f, 0x6b, 0x65, 0x6e, 0x3d, 0xed, 0xa0, 0x80])),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: contentType, body: huge }) },
    { weight: 1, arbitrary: fc.record({ type: contentType, body: fc.constant(undefined) }) },
  );
}

function headers(t: Target): fc.Arbitrary<Record<string, string>> {
  const authorization = fc.oneof(
    fc.tuple(fc.constantFrom(...t.idp.clients), fc.oneof(value(t), fc.constant('wrong'))).map(([c, s]) => basic(c.id, s)),
    fc.tuple(text, text).map(([a, b]) => basic(a, b)),
    fc.constantFrom(`Bearer ${ADMIN}`, 'Bearer wrong', 'Bearer', 'Basic', 'Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Digest x'),
    value(t).map((v) => `Bearer ${v.replace(/[^\x21-\x7e]/g, '')}`),
    fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => s.replace(/[\r\n\0]/g, '')),
  );
  const cookie = fc.oneof(
    known(t.cookies),
    text.map((s) => `mock_idp_sso=${encodeURIComponent(s)}`),
    text.map((s) => `mock_idp_login=${encodeURIComponent(s)}`),
    fc.constantFrom('', ';', '=', 'mock_idp_sso', 'a=b; mock_idp_sso=; c', 'mock_idp_login=', 'mock_idp_login=x; mock_idp_login=y'),
  );
  return fc.record(
    {
      authorization,
      cookie,
      'content-length': fc.nat(200_000).map(String),
      origin: fc.constantFrom(new URL(t.idp.issuer).origin, 'null', 'https://evil.example', 'not a url', ''),
      'sec-fetch-site': fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none', 'x'),
    },
    { requiredKeys: [] },
  );
}

const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'get', 'FOO');

function path(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...PATHS) },
    { weight: 1, arbitrary: fc.constantFrom(...PATHS).map((p) => `${p}/`) },
    { weight: 1, arbitrary: fc.constantFrom(...PATHS).map((p) => p.toUpperCase()) },
    { weight: 1, arbitrary: text.map((s) => `/${encodeURIComponent(s)}`) },
    { weight: 1, arbitrary: fc.constantFrom('/__control/../token', '/%2e%2e/token', '//token', '/token%00', '/__control/clock/advance/x') },
  );
}

interface Generated {
  t: Target;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  type: string | undefined;
  body: Body;
}

function request(): fc.Arbitrary<Generated> {
  return fc.constantFrom(...targets).chain((t) =>
    fc.record({
      t: fc.constant(t),
      method,
      path: path(),
      query: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 2, arbitrary: encoded(t) }),
      headers: headers(t),
      type: fc.constant(undefined),
      body: fc.constant(undefined),
    }).chain((g) => body(t).map((b) => ({ ...g, type: b.type, body: b.body }))),
  );
}

/** A form (or query) that is nearly right: the real parameters of `kind`, then noise. */
function plausible(t: Target, kind: 'token' | 'authorize' | 'login' | 'end-session' | 'revoke'): fc.Arbitrary<{ form: string; headers: Record<string, string> }> {
  const client = fc.constantFrom(...t.idp.clients);
  const noise = fc.array(fc.tuple(fieldName, value(t)), { maxLength: 3 });
  const scope = fc.oneof(fc.constantFrom('openid offline_access', 'openid', 'openid profile offline_access', 'offline_access', 'openid email phone'), value(t));
  const challenge = fc.oneof(fc.constant('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'), value(t));
  const grant = fc.nat().map((i) => t.grants[i % Math.max(1, t.grants.length)]);
  return fc.tuple(client, noise, scope, challenge, fc.constantFrom('basic', 'post', 'none', 'wrong'), known(t.values), known(t.values), fc.boolean(), grant).map(
    ([picked, extra, sc, ch, auth, v1, v2, flag, paired]) => {
      // Half the refreshes present a refresh token with the client it was issued to (the rest: anything).
      const usePair = kind === 'token' && flag && paired !== undefined && v2.length % 2 === 0;
      const c = usePair ? t.idp.clients.find((x) => x.id === paired.clientId)! : picked;
      if (usePair) v1 = paired.token;
      const p = new URLSearchParams();
      const headers: Record<string, string> = {};
      const authenticate = () => {
        if (auth === 'basic') headers.authorization = basic(c.id, c.secret ?? '');
        else if (auth === 'wrong') headers.authorization = basic(c.id, 'wrong-secret');
        else {
          p.set('client_id', c.id);
          if (auth === 'post' && c.secret) p.set('client_secret', c.secret);
        }
      };
      switch (kind) {
        case 'token': {
          const grant = flag ? 'refresh_token' : c.grantTypes[v1.length % c.grantTypes.length]!;
          p.set('grant_type', grant);
          authenticate();
          if (grant === 'refresh_token') p.set('refresh_token', v1);
          if (grant === 'authorization_code') {
            p.set('code', v1);
            p.set('redirect_uri', c.redirectUris[0]!);
            p.set('code_verifier', v2);
          }
          if (flag && v2.length % 3 === 0) p.set('scope', sc);
          break;
        }
        case 'revoke':
          authenticate();
          p.set('token', v1);
          if (flag) p.set('token_type_hint', v2.length % 2 ? 'refresh_token' : 'access_token');
          break;
        case 'authorize':
          p.set('response_type', flag || v1.length % 4 ? 'code' : v1);
          p.set('client_id', c.id);
          p.set('redirect_uri', v2.length % 5 ? c.redirectUris[0]! : v2);
          p.set('scope', sc);
          p.set('state', v2.slice(0, 20));
          if (v1.length % 3) {
            p.set('code_challenge', ch);
            p.set('code_challenge_method', flag ? 'S256' : 'plain');
          }
          if (v1.length % 2) p.set('login_hint', t.idp.users[v1.length % t.idp.users.length]!.username);
          if (v2.length % 7 === 0) p.set('prompt', flag ? 'none' : 'login');
          break;
        case 'login': {
          const user = t.idp.users[v2.length % t.idp.users.length]!;
          p.set('tx', v1);
          p.set('username', flag ? user.username : v2);
          p.set('password', flag ? user.password : v2);
          break;
        }
        case 'end-session':
          if (flag) p.set('id_token_hint', v1);
          if (v1.length % 2) p.set('client_id', c.id);
          if (v2.length % 3) p.set('post_logout_redirect_uri', c.postLogoutRedirectUris[0]!);
          if (v2.length % 2) p.set('confirm', 'yes');
          p.set('state', v2.slice(0, 10));
          break;
      }
      for (const [k, v] of extra) p.append(k, v);
      return { form: p.toString(), headers };
    },
  );
}

function tokenRequests(list: Target[]): fc.Arbitrary<Generated> {
  return fc.constantFrom(...list).chain((t) =>
    fc.tuple(fc.constantFrom('/token', '/token', '/token', '/revoke', '/introspect'), headers(t), fc.boolean()).chain(([path, h, keep]) =>
      plausible(t, path === '/token' ? 'token' : 'revoke').map(
        (p): Generated => ({
          t,
          method: 'POST',
          path,
          query: '',
          headers: keep ? { ...h, ...p.headers } : p.headers,
          type: 'application/x-www-form-urlencoded',
          body: p.form,
        }),
      ),
    ),
  );
}

// ---------------------------------------------------------------- the property

/** Sends one request; returns a violation (string) or undefined. Undici refuses some requests outright (a method token, a body on GET): those are not sent. */
async function send(g: Generated): Promise<string | undefined> {
  const h = new Headers();
  try {
    for (const [k, v] of Object.entries(g.headers)) h.set(k, v);
    if (g.type !== undefined) h.set('content-type', g.type);
  } catch {
    return undefined;
  }
  const url = `${g.t.idp.issuer}${g.path}${g.query ? `?${g.query}` : ''}`;
  let req: Request;
  try {
    const upper = g.method.toUpperCase();
    req = new Request(url, { method: g.method, headers: h, ...(g.body !== undefined && upper !== 'GET' && upper !== 'HEAD' && { body: g.body as BodyInit }) });
  } catch {
    return undefined;
  }
  requests++;
  const errorsBefore = g.t.errors.length;
  let res: Response;
  try {
    res = await g.t.idp.fetch(req);
  } catch (e) {
    return `idp.fetch threw: ${e instanceof Error ? e.stack : String(e)}`;
  }
  const what = `${g.method} ${g.path} → ${res.status}`;
  if (process.env.FUZZ_STATS) stats.set(`${g.path} ${res.status}`, (stats.get(`${g.path} ${res.status}`) ?? 0) + 1);
  if (g.t.errors.length > errorsBefore) return `${what}: onError: ${String(g.t.errors.at(-1))}`;
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    return `${what}: body unreadable: ${String(e)}`;
  }
  const type = res.headers.get('content-type') ?? '';
  learn(g.t, res, text, clientOf(g));
  if (res.status >= 500) return `${what}: server error ${text.slice(0, 300)}`;
  if (res.status >= 400) {
    if (!/^application\/json\b/.test(type)) return `${what}: error with content-type ${type}`;
    let b: unknown;
    try {
      b = JSON.parse(text);
    } catch {
      return `${what}: error body is not JSON: ${text.slice(0, 200)}`;
    }
    const o = b as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return `${what}: error body is not an object`;
    if (!Object.keys(o).every((k) => k === 'error' || k === 'error_description')) return `${what}: extra members ${Object.keys(o).join(',')}`;
    if (typeof o.error !== 'string' || o.error === '' || !NQSCHAR.test(o.error)) return `${what}: bad error ${JSON.stringify(o.error)}`;
    if (o.error_description !== undefined && (typeof o.error_description !== 'string' || !NQSCHAR.test(o.error_description))) {
      return `${what}: bad error_description ${JSON.stringify(o.error_description)}`;
    }
    return undefined;
  }
  if (res.status >= 300) {
    const location = res.headers.get('location');
    if (!location) return `${what}: redirect without Location`;
    try {
      new URL(location);
    } catch {
      return `${what}: Location is not an absolute URL: ${location}`;
    }
    return undefined;
  }
  if (/^application\/(jwk-set\+)?json\b/.test(type)) {
    try {
      JSON.parse(text);
    } catch {
      return `${what}: JSON content type, body not JSON`;
    }
    return undefined;
  }
  if (/^text\/html\b/.test(type)) {
    const page = HTML_PAGES[g.path];
    if (!page || !page.test(text)) return `${what}: an HTML page that is not documented for ${g.path}`;
    return undefined;
  }
  if (g.path === '/revoke' && res.status === 200 && text === '') return undefined;
  return `${what}: unexpected ${type || 'no content type'} ${text.slice(0, 100)}`;
}

const POOL_LIMIT = 400;

/** The client a token request was made for (Basic header or client_id), to pair a new refresh token with it. */
function clientOf(g: Generated): string | undefined {
  const m = /^Basic (.+)$/.exec(g.headers.authorization ?? '');
  if (m) return decodeURIComponent(Buffer.from(m[1]!, 'base64').toString('utf8').split(':')[0] ?? '');
  return typeof g.body === 'string' ? (new URLSearchParams(g.body).get('client_id') ?? undefined) : undefined;
}

function remember(pool: string[], v: string): void {
  if (!v || pool.includes(v)) return;
  pool.push(v);
  // Keep the fixtures at the front; forget the oldest learnt values.
  if (pool.length > POOL_LIMIT) pool.splice(40, 1);
}

/** Tokens, codes, login transactions and cookies the IdP handed out become values of later requests. */
function learn(t: Target, res: Response, text: string, clientId: string | undefined): void {
  if (res.status === 200 && text.startsWith('{')) {
    try {
      const b = JSON.parse(text) as Record<string, unknown>;
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof b[k] === 'string') remember(t.values, b[k] as string);
      if (typeof b.refresh_token === 'string' && clientId) {
        t.grants.push({ clientId, token: b.refresh_token });
        if (t.grants.length > POOL_LIMIT) t.grants.shift();
      }
    } catch {
      // not JSON after all
    }
  }
  const tx = /name="tx" value="([^"]+)"/.exec(text);
  if (tx) remember(t.values, tx[1]!);
  const location = res.headers.get('location');
  if (location) {
    try {
      const code = new URL(location).searchParams.get('code');
      if (code) remember(t.values, code);
    } catch {
      // checked by the property
    }
  }
  for (const c of res.headers.getSetCookie()) remember(t.cookies, c.split(';')[0]!);
}

async function check(g: Generated): Promise<void> {
  const violation = await send(g);
  if (violation) throw new Error(violation);
}

describe('fuzzing the handler: never a 5xx or an exception; every error RFC-shaped JSON', () => {
  it('random requests to every endpoint (methods, paths, content types, fields, headers)', async () => {
    await fc.assert(fc.asyncProperty(request(), check), { numRuns: 4_500 });
  }, 60_000);

  it('the token, revocation and introspection endpoints with nearly-right forms and credentials', async () => {
    await fc.assert(fc.asyncProperty(tokenRequests(targets), check), { numRuns: 3_000 });
  }, 60_000);

  it('authorize, login and end-session with nearly-right queries and forms, and SSO cookies', async () => {
    const arb = fc.constantFrom(...targets).chain((t) =>
      fc.tuple(fc.constantFrom('authorize', 'authorize', 'login', 'end-session') as fc.Arbitrary<'authorize' | 'login' | 'end-session'>, fc.constantFrom('GET', 'POST'), headers(t)).chain(
        ([kind, m, h]) =>
          plausible(t, kind).map(
            (p): Generated => ({
              t,
              method: kind === 'login' ? 'POST' : m,
              path: `/${kind}`,
              query: m === 'GET' && kind !== 'login' ? p.form : '',
              headers: { ...(h.cookie !== undefined && { cookie: h.cookie }) },
              type: 'application/x-www-form-urlencoded',
              body: p.form,
            }),
          ),
      ),
    );
    await fc.assert(fc.asyncProperty(arb, check), { numRuns: 2_000 });
  }, 60_000);

  it('the control API, with and without the admin token, and on an IdP with test mode off', async () => {
    const arb = fc.constantFrom(...targets).chain((t) =>
      fc.record({
        t: fc.constant(t),
        method: fc.constantFrom('GET', 'POST', 'DELETE'),
        path: fc.constantFrom(...PATHS.filter((p) => p.startsWith('/__control'))),
        query: fc.oneof(fc.constant(''), encoded(t)),
        headers: fc.record({ authorization: fc.constantFrom(`Bearer ${ADMIN}`, `Bearer ${ADMIN}x`, 'Bearer ', `bearer ${ADMIN}`, '') }),
        type: fc.constantFrom('application/json', 'text/plain', undefined),
        body: fc.oneof(
          fc.record({ seconds: fc.oneof(fc.double(), fc.integer(), fc.constant(1e308)) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.record({ username: value(t), sub: value(t), clientId: value(t) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
          fc.json({ maxDepth: 2 }),
          fc.uint8Array({ maxLength: 16 }),
        ) as fc.Arbitrary<Body>,
      }),
    );
    await fc.assert(fc.asyncProperty(arb, check), { numRuns: 1_000 });
  }, 60_000);

  it(`sent more than 10 000 requests in all`, () => {
    if (process.env.FUZZ_STATS) console.log([...stats].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
    expect(requests).toBeGreaterThan(10_000);
    for (const t of targets) expect(t.errors).toEqual([]);
  });

  it('the property catches a broken IdP (deliberate bugs: a malformed error code, an exception)', async () => {
    const malformed = await target('telenorid-plus', true, (b) => ({ ...b, errorCode: (code) => (code === 'invalid_client' ? ('invalid\\client' as typeof code) : code) }));
    const throwing = await target('telenorid-plus', true, (b) => ({
      ...b,
      refreshGuards: [
        {
          name: 'scope',
          check: ({ record }) => {
            if (record.state !== 'active') throw new TypeError('deliberate bug');
            return undefined;
          },
        },
        ...b.refreshGuards,
      ],
    }));
    for (const [broken, cause] of [
      [malformed, /bad error "invalid\\\\client"/],
      [throwing, /server error|onError/],
    ] as const) {
      const r = await fc.check(fc.asyncProperty(tokenRequests([broken]), check), { numRuns: 2_000 });
      expect(r.failed).toBe(true);
      expect(String(r.errorInstance)).toMatch(cause);
    }
  }, 60_000);
});
