/**
 * A small OAuth client for the mock IdP's tests: PKCE, the login_hint shortcut, code exchange,
 * refresh, introspection, revocation, userinfo, end-session and the control API, over any
 * `fetch` (the handler, msw or real HTTP). It asserts nothing itself except the invariants that
 * hold for every response (no 5xx, RFC-shaped JSON errors, no-store on token-style endpoints),
 * which it records in `violations` for the test to check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DomUtils, parseDocument } from 'htmlparser2';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { CookieJar } from 'tough-cookie';
import type { MockIdp } from '../idp.ts';
import type { MockClient, MockUser } from '../fixtures.ts';
import { usesDpop } from '../profile/model.ts';
import { createProof, generateDpopKey, type DpopKey } from '../../suites/harness/dpop.ts';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** A response, read once. `body` is the parsed JSON (undefined for other content types). */
export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
  location?: URL;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** RFC 7636 §4.1–4.2: a 43-character verifier and its S256 challenge. */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthOptions {
  /** Default: client_secret_basic for confidential clients, none for public ones. */
  auth?: AuthMethod;
  /** Overrides the client's secret (wrong secrets). */
  secret?: string;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then Base64 in the Basic header. */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function clientAuth(client: MockClient, params: Record<string, string>, o: AuthOptions = {}): { headers: Record<string, string>; params: Record<string, string> } {
  const method = o.auth ?? (client.confidential ? 'client_secret_basic' : 'none');
  const secret = o.secret ?? client.secret ?? '';
  if (method === 'client_secret_basic') return { headers: { authorization: basic(client.id, secret) }, params };
  if (method === 'client_secret_post') return { headers: {}, params: { ...params, client_id: client.id, client_secret: secret } };
  return { headers: {}, params: { ...params, client_id: client.id } };
}

const TOKEN_STYLE = /^\/(token|revoke|introspect)$/;
const NQSCHAR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

export interface AuthorizeOptions {
  scope?: string;
  state?: string;
  nonce?: string;
  /** Username for the test-mode shortcut; null sends none. Default: the first fixture user. */
  loginHint?: string | null;
  prompt?: string;
  /** A challenge to send (default: a fresh S256 one); false sends no PKCE parameters. */
  pkce?: Pkce | false;
  codeChallengeMethod?: string;
  redirectUri?: string;
  cookie?: string;
  extra?: Record<string, string>;
}

export interface SignedIn {
  code: string;
  verifier: string;
  cookie?: string;
  location: URL;
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  expires_in: number;
  token_type: string;
  /** Seconds the refresh token has left (profile refreshExpiresIn, Keycloak's member). */
  refresh_expires_in?: number;
  /** The SSO cookie set at login (name=value). */
  cookie?: string;
}

export class IdpClient {
  /** Invariant violations seen in any response (checked by the test after each case). */
  readonly violations: string[] = [];

  constructor(
    readonly idp: MockIdp,
    readonly fetch: Fetch,
  ) {}

  get user(): MockUser {
    return this.idp.users[0]!;
  }

  client(policy: string): MockClient {
    const c = this.idp.clients.find((x) => x.policy === policy);
    if (!c) throw new Error(`no fixture client for policy ${policy}`);
    return c;
  }

  url(path: string): string {
    return this.idp.issuer + path;
  }

  /** Any request; the response is checked against the invariants and read. */
  async raw(pathOrUrl: string, init: RequestInit = {}): Promise<Reply> {
    const url = pathOrUrl.startsWith('/') ? this.url(pathOrUrl) : pathOrUrl;
    return this.read(url, await this.fetch(url, { redirect: 'manual', ...init }));
  }

  async read(url: string, res: Response): Promise<Reply> {
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const where = `${res.status} ${new URL(url).pathname}`;
    let body: unknown;
    if (type.startsWith('application/json') || type.startsWith('application/jwk-set+json')) {
      try {
        body = JSON.parse(text);
      } catch {
        this.violations.push(`${where}: JSON content type but unparsable body`);
      }
    }
    if (res.status >= 500) this.violations.push(`${where}: server error ${text}`);
    if (res.status >= 400) {
      const ok =
        typeof body === 'object' &&
        body !== null &&
        Object.keys(body).every((k) => k === 'error' || k === 'error_description') &&
        typeof (body as { error?: unknown }).error === 'string' &&
        NQSCHAR.test((body as { error: string }).error) &&
        ['string', 'undefined'].includes(typeof (body as { error_description?: unknown }).error_description) &&
        NQSCHAR.test((body as { error_description?: string }).error_description ?? 'x');
      if (!ok) this.violations.push(`${where}: not an RFC-shaped JSON error: ${type} ${text.slice(0, 200)}`);
    }
    if (TOKEN_STYLE.test(url.slice(this.idp.issuer.length).split('?')[0]!)) {
      if (!/\bno-store\b/.test(res.headers.get('cache-control') ?? '')) this.violations.push(`${where}: no Cache-Control: no-store`);
      if (res.headers.get('pragma') !== 'no-cache') this.violations.push(`${where}: no Pragma: no-cache`);
    }
    const location = res.headers.get('location');
    return { status: res.status, headers: res.headers, body, text, ...(location !== null && { location: new URL(location, url) }) };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.raw(path, { headers });
  }

  form(path: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.raw(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    });
  }

  /** POST to an endpoint that authenticates the client (token, revocation, introspection). */
  authed(path: string, client: MockClient, params: Record<string, string>, o: AuthOptions = {}): Promise<Reply> {
    const a = clientAuth(client, params, o);
    return this.form(path, a.params, a.headers);
  }

  /**
   * A token request. A client whose policy declares a sender constraint (RFC 9449) sends a DPoP proof
   * of this test client's key with each one, with the last nonce the mock gave, retrying once on
   * use_dpop_nonce: the refresh rules then apply to it as to any client (the DPoP rules have their own tests).
   */
  async token(client: MockClient, params: Record<string, string>, o: AuthOptions = {}): Promise<Reply> {
    const policy = this.idp.profile.policies[client.policy];
    if (!policy || !usesDpop(policy)) return this.authed('/token', client, params, o);
    const key = await (this.#dpopKey ??= generateDpopKey());
    const send = async () => {
      const a = clientAuth(client, params, o);
      const proof = await createProof(key, { htm: 'POST', htu: this.url('/token'), iat: this.idp.clock.now(), ...(this.#dpopNonce !== undefined && { nonce: this.#dpopNonce }) });
      const r = await this.form('/token', a.params, { ...a.headers, dpop: proof });
      this.#dpopNonce = r.headers.get('dpop-nonce') ?? this.#dpopNonce;
      return r;
    };
    const r = await send();
    return r.status === 400 && r.body?.error === 'use_dpop_nonce' ? send() : r;
  }

  #dpopKey: Promise<DpopKey> | undefined;
  #dpopNonce: string | undefined;

  authorizeUrl(client: MockClient, o: AuthorizeOptions = {}, challenge?: Pkce): string {
    const u = new URL(this.url('/authorize'));
    const q: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: client.id,
      redirect_uri: o.redirectUri ?? client.redirectUris[0],
      scope: o.scope ?? 'openid offline_access',
      state: o.state,
      nonce: o.nonce,
      prompt: o.prompt,
      login_hint: o.loginHint === null ? undefined : (o.loginHint ?? this.user.username),
      ...(challenge && { code_challenge: challenge.challenge, code_challenge_method: o.codeChallengeMethod ?? 'S256' }),
      ...o.extra,
    };
    for (const [k, v] of Object.entries(q)) if (v !== undefined) u.searchParams.set(k, v);
    return u.href;
  }

  /** GET /authorize (redirects are not followed). */
  authorize(client: MockClient, o: AuthorizeOptions = {}): Promise<Reply & { pkce?: Pkce }> {
    const challenge = o.pkce === false ? undefined : (o.pkce ?? pkce());
    return this.raw(this.authorizeUrl(client, o, challenge), { headers: o.cookie ? { cookie: o.cookie } : {} }).then((r) => ({
      ...r,
      ...(challenge && { pkce: challenge }),
    }));
  }

  /** Authorization through the login_hint shortcut (or an SSO cookie); fails unless a code comes back. */
  async signIn(client: MockClient, o: AuthorizeOptions = {}): Promise<SignedIn> {
    const r = await this.authorize(client, o);
    const code = r.location?.searchParams.get('code');
    if (r.status !== 302 || !code || !r.pkce) throw new Error(`authorize did not return a code: ${r.status} ${r.location?.href ?? r.text.slice(0, 200)}`);
    const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('mock_idp_sso='));
    return { code, verifier: r.pkce.verifier, location: r.location!, ...((cookie ?? o.cookie) && { cookie: cookie ?? o.cookie }) };
  }

  exchange(client: MockClient, code: string, verifier: string | undefined, o: AuthOptions & { redirectUri?: string } = {}): Promise<Reply> {
    return this.token(
      client,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: o.redirectUri ?? client.redirectUris[0]!,
        ...(verifier !== undefined && { code_verifier: verifier }),
      },
      o,
    );
  }

  /** Login + code exchange; fails unless the token response is 200. */
  async tokens(client: MockClient, o: AuthorizeOptions = {}): Promise<Tokens> {
    const s = await this.signIn(client, o);
    const r = await this.exchange(client, s.code, s.verifier);
    if (r.status !== 200) throw new Error(`code exchange failed: ${r.status} ${r.text}`);
    return { ...r.body, ...(s.cookie && { cookie: s.cookie }) } as Tokens;
  }

  refresh(client: MockClient, refreshToken: string, o: AuthOptions & { scope?: string } = {}): Promise<Reply> {
    return this.token(client, { grant_type: 'refresh_token', refresh_token: refreshToken, ...(o.scope !== undefined && { scope: o.scope }) }, o);
  }

  /** The first confidential client, the fixtures' resource server: it may introspect any client's tokens. */
  get introspector(): MockClient {
    const c = this.idp.clients.find((x) => x.confidential);
    if (!c) throw new Error('the profile has no confidential client');
    return c;
  }

  introspect(token: string, as: MockClient = this.introspector, o: AuthOptions = {}): Promise<Reply> {
    return this.authed('/introspect', as, { token }, o);
  }

  async active(token: string): Promise<boolean> {
    const r = await this.introspect(token);
    if (r.status !== 200) throw new Error(`introspection failed: ${r.status} ${r.text}`);
    return r.body.active === true;
  }

  /**
   * A refresh token's life as introspection describes it; where the profile's introspection covers
   * access tokens only (refresh tokens introspect inactive, RFC 7662 §2.2), as the mock holds it
   * (control.refreshToken), in the same shape: { active: false } or { active: true, iat, exp }.
   */
  async refreshState(token: string): Promise<{ active: boolean; [k: string]: any }> {
    if (this.idp.profile.introspection === 'access-and-refresh-tokens') {
      const r = await this.introspect(token);
      if (r.status !== 200) throw new Error(`introspection failed: ${r.status} ${r.text}`);
      return r.body;
    }
    const held = (await this.idp.control.refreshToken(token));
    return held?.active ? { active: true, iat: held.iat, exp: held.exp } : { active: false };
  }

  async refreshActive(token: string): Promise<boolean> {
    return (await this.refreshState(token)).active === true;
  }

  revoke(client: MockClient, token: string, o: AuthOptions = {}): Promise<Reply> {
    return this.authed('/revoke', client, { token }, o);
  }

  userinfo(accessToken: string): Promise<Reply> {
    return this.get('/userinfo', { authorization: `Bearer ${accessToken}` });
  }

  endSession(params: Record<string, string>, cookie?: string): Promise<Reply> {
    return this.get(`/end-session?${new URLSearchParams(params)}`, cookie ? { cookie } : {});
  }

  /** The control API over the transport, with the admin token unless another is given (null: none). */
  control(method: string, path: string, body?: unknown, token: string | null = this.idp.adminToken ?? null): Promise<Reply> {
    return this.raw(`/__control${path}`, {
      method,
      headers: { ...(token !== null && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  }

  /** Verifies an ID token with the published JWKS (a local set: the handler transport has no network). */
  async verifyIdToken(idToken: string, client: MockClient): Promise<JWTPayload> {
    const meta = await this.get('/.well-known/openid-configuration');
    const jwks = await this.raw(meta.body.jwks_uri);
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks.body), {
      issuer: this.idp.issuer,
      audience: client.id,
      currentDate: new Date((await this.idp.control.now()) * 1000),
    });
    return payload;
  }
}

/** An HTML form as a plain HTTP client sees it. */
export interface Form {
  method: string;
  action: string;
  inputs: { name: string; type: string; value: string }[];
  buttons: { name?: string; value: string }[];
}

export function parseForms(html: string, pageUrl: string): Form[] {
  const doc = parseDocument(html);
  return DomUtils.findAll((e) => e.name === 'form', doc.children).map((f) => ({
    method: (f.attribs.method ?? 'get').toLowerCase(),
    action: new URL(f.attribs.action ?? '', pageUrl).href,
    inputs: DomUtils.findAll((e) => e.name === 'input', f.children).map((i) => ({
      name: i.attribs.name ?? '',
      type: (i.attribs.type ?? 'text').toLowerCase(),
      value: i.attribs.value ?? '',
    })),
    buttons: DomUtils.findAll((e) => e.name === 'button', f.children).map((b) => ({
      ...(b.attribs.name !== undefined && { name: b.attribs.name }),
      value: b.attribs.value ?? '',
    })),
  }));
}

/** A minimal browser: a tough-cookie jar, manual redirects, form submission. */
export class Browser {
  /** The jar may be another browser's: the same browser talking to another replica. */
  constructor(
    readonly c: IdpClient,
    readonly jar = new CookieJar(),
  ) {}

  async request(url: string, init: RequestInit = {}): Promise<Reply> {
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await this.c.fetch(url, { ...init, headers, redirect: 'manual' });
    for (const set of res.headers.getSetCookie()) await this.jar.setCookie(set, url);
    return this.c.read(url, res);
  }

  /** Submits a form with its hidden/prefilled values, the given ones, and the named button (if any). */
  submit(form: Form, values: Record<string, string> = {}, button = form.buttons[0]): Promise<Reply> {
    const data = new URLSearchParams();
    for (const i of form.inputs) if (i.name && !(i.name in values)) data.set(i.name, i.value);
    for (const [k, v] of Object.entries(values)) data.set(k, v);
    if (button?.name) data.set(button.name, button.value);
    if (form.method === 'get') {
      const u = new URL(form.action);
      u.search = data.toString();
      return this.request(u.href);
    }
    return this.request(form.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: data.toString() });
  }
}
