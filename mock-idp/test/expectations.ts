/**
 * The mock IdP's expectations, written once and run over three transports (handler.test.ts,
 * msw.test.ts, http.test.ts). Every number comes from the profile object, so the same
 * expectations follow telenorid-plus, erp-net and the profile variants (profile/variants.ts).
 * Time moves only through idp.control.advance (the clock is frozen otherwise).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { MockIdp, MockIdpOptions } from '../idp.ts';
import { SEED_PROFILES, isRefreshPolicy, loadProfile, type Policy, type Profile, type RefreshPolicy } from '../profile/index.ts';
import { Browser, IdpClient, basic, parseForms, pkce, type AuthMethod, type Fetch, type Reply, type Tokens } from './client.ts';
import { fixtureClients, type MockClient } from '../fixtures.ts';
import { loadVariants } from '../profile/variants.ts';
import { MAX_ADVANCE_SECONDS, MAX_AUTHORIZE_PARAM_CHARS, MAX_CONTROL_STRING_CHARS, MAX_PENDING_LOGINS } from '../limits.ts';

export type StartOptions = Omit<MockIdpOptions, 'issuer'>;

export interface StartedIdp {
  idp: MockIdp;
  fetch: Fetch;
  close(): Promise<void>;
}

export interface Transport {
  name: string;
  start(opts: StartOptions): Promise<StartedIdp>;
}

type Start = (profile: Profile, extra?: Partial<StartOptions>) => Promise<IdpClient>;

const PROFILES: Profile[] = await Promise.all(SEED_PROFILES.map((name) => loadProfile(name)));
/** The covering set of profile variants (profile/variants.ts): the seeds and the variants derived from them. */
const VARIANTS: Profile[] = await loadVariants();

// ---------------------------------------------------------------- helpers

function ok(r: Reply): Tokens {
  expect(r.status, r.text).toBe(200);
  return r.body as Tokens;
}

function expectError(r: Reply, status: number, error: string): void {
  expect({ status: r.status, error: r.body?.error }, r.text).toEqual({ status, error });
}

/** An error sent back to the client's redirect_uri (RFC 6749 §4.1.2.1), with state and iss. */
function expectErrorRedirect(r: Reply, client: MockClient, error: string, state?: string): void {
  expect(r.status, r.text).toBe(302);
  expect(r.location!.href.startsWith(client.redirectUris[0]!)).toBe(true);
  expect(r.location!.searchParams.get('error')).toBe(error);
  expect(r.location!.searchParams.get('code')).toBeNull();
  if (state !== undefined) expect(r.location!.searchParams.get('state')).toBe(state);
}

function scopes(s: string | undefined): string[] {
  return (s ?? '').split(' ').filter(Boolean).sort();
}

type Entry<P extends Policy = Policy> = [name: string, policy: P];

function entries(profile: Profile): Entry[] {
  return Object.entries(profile.policies);
}

function refreshing(profile: Profile): Entry<RefreshPolicy>[] {
  return entries(profile).filter((e): e is Entry<RefreshPolicy> => isRefreshPolicy(e[1]));
}

function offline(profile: Profile): string {
  return `openid ${profile.offlineAccessScope}`;
}

/**
 * The oracle: what a refresh does once the SSO session has ended, per profile variant and policy,
 * written out by hand from each variant's declarations (not computed from the rules, so the mock's
 * rules, profile/model.ts, are checked against an independent statement of them).
 * - rotate: a new refresh token; extend: no new token, the presented one gets a new lifetime;
 * - keep: no new token, the presented one works until its own expiry; consume: it is used up;
 * - invalid_grant: the refresh is refused.
 */
type AfterSsoEnd = 'rotate' | 'extend' | 'keep' | 'consume' | 'invalid_grant' | 'late-rotate';
const AFTER_SSO_END: Record<string, Record<string, AfterSsoEnd>> = {
  // no-new-refresh-token, usable-until-expiry
  'telenorid-plus': { Confidential: 'keep', Mobile: 'keep', PublicWeb: 'keep', Web: 'keep' },
  // new-refresh-token: rotation on both policies
  'erp-net': { Interactive: 'rotate', InteractivePublic: 'rotate' },
  // invalid_grant
  'telenorid-plus-sso-invalid-grant': { Confidential: 'invalid_grant', Mobile: 'invalid_grant', PublicWeb: 'invalid_grant', Web: 'invalid_grant' },
  // no-new-refresh-token, consumed
  'telenorid-plus-sso-consumed-grace': { Confidential: 'consume', Mobile: 'consume', PublicWeb: 'consume', Web: 'consume' },
  // new-refresh-token: Interactive sliding without rotation, InteractiveFixed fixed with rotation
  // InteractiveLateRotation rotates only from 70 % of its lifetime: right after the session ended a refresh keeps
  // the token; near its expiry one rotates (new-refresh-token: the session's end does not stop it).
  'erp-net-reject-grace-mixed': { Interactive: 'extend', InteractivePublic: 'rotate', InteractiveFixed: 'rotate', InteractiveLateRotation: 'late-rotate' },
  // Keycloak-like (erp-net base: new-refresh-token), rotation on both policies
  'erp-net-keycloak-like': { Interactive: 'rotate', InteractivePublic: 'rotate' },
  // Auth0-like (telenorid-plus base: no-new-refresh-token, usable-until-expiry)
  'telenorid-plus-auth0-like': { Confidential: 'keep', Mobile: 'keep', PublicWeb: 'keep', Web: 'keep' },
  // always-unbound (erp-net base: new-refresh-token)
  'erp-net-always-unbound': { Interactive: 'rotate', InteractivePublic: 'rotate' },
  // DPoP (erp-net base: new-refresh-token): InteractivePublic bound instead of rotated (sliding), the others rotate
  'erp-net-dpop': { Interactive: 'rotate', InteractivePublic: 'extend', InteractivePublicRequired: 'rotate' },
};

/**
 * The oracle for the schema-v2 fields, per variant, written out by hand from each variant's
 * declarations (README "Describing your IdP" has the field table).
 */
interface V2Oracle {
  /** HTTP status of an invalid_grant refusal of the refresh grant (invalidGrantStatus). */
  refusalStatus: 400 | 403;
  /** 8 concurrent refreshes of one rotating token: one winner, or the same new token for all (concurrentRefresh). */
  concurrent: 'one-winner' | 'same-successor';
  /** Introspection describes refresh tokens, or answers {active:false} for them (introspection). */
  introspectsRefreshTokens: boolean;
  /** A refresh with the openid scope returns an id_token (idTokenOnRefresh). */
  idTokenOnRefresh: boolean;
  /** Token responses with a live refresh token carry refresh_expires_in (refreshExpiresIn). */
  refreshExpiresIn: boolean;
  /** How many times a rotated-out token may be retried within the grace window (graceReuseCount). */
  graceRetries: number;
  /**
   * A code exchange without the offline-access scope: no refresh token, or an online one
   * (refreshTokenIssuance "always") that lives `lifetime` s (default: its policy's) and after the
   * SSO session ends does `afterSsoEnd` (onlineTokens).
   */
  online: 'none' | { lifetime?: number; afterSsoEnd: AfterSsoEnd };
}

const V1_DEFAULTS: V2Oracle = { refusalStatus: 400, concurrent: 'one-winner', introspectsRefreshTokens: true, idTokenOnRefresh: true, refreshExpiresIn: false, graceRetries: 1, online: 'none' };
const V2_ORACLE: Record<string, V2Oracle> = {
  'telenorid-plus': V1_DEFAULTS,
  'erp-net': V1_DEFAULTS,
  'telenorid-plus-sso-invalid-grant': V1_DEFAULTS,
  'telenorid-plus-sso-consumed-grace': V1_DEFAULTS,
  'erp-net-reject-grace-mixed': V1_DEFAULTS,
  // online: 1800 s, refused after the SSO session; grace retried 3 times; refresh_expires_in; id_token "optional" (sent)
  'erp-net-keycloak-like': { ...V1_DEFAULTS, refreshExpiresIn: true, graceRetries: 3, online: { lifetime: 1800, afterSsoEnd: 'invalid_grant' } },
  // 403; same successor; access tokens only; no id_token on refresh; online kept (no new one) after the SSO session
  'telenorid-plus-auth0-like': {
    ...V1_DEFAULTS,
    refusalStatus: 403,
    concurrent: 'same-successor',
    introspectsRefreshTokens: false,
    idTokenOnRefresh: false,
    online: { afterSsoEnd: 'keep' },
  },
  // same successor; online tokens rotate after the SSO session like offline ones
  'erp-net-always-unbound': { ...V1_DEFAULTS, concurrent: 'same-successor', online: { afterSsoEnd: 'rotate' } },
  // DPoP only (its own tests: dpop.test.ts); the v2 fields at their defaults
  'erp-net-dpop': V1_DEFAULTS,
};

function v2(profile: Profile): V2Oracle {
  const o = V2_ORACLE[profile.name];
  if (!o) throw new Error(`the oracle has no v2 expectations for ${profile.name}: add it to V2_ORACLE`);
  return o;
}

/** A refused refresh: invalid_grant with the variant's status. */
function expectRefused(r: Reply, profile: Profile): void {
  expectError(r, v2(profile).refusalStatus, 'invalid_grant');
}

function afterSsoEnd(profile: Profile, policyName: string): AfterSsoEnd {
  const outcome = AFTER_SSO_END[profile.name]?.[policyName];
  if (!outcome) throw new Error(`the oracle has no expected outcome after the SSO session for ${profile.name} ${policyName}: add it to AFTER_SSO_END`);
  return outcome;
}

/** Does a refresh after the SSO session's end still give a new lifetime (a new token, or an extended one)? */
const renewsAfterSsoEnd = (o: AfterSsoEnd) => o === 'rotate' || o === 'extend' || o === 'late-rotate';

// ---------------------------------------------------------------- entry point

export function defineIdpExpectations(transport: Transport): void {
  describe(`mock IdP over ${transport.name}`, () => {
    const live: { started: StartedIdp; client: IdpClient }[] = [];
    const bugs: unknown[] = [];
    afterEach(async () => {
      const done = live.splice(0);
      await Promise.all(done.map((l) => l.started.close()));
      expect(done.flatMap((l) => l.client.violations), 'invariants (no 5xx, RFC-shaped errors, no-store)').toEqual([]);
      expect(bugs.splice(0), 'unexpected exceptions inside the IdP').toEqual([]);
    });
    const start: Start = async (profile, extra = {}) => {
      const started = await transport.start({ profile, testMode: true, onError: (e) => bugs.push(e), ...extra });
      const client = new IdpClient(started.idp, started.fetch);
      live.push({ started, client });
      return client;
    };

    for (const profile of PROFILES) {
      describe(profile.name, () => {
        discovery(start, profile);
        authorize(start, profile);
        loginForm(start, profile);
        tokenEndpoint(start, profile);
        offlineAccess(start, profile);
        rotation(start, profile);
        expiry(start, profile);
        sso(start, profile);
        bindingAndScope(start, profile);
        idTokenOnRefresh(start, profile);
        revocation(start, profile);
        introspection(start, profile);
        userinfo(start, profile);
        endSession(start, profile);
      });
    }

    const telenor = PROFILES.find((p) => p.name === 'telenorid-plus')!;
    it('the oracle has an expected outcome for every refreshing policy of every variant', () => {
      for (const p of VARIANTS) for (const [name] of refreshing(p)) expect(() => afterSsoEnd(p, name)).not.toThrow();
    });
    describe('profile variants', () => {
      // The seeds ran in full above; the derived variants run the refresh rules.
      for (const p of VARIANTS.filter((v) => !PROFILES.some((seed) => seed.name === v.name))) {
        describe(p.name, () => {
          sso(start, p);
          expiry(start, p);
          // A grace window lets a rotated-out token through once: the plain reuse expectations do not hold there.
          if (p.graceWindowSeconds > 0) graceWindow(start, p);
          else rotation(start, p);
        });
      }
    });

    describe('schema-v2 fields', () => {
      for (const p of VARIANTS) v2Fields(start, p);
    });

    controlApi(start, telenor);
    badInput(start, telenor);
    hardening(start, telenor);
    for (const p of PROFILES) introspectionScope(start, p);
  });
}

// ---------------------------------------------------------------- discovery

function discovery(start: Start, profile: Profile): void {
  describe('discovery', () => {
    it('serves OIDC discovery and RFC 8414 metadata with the refresh-relevant fields', async () => {
      const c = await start(profile);
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const m = (await c.get(path)).body;
        expect(m).toMatchObject({
          issuer: c.idp.issuer,
          authorization_endpoint: c.url('/authorize'),
          token_endpoint: c.url('/token'),
          jwks_uri: c.url('/jwks'),
          userinfo_endpoint: c.url('/userinfo'),
          revocation_endpoint: c.url('/revoke'),
          introspection_endpoint: c.url('/introspect'),
          end_session_endpoint: c.url('/end-session'),
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
        });
        expect(m.scopes_supported).toEqual(expect.arrayContaining(['openid', profile.offlineAccessScope, ...profile.scopes]));
        expect([...m.grant_types_supported].sort()).toEqual([...new Set(entries(profile).flatMap(([, p]) => p.grantTypes))].sort());
        expect(m.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
      }
    });

    it('publishes a JWKS that verifies the ID token (and not a tampered one)', async () => {
      const c = await start(profile);
      const [name] = refreshing(profile)[0]!;
      const client = c.client(name);
      const t = await c.tokens(client, { nonce: 'n-jwks' });
      const claims = await c.verifyIdToken(t.id_token!, client);
      expect(claims).toMatchObject({ iss: c.idp.issuer, aud: client.id, sub: c.user.sub, nonce: 'n-jwks' });
      const [h, , s] = t.id_token!.split('.');
      const forged = Buffer.from(JSON.stringify({ ...decodeJwt(t.id_token!), sub: 'someone-else' })).toString('base64url');
      await expect(c.verifyIdToken(`${h}.${forged}.${s}`, client)).rejects.toThrow();
    });
  });
}

// ---------------------------------------------------------------- authorize

function authorize(start: Start, profile: Profile): void {
  const code = entries(profile).filter(([, p]) => p.grantTypes.includes('authorization_code'));
  const publicCode = code.filter(([, p]) => !p.confidential);
  const [anyCode] = code[0]!;
  const [refreshName] = refreshing(profile)[0]!;

  describe('authorize', () => {
    for (const [name] of publicCode) {
      it(`${name}: a public client must use PKCE with S256 (no PKCE, plain, or no method: invalid_request)`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        expectErrorRedirect(await c.authorize(client, { pkce: false, state: 'st-1' }), client, 'invalid_request', 'st-1');
        const { verifier } = pkce();
        const plain = { verifier, challenge: verifier };
        expectErrorRedirect(await c.authorize(client, { pkce: plain, codeChallengeMethod: 'plain', state: 'st-2' }), client, 'invalid_request', 'st-2');
        expectErrorRedirect(await c.authorize(client, { pkce: plain, state: 'st-3', codeChallengeMethod: '' }), client, 'invalid_request', 'st-3');
        const s = await c.signIn(client);
        ok(await c.exchange(client, s.code, s.verifier));
      });
    }

    it('matches redirect_uri exactly; a mismatch is a 400 JSON error, never a redirect', async () => {
      const c = await start(profile);
      const client = c.client(anyCode);
      const reg = client.redirectUris[0]!;
      const other = c.idp.clients.find((x) => x.id !== client.id)!.redirectUris[0]!;
      for (const wrong of [`${reg}/`, `${reg}?x=1`, `${reg}#frag`, reg.toUpperCase(), `${reg}x`, other, 'https://evil.example/callback']) {
        const r = await c.authorize(client, { redirectUri: wrong, state: 's' });
        expectError(r, 400, 'invalid_request');
        expect(r.location).toBeUndefined();
      }
      const missing = await c.raw(`/authorize?response_type=code&client_id=${client.id}&scope=openid`);
      expectError(missing, 400, 'invalid_request');
    });

    it('echoes state in the redirect and nonce in the ID token', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const s = await c.signIn(client, { state: 'st-42 /?&', nonce: 'nonce-42' });
      expect(s.location.searchParams.get('state')).toBe('st-42 /?&');
      expect(s.location.searchParams.get('iss')).toBe(c.idp.issuer);
      const t = ok(await c.exchange(client, s.code, s.verifier));
      expect(decodeJwt(t.id_token!).nonce).toBe('nonce-42');
    });

    it('an unknown scope is an error redirect (invalid_scope) with state', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      expectErrorRedirect(await c.authorize(client, { scope: 'openid no-such-scope', state: 'st-x' }), client, 'invalid_scope', 'st-x');
    });

    it('sets the SSO cookie; a second authorize with it skips login, also for another client', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const first = await c.authorize(client);
      const set = first.headers.getSetCookie().find((x) => x.startsWith('mock_idp_sso='));
      expect(set).toMatch(/HttpOnly/i);
      const cookie = set!.split(';')[0]!;
      for (const [name] of code) {
        const other = c.client(name);
        const s = await c.signIn(other, { loginHint: null, cookie, scope: 'openid' });
        const t = ok(await c.exchange(other, s.code, s.verifier));
        expect(decodeJwt(t.id_token!).sub).toBe(c.user.sub);
      }
    });

    it('prompt=none without a session is login_required; with the SSO cookie it returns a code', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      expectErrorRedirect(await c.authorize(client, { prompt: 'none', state: 'st-n' }), client, 'login_required', 'st-n');
      const { cookie } = await c.signIn(client);
      const r = await c.authorize(client, { prompt: 'none', loginHint: null, cookie: cookie! });
      expect(r.status).toBe(302);
      expect(r.location!.searchParams.get('code')).toBeTruthy();
    });

    it('the login_hint shortcut works only in test mode; otherwise the login form is shown', async () => {
      const c = await start(profile, { testMode: false });
      const client = c.client(refreshName);
      const r = await c.authorize(client);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/html/);
      expect(r.location).toBeUndefined();
      const [form] = parseForms(r.text, c.url('/authorize'));
      expect(form!.inputs.find((i) => i.name === 'username')!.value).toBe(c.user.username);
    });
  });
}

// ---------------------------------------------------------------- login form

function loginForm(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  describe('login form', () => {
    it('a plain HTTP client with a cookie jar signs in through the form (wrong password re-shows it)', async () => {
      const c = await start(profile, { testMode: false });
      const b = new Browser(c);
      const client = c.client(name);
      const { verifier, challenge } = pkce();
      const url = c.authorizeUrl(client, { loginHint: null, state: 'st-form' }, { verifier, challenge });
      const page = await b.request(url);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<form method="post"/);
      const [form] = parseForms(page.text, url);
      expect(form!.method).toBe('post');
      expect(form!.inputs).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'username', type: 'text' }),
          expect.objectContaining({ name: 'password', type: 'password' }),
          expect.objectContaining({ name: 'tx', type: 'hidden' }),
        ]),
      );
      const user = c.idp.users[1]!;
      const wrong = await b.submit(form!, { username: user.username, password: `${user.password}x` });
      expect(wrong.status).toBe(200);
      expect(wrong.location).toBeUndefined();
      const [again] = parseForms(wrong.text, form!.action);
      expect(again!.inputs.some((i) => i.type === 'password')).toBe(true);
      const done = await b.submit(again!, { username: user.username, password: user.password });
      expect(done.status).toBe(302);
      expect(done.location!.href.startsWith(client.redirectUris[0]!)).toBe(true);
      expect(done.location!.searchParams.get('state')).toBe('st-form');
      const t = ok(await c.exchange(client, done.location!.searchParams.get('code')!, verifier));
      expect(decodeJwt(t.id_token!).sub).toBe(user.sub);
      // The jar now holds the SSO cookie: the next authorization needs no form.
      const sso = await b.request(c.authorizeUrl(client, { loginHint: null }, pkce()));
      expect(sso.status).toBe(302);
      expect(sso.location!.searchParams.get('code')).toBeTruthy();
    });
  });
}

// ---------------------------------------------------------------- token endpoint

function tokenEndpoint(start: Start, profile: Profile): void {
  const all = entries(profile);
  const confidential = all.filter(([, p]) => p.confidential);
  const [refreshName] = refreshing(profile)[0]!;
  const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

  /** A successful grant for the client with the given authentication. */
  async function grant(c: IdpClient, client: MockClient, auth: AuthMethod): Promise<Reply> {
    if (client.grantTypes.includes('authorization_code')) {
      const s = await c.signIn(client, { scope: 'openid' });
      return c.exchange(client, s.code, s.verifier, { auth });
    }
    return c.token(client, { grant_type: 'client_credentials' }, { auth });
  }

  describe('token endpoint', () => {
    it('authorization_code + PKCE: a wrong or missing code_verifier is invalid_grant', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const s = await c.signIn(client);
      expectError(await c.exchange(client, s.code, pkce().verifier), 400, 'invalid_grant');
      expectError(await c.exchange(client, s.code, undefined), 400, 'invalid_grant');
      expectError(await c.exchange(client, s.code, 'short'), 400, 'invalid_grant');
    });

    it('a code is bound to its client and its redirect_uri', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const other = c.idp.clients.find((x) => x.id !== client.id && x.grantTypes.includes('authorization_code'))!;
      const s = await c.signIn(client);
      expectError(await c.exchange(other, s.code, s.verifier), 400, 'invalid_grant');
      expectError(await c.exchange(client, s.code, s.verifier, { redirectUri: `${client.redirectUris[0]}/` }), 400, 'invalid_grant');
    });

    it('a reused code is invalid_grant and revokes the tokens issued from it', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const s = await c.signIn(client);
      const t = ok(await c.exchange(client, s.code, s.verifier));
      expect(await c.active(t.access_token)).toBe(true);
      expectError(await c.exchange(client, s.code, s.verifier), 400, 'invalid_grant');
      expect(await c.active(t.access_token)).toBe(false);
      expect(await c.active(t.refresh_token!)).toBe(false);
      expectError(await c.refresh(client, t.refresh_token!), 400, 'invalid_grant');
      expect((await c.userinfo(t.access_token)).status).toBe(401);
    });

    for (const [name, policy] of all) {
      const methods: AuthMethod[] = policy.confidential ? ['client_secret_basic', 'client_secret_post'] : ['none'];
      it(`${name}: authenticates with ${methods.join(' and ')}`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        for (const auth of methods) expect(ok(await grant(c, client, auth)).access_token).toBeTruthy();
      });
    }

    for (const [name] of confidential) {
      it(`${name}: no secret, a wrong secret or a secret in both places is refused`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        expectError(await grant(c, client, 'none'), 401, 'invalid_client');
        const viaBasic = await c.token(client, { grant_type: 'client_credentials' }, { secret: 'wrong' });
        expectError(viaBasic, 401, 'invalid_client');
        expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /i);
        expectError(await c.token(client, { grant_type: 'client_credentials' }, { auth: 'client_secret_post', secret: 'wrong' }), 401, 'invalid_client');
        const both = await c.form('/token', { grant_type: 'client_credentials', client_secret: client.secret! }, { authorization: basic(client.id, client.secret!) });
        expectError(both, 400, 'invalid_request');
        if (client.grantTypes.includes('refresh_token')) {
          // RFC 6749 §6: a confidential client authenticates for the refresh grant too.
          const rt = (await c.tokens(client)).refresh_token!;
          expectError(await c.refresh(client, rt, { auth: 'none' }), 401, 'invalid_client');
          expectError(await c.refresh(client, rt, { secret: 'wrong' }), 401, 'invalid_client');
          ok(await c.refresh(client, rt, { auth: 'client_secret_post' }));
        }
      });
    }

    it('an unknown client, or a public client presenting a secret, is 401 invalid_client', async () => {
      const c = await start(profile);
      const ghost: MockClient = { ...c.client(refreshName), id: 'no-such-client', secret: 'x', confidential: true };
      const r = await c.token(ghost, { grant_type: 'client_credentials' });
      expectError(r, 401, 'invalid_client');
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /i);
      expectError(await c.token(ghost, { grant_type: 'client_credentials' }, { auth: 'none' }), 401, 'invalid_client');
      const pub = c.idp.clients.find((x) => !x.confidential);
      if (pub) expectError(await c.refresh(pub, 'x', { auth: 'client_secret_post', secret: 'guess' }), 401, 'invalid_client');
    });

    it('unsupported grant types are unsupported_grant_type', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      for (const g of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange']) {
        expectError(await c.token(client, { grant_type: g }), 400, 'unsupported_grant_type');
      }
    });

    for (const [name, policy] of all) {
      const denied = GRANTS.filter((g) => !policy.grantTypes.includes(g));
      if (denied.length === 0) continue;
      it(`${name}: ${denied.join(', ')} → unauthorized_client`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const extra = { authorization_code: { code: 'x', redirect_uri: client.redirectUris[0]! }, refresh_token: { refresh_token: 'x' }, client_credentials: {} };
        for (const g of denied) expectError(await c.token(client, { grant_type: g, ...extra[g] }), 400, 'unauthorized_client');
      });
    }

    it('sends Cache-Control: no-store and Pragma: no-cache on success and on error', async () => {
      const c = await start(profile);
      const client = c.client(refreshName);
      const t = await c.tokens(client);
      for (const r of [await c.refresh(client, t.refresh_token!), await c.refresh(client, 'garbage'), await c.token(client, {})]) {
        expect(r.headers.get('cache-control')).toMatch(/no-store/);
        expect(r.headers.get('pragma')).toBe('no-cache');
      }
    });
  });
}

// ---------------------------------------------------------------- offline_access

function offlineAccess(start: Start, profile: Profile): void {
  const noRefreshCode = entries(profile).filter(([, p]) => !p.refresh && p.grantTypes.includes('authorization_code'));
  const clientCredentials = entries(profile).filter(([, p]) => p.grantTypes.includes('client_credentials'));
  describe('offline_access', () => {
    for (const [name] of refreshing(profile)) {
      it(`${name}: a refresh token only with ${profile.offlineAccessScope}`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const without = await c.tokens(client, { scope: `openid ${profile.scopes[0]}` });
        expect(without.refresh_token).toBeUndefined();
        const withIt = await c.tokens(client, { scope: offline(profile) });
        expect(withIt.refresh_token).toEqual(expect.any(String));
        expect(scopes(withIt.scope)).toContain(profile.offlineAccessScope);
      });
    }
    for (const [name] of noRefreshCode) {
      it(`${name}: never a refresh token, even with ${profile.offlineAccessScope}`, async () => {
        const c = await start(profile);
        const t = await c.tokens(c.client(name), { scope: offline(profile) });
        expect(t.access_token).toBeTruthy();
        expect(t.refresh_token).toBeUndefined();
      });
    }
    for (const [name] of clientCredentials) {
      it(`${name}: client_credentials never yields a refresh token, even with ${profile.offlineAccessScope}`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        for (const scope of [profile.offlineAccessScope, `${offline(profile)} ${profile.scopes[0]}`]) {
          const t = ok(await c.token(client, { grant_type: 'client_credentials', scope }));
          expect(t.access_token).toBeTruthy();
          expect(t.refresh_token).toBeUndefined();
          expect(scopes(t.scope)).not.toContain(profile.offlineAccessScope);
        }
      });
    }
  });
}

// ---------------------------------------------------------------- rotation

function rotation(start: Start, profile: Profile): void {
  const revokes = profile.reuseOfRotatedToken === 'revoke-family';
  describe(`rotation (${profile.name})`, () => {
    for (const [name, policy] of refreshing(profile)) {
      if (policy.rotation) {
        it(`${name}: each refresh returns a new, distinct refresh token; the presented one then fails`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const seen = [(await c.tokens(client)).refresh_token!];
          for (let i = 0; i < 3; i++) {
            const next = ok(await c.refresh(client, seen.at(-1)!)).refresh_token!;
            expect(next).toEqual(expect.any(String));
            expect(seen).not.toContain(next);
            seen.push(next);
          }
          expect(await c.refreshActive(seen[0]!)).toBe(false);
          expect(await c.refreshActive(seen.at(-1)!)).toBe(true);
        });

        it(`${name}: reusing a rotated-out token is invalid_grant and ${revokes ? 'revokes the family (the newest fails too)' : 'leaves the newest working'}`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t = await c.tokens(client);
          const r1 = ok(await c.refresh(client, t.refresh_token!));
          const r2 = ok(await c.refresh(client, r1.refresh_token!));
          // A second later: not a retry in the second of the rotation (concurrentRefresh "same-successor" repeats those).
          await c.idp.control.advance(1);
          expectRefused(await c.refresh(client, r1.refresh_token!), profile);
          expect(await c.refreshActive(r2.refresh_token!)).toBe(!revokes);
          expect(await c.active(r2.access_token)).toBe(!revokes);
          const newest = await c.refresh(client, r2.refresh_token!);
          if (revokes) expectRefused(newest, profile);
          else expect(ok(newest).refresh_token).toBeTruthy();
        });

        if (v2(profile).concurrent === 'one-winner') {
          it(`${name}: of 8 concurrent refreshes of one token exactly one succeeds`, async () => {
            const c = await start(profile);
            const client = c.client(name);
            const t = await c.tokens(client);
            const rs = await Promise.all(Array.from({ length: 8 }, () => c.refresh(client, t.refresh_token!)));
            expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
            for (const r of rs.filter((x) => x.status !== 200)) expectRefused(r, profile);
          });
        } else {
          it(`${name}: 8 concurrent refreshes of one token all succeed with the same new refresh token, which then works (same-successor)`, async () => {
            const c = await start(profile);
            const client = c.client(name);
            const t = await c.tokens(client);
            const rs = await Promise.all(Array.from({ length: 8 }, () => c.refresh(client, t.refresh_token!)));
            expect(rs.map((r) => r.status)).toEqual(Array(8).fill(200));
            const successors = new Set(rs.map((r) => r.body.refresh_token));
            expect(successors.size).toBe(1);
            const [successor] = successors;
            expect(successor).toEqual(expect.any(String));
            expect(successor).not.toBe(t.refresh_token);
            // Each response has its own access token; the one refresh token is the family's only live one.
            expect(new Set(rs.map((r) => r.body.access_token)).size).toBe(8);
            expect(await c.refreshActive(t.refresh_token!)).toBe(false);
            expect(await c.refreshActive(successor)).toBe(true);
            const next = ok(await c.refresh(client, successor)).refresh_token!;
            expect(next).not.toBe(successor);
            // Once the successor was used, the first token is no longer a repeat but a reuse.
            expectRefused(await c.refresh(client, t.refresh_token!), profile);
            expect(await c.refreshActive(next)).toBe(!revokes);
          });
        }
      } else {
        it(`${name}: no refresh_token in the refresh response; the same token keeps working`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t = await c.tokens(client);
          for (let i = 0; i < 3; i++) {
            await c.idp.control.advance(60);
            const r = ok(await c.refresh(client, t.refresh_token!));
            expect(r.access_token).toBeTruthy();
            expect(r).not.toHaveProperty('refresh_token');
          }
          const rs = await Promise.all(Array.from({ length: 8 }, () => c.refresh(client, t.refresh_token!)));
          expect(rs.map((r) => r.status)).toEqual(Array(8).fill(200));
        });
      }
    }
  });
}

// ---------------------------------------------------------------- grace window (variant)

function graceWindow(start: Start, profile: Profile): void {
  const rotating = refreshing(profile).find(([, p]) => p.rotation);
  if (!rotating) return;
  const [name] = rotating;
  const grace = profile.graceWindowSeconds;
  const revokes = profile.reuseOfRotatedToken === 'revoke-family';
  describe(`grace window ${grace}s (${profile.name}, ${name})`, () => {
    it(`the previous token works once within ${grace}s of its rotation, and the token it gets works`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t0 = (await c.tokens(client)).refresh_token!;
      ok(await c.refresh(client, t0));
      await c.idp.control.advance(grace);
      const t2 = ok(await c.refresh(client, t0)).refresh_token!;
      expect(t2).toBeTruthy();
      const t3 = ok(await c.refresh(client, t2)).refresh_token!;
      expectRefused(await c.refresh(client, t0), profile);
      expect(await c.refreshActive(t3)).toBe(!revokes);
    });

    it('a token superseded by a grace retry was never received: presenting it is reuse (no swapping between two holders)', async () => {
      // behaviour.ts 'reuse': grace only for a token that was itself used and whose successor was never presented.
      const c = await start(profile);
      const client = c.client(name);
      const t0 = (await c.tokens(client)).refresh_token!;
      const t1 = ok(await c.refresh(client, t0)).refresh_token!;
      const t2 = ok(await c.refresh(client, t0)).refresh_token!;
      expect(await c.refreshActive(t1)).toBe(false);
      expectRefused(await c.refresh(client, t1), profile);
      expect(await c.refreshActive(t2)).toBe(!revokes);
    });

    const retries = v2(profile).graceRetries;
    it(`within the window, the previous token may be retried ${retries === 1 ? 'only once' : `${retries} times`}, each retry a new token`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t0 = (await c.tokens(client)).refresh_token!;
      const got = [ok(await c.refresh(client, t0)).refresh_token!];
      for (let i = 0; i < retries; i++) {
        await c.idp.control.advance(1);
        got.push(ok(await c.refresh(client, t0)).refresh_token!);
      }
      expect(new Set(got).size).toBe(retries + 1);
      // The control view counts them on the presented token.
      const [family] = (await c.idp.control.families({ username: c.user.username }));
      expect(family!.tokens[0]).toMatchObject({ generation: 0, state: 'rotated', ...(retries && { graceUses: retries }) });
      // Only the newest is live: each retry retired the token the one before it got.
      for (const rt of got.slice(0, -1)) expect(await c.refreshActive(rt)).toBe(false);
      expectRefused(await c.refresh(client, t0), profile);
      expect(await c.refreshActive(got.at(-1)!)).toBe(!revokes);
    });

    it('a token two generations old is reuse, even within the window', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t0 = (await c.tokens(client)).refresh_token!;
      const t1 = ok(await c.refresh(client, t0)).refresh_token!;
      const t2 = ok(await c.refresh(client, t1)).refresh_token!;
      expectRefused(await c.refresh(client, t0), profile);
      expect(await c.refreshActive(t2)).toBe(!revokes);
    });

    it(`after ${grace + 1}s the previous token is reuse`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t0 = (await c.tokens(client)).refresh_token!;
      const t1 = ok(await c.refresh(client, t0)).refresh_token!;
      await c.idp.control.advance(grace + 1);
      expectRefused(await c.refresh(client, t0), profile);
      expect(await c.refreshActive(t1)).toBe(!revokes);
    });
  });
}

// ---------------------------------------------------------------- expiry

function expiry(start: Start, profile: Profile): void {
  const sso = profile.ssoSessionLifetimeSeconds;
  describe('expiry', () => {
    for (const [name, policy] of refreshing(profile)) {
      const life = policy.lifetimeSeconds;
      const afterEnd = afterSsoEnd(profile, name);
      /** A refresh at `at` (seconds after login) is answered 200, as the oracle says. */
      const expectRefreshAt = (r: Reply, at: number) => (at >= sso && afterEnd === 'invalid_grant' ? expectRefused(r, profile) : ok(r));

      it(`${name}: access tokens live accessTokenLifetimeSeconds, refresh tokens lifetimeSeconds (expires_in and introspection agree)`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const t0 = (await c.idp.control.now());
        const t = await c.tokens(client);
        expect(t.expires_in).toBe(profile.accessTokenLifetimeSeconds);
        const at = (await c.introspect(t.access_token)).body;
        expect(at).toMatchObject({ active: true, iat: t0, exp: t0 + profile.accessTokenLifetimeSeconds });
        expect((await c.refreshState(t.refresh_token!))).toMatchObject({ active: true, iat: t0, exp: t0 + life });
        await c.idp.control.advance(10);
        const r = ok(await c.refresh(client, t.refresh_token!));
        expect(r.expires_in).toBe(profile.accessTokenLifetimeSeconds);
        expect((await c.introspect(r.access_token)).body).toMatchObject({ iat: t0 + 10, exp: t0 + 10 + profile.accessTokenLifetimeSeconds });
        await c.idp.control.advance(profile.accessTokenLifetimeSeconds - 1);
        expect(await c.active(r.access_token)).toBe(true);
        await c.idp.control.advance(1);
        expect(await c.active(r.access_token)).toBe(false);
      });

      it(`${name}: unused for lifetime-1 s it still works; unused for lifetime s it is invalid_grant`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const a = (await c.tokens(client)).refresh_token!;
        await c.idp.control.advance(life - 1);
        expectRefreshAt(await c.refresh(client, a), life - 1);
        const c2 = await start(profile);
        const b = (await c2.tokens(c2.client(name))).refresh_token!;
        await c2.idp.control.advance(life);
        expectRefused(await c2.refresh(c2.client(name), b), profile);
        expect(await c2.refreshActive(b)).toBe(false);
      });

      if (policy.expiry === 'fixed') {
        it(`${name}: fixed expiry — refreshes (early, and at half-life) do not extend it; it dies at first issue + lifetime`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t0 = (await c.idp.control.now());
          let rt = (await c.tokens(client)).refresh_token!;
          for (const at of [1, Math.floor(life / 2), life - 1]) {
            await c.idp.control.advance(t0 + at - (await c.idp.control.now()));
            const r = await c.refresh(client, rt);
            if (at >= sso && (afterEnd === 'invalid_grant' || afterEnd === 'consume')) {
              // After the SSO session the oracle says refused or used up: the expiry is seen by introspection only.
              if (afterEnd === 'invalid_grant') expectRefused(r, profile);
              else expect(ok(r)).not.toHaveProperty('refresh_token');
              expect((await c.refreshState(rt))).toMatchObject(afterEnd === 'invalid_grant' ? { active: true, exp: t0 + life } : { active: false });
              return;
            }
            rt = ok(r).refresh_token ?? rt;
            expect((await c.refreshState(rt)).exp).toBe(t0 + life);
          }
          await c.idp.control.advance(1);
          expectRefused(await c.refresh(client, rt), profile);
        });
      } else {
        // Where the oracle says a refresh after the SSO session gives no new lifetime, only refreshes inside it can slide.
        const max = policy.maxLifetimeSeconds;
        const free = renewsAfterSsoEnd(afterEnd) ? life - 1 : Math.min(life - 1, Math.floor((sso - 1) / 3));
        // With a maximum, three refreshes fit inside it (the last one meets the cap).
        const step = max === undefined ? free : Math.min(free, Math.floor(max / 4));
        const outlives = 3 * step >= life;
        const capped = max === undefined ? '' : `, never past first issue + ${max} s`;
        it(`${name}: sliding expiry — each refresh restarts the lifetime${capped}${outlives ? '; a chain of refreshes outlives the first lifetime' : ''}`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t0 = (await c.idp.control.now());
          let rt = (await c.tokens(client)).refresh_token!;
          for (let i = 0; i < 3; i++) {
            await c.idp.control.advance(step);
            const r = ok(await c.refresh(client, rt));
            if (policy.rotation) expect(r.refresh_token).toBeTruthy();
            rt = r.refresh_token ?? rt;
            const now = (await c.idp.control.now());
            expect(await c.refreshState(rt)).toMatchObject({ active: true, exp: max === undefined || now + life <= t0 + max ? now + life : t0 + max });
          }
          if (outlives) expect((await c.idp.control.now())).toBeGreaterThanOrEqual(t0 + life);
          const { exp } = await c.refreshState(rt);
          await c.idp.control.advance(exp - 1 - (await c.idp.control.now()));
          const last = await c.refresh(client, rt);
          expectRefreshAt(last, (await c.idp.control.now()) - t0);
          if (max !== undefined) {
            // Refreshed a second before the maximum, the token still ends at it.
            rt = last.body.refresh_token ?? rt;
            expect((await c.refreshState(rt)).exp).toBe(t0 + max);
            expect((await c.idp.control.families({ username: c.user.username }))).toEqual([expect.objectContaining({ maxExpiresAt: t0 + max, online: false })]);
            await c.idp.control.advance(1);
            expectRefused(await c.refresh(client, rt), profile);
          }
        });
      }
    }
  });
}

// ---------------------------------------------------------------- SSO

function sso(start: Start, profile: Profile): void {
  const ssoLife = profile.ssoSessionLifetimeSeconds;
  const endings: { name: string; applies(p: RefreshPolicy): boolean; end(c: IdpClient, t: Tokens): Promise<void> }[] = [
    {
      name: 'control.endSsoSession',
      applies: () => true,
      end: async (c) => void expect((await c.idp.control.endSsoSession({ username: c.user.username }))).toBe(1),
    },
    {
      name: 'RP-initiated logout (id_token_hint)',
      applies: () => true,
      end: async (c, t) => void expect((await c.endSession({ id_token_hint: t.id_token! })).status).toBe(200),
    },
    {
      name: 'the SSO session lifetime passing',
      applies: (p) => p.lifetimeSeconds > ssoLife,
      end: async (c) => void (await c.idp.control.advance(ssoLife)),
    },
  ];

  describe(`SSO session (${profile.name}: ${profile.refreshAfterSsoEnd}, presented token ${profile.presentedTokenAfterSsoEnd})`, () => {
    for (const [name, policy] of refreshing(profile)) {
      if (policy.rotation) {
        it(`${name}: while the session is active a refresh returns a new refresh token`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t = await c.tokens(client);
          await c.idp.control.advance(Math.min(ssoLife, policy.lifetimeSeconds) - 1);
          expect(ok(await c.refresh(client, t.refresh_token!)).refresh_token).toBeTruthy();
        });
      }
      const outcome = afterSsoEnd(profile, name);
      for (const ending of endings.filter((e) => e.applies(policy))) {
        const says = {
          rotate: 'still a new refresh token',
          extend: 'no refresh token; the presented one gets a new lifetime',
          keep: 'an access token but no refresh token; the presented one works until its own expiry',
          consume: 'an access token but no refresh token; the presented one is used up',
          invalid_grant: 'invalid_grant',
          'late-rotate': 'no refresh token at once (the token is kept), a new one once 70 % of its lifetime has passed',
        }[outcome];
        it(`${name}: after ${ending.name}: ${says}`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t = await c.tokens(client);
          await ending.end(c, t);
          const rt = t.refresh_token!;
          // The session really is over: prompt=none with its cookie needs a login.
          expectErrorRedirect(await c.authorize(client, { prompt: 'none', loginHint: null, cookie: t.cookie! }), client, 'login_required');
          const r = await c.refresh(client, rt);
          switch (outcome) {
            case 'rotate': {
              const next = ok(r).refresh_token!;
              expect(next).toBeTruthy();
              expect(next).not.toBe(rt);
              ok(await c.refresh(client, next));
              break;
            }
            case 'invalid_grant':
              expectRefused(r, profile);
              break;
            case 'extend':
              expect(ok(r)).not.toHaveProperty('refresh_token');
              expect((await c.refreshState(rt))).toMatchObject({ active: true, exp: (await c.idp.control.now()) + policy.lifetimeSeconds });
              break;
            case 'consume':
              expect(ok(r).access_token).toBeTruthy();
              expect(r.body).not.toHaveProperty('refresh_token');
              expectRefused(await c.refresh(client, rt), profile);
              break;
            case 'late-rotate': {
              expect(ok(r)).not.toHaveProperty('refresh_token');
              const { exp } = (await c.refreshState(rt));
              await c.idp.control.advance(exp - 1 - (await c.idp.control.now()));
              const next = ok(await c.refresh(client, rt)).refresh_token;
              expect(next).toBeTruthy();
              expect(next).not.toBe(rt);
              break;
            }
            case 'keep': {
              expect(ok(r).access_token).toBeTruthy();
              expect(r.body).not.toHaveProperty('refresh_token');
              expect(await c.active(r.body.access_token)).toBe(true);
              const { exp } = (await c.refreshState(rt));
              expect(ok(await c.refresh(client, rt))).not.toHaveProperty('refresh_token');
              await c.idp.control.advance(exp - 1 - (await c.idp.control.now()));
              expect(ok(await c.refresh(client, rt))).not.toHaveProperty('refresh_token');
              await c.idp.control.advance(1);
              expectRefused(await c.refresh(client, rt), profile);
              break;
            }
          }
        });
      }
    }
  });
}

// ---------------------------------------------------------------- schema-v2 fields

/** A refresh after the SSO session ended, as the oracle says. */
function expectAfterSsoEnd(r: Reply, outcome: AfterSsoEnd, profile: Profile): void {
  if (outcome === 'invalid_grant') return expectRefused(r, profile);
  const body = ok(r);
  if (outcome === 'rotate') expect(body.refresh_token).toEqual(expect.any(String));
  else expect(body).not.toHaveProperty('refresh_token');
}

function v2Fields(start: Start, profile: Profile): void {
  const o = v2(profile);
  const refresh = refreshing(profile);
  const [name, policy] = refresh.find(([, p]) => p.rotation) ?? refresh[0]!;
  describe(`v2 fields (${profile.name})`, () => {
    it(`invalid_grant refusals of the refresh grant are ${o.refusalStatus} with an RFC 6749 §5.2 body; other errors keep their status`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const unknown = await c.refresh(client, 'never-issued');
      expectError(unknown, o.refusalStatus, 'invalid_grant');
      expect(unknown.body.error_description).toEqual(expect.any(String));
      expect(unknown.headers.get('content-type')).toMatch(/^application\/json/);
      const t = await c.tokens(client);
      expectError(await c.refresh(client, t.refresh_token!, { scope: `openid ${profile.offlineAccessScope} not-granted` }), 400, 'invalid_scope');
      expectError(await c.token(client, { grant_type: 'refresh_token' }), 400, 'invalid_request');
      // Not the refresh grant: a refused code exchange stays 400.
      expectError(await c.exchange(client, 'no-such-code', undefined), 400, 'invalid_grant');
      await c.idp.control.advance(policy.lifetimeSeconds);
      expectError(await c.refresh(client, t.refresh_token!), o.refusalStatus, 'invalid_grant');
    });

    it(`introspection ${o.introspectsRefreshTokens ? 'describes refresh tokens' : 'answers {active:false} for refresh tokens (access tokens only, RFC 7662 §2.2)'}; access tokens are described`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      expect((await c.introspect(t.access_token)).body).toMatchObject({ active: true, client_id: client.id, token_type: expect.stringMatching(/^bearer$/i) });
      const rt = (await c.introspect(t.refresh_token!)).body;
      if (o.introspectsRefreshTokens) expect(rt).toMatchObject({ active: true, client_id: client.id, exp: expect.any(Number) });
      else expect(rt).toEqual({ active: false });
      // The answer only: the token itself still works.
      const r = ok(await c.refresh(client, t.refresh_token!));
      expect(await c.active(r.access_token)).toBe(true);
    });

    it(`a refresh with openid ${o.idTokenOnRefresh ? 'returns an id_token' : 'returns no id_token'} (the code exchange does)`, async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      await c.verifyIdToken(t.id_token!, client);
      const r = ok(await c.refresh(client, t.refresh_token!));
      if (o.idTokenOnRefresh) await c.verifyIdToken(r.id_token!, client);
      else expect(r).not.toHaveProperty('id_token');
    });

    for (const [pname, p] of refresh) {
      it(`${pname}: refresh_expires_in ${o.refreshExpiresIn ? "is the live refresh token's remaining lifetime" : 'is absent'}`, async () => {
        const c = await start(profile);
        const client = c.client(pname);
        const t0 = (await c.idp.control.now());
        const t = await c.tokens(client);
        await c.idp.control.advance(100);
        const r1 = ok(await c.refresh(client, t.refresh_token!));
        if (!o.refreshExpiresIn) {
          expect(t).not.toHaveProperty('refresh_expires_in');
          expect(r1).not.toHaveProperty('refresh_expires_in');
          return;
        }
        expect(t.refresh_expires_in).toBe(p.lifetimeSeconds);
        // Sliding: a new lifetime (a new token or the same one extended); fixed: what is left of it.
        expect(r1.refresh_expires_in).toBe(p.expiry === 'sliding' ? p.lifetimeSeconds : p.lifetimeSeconds - 100);
        const rt = r1.refresh_token ?? t.refresh_token!;
        expect((await c.refreshState(rt)).exp - (await c.idp.control.now())).toBe(r1.refresh_expires_in);
        if (p.maxLifetimeSeconds !== undefined && renewsAfterSsoEnd(afterSsoEnd(profile, pname))) {
          // Near the maximum: what is left to it, less than a lifetime.
          await c.idp.control.advance(p.lifetimeSeconds - 1);
          const r2 = ok(await c.refresh(client, rt));
          const left = t0 + p.maxLifetimeSeconds - (await c.idp.control.now());
          expect(left).toBeLessThan(p.lifetimeSeconds);
          expect(r2.refresh_expires_in).toBe(left);
        }
        if (o.online !== 'none') {
          const on = await c.tokens(client, { scope: 'openid' });
          expect(on.refresh_expires_in).toBe(o.online.lifetime ?? p.lifetimeSeconds);
        }
      });
    }

    const online = o.online;
    if (online === 'none') {
      it(`a code exchange without ${profile.offlineAccessScope} issues no refresh token`, async () => {
        const c = await start(profile);
        const t = await c.tokens(c.client(name), { scope: 'openid' });
        expect(t.refresh_token).toBeUndefined();
      });
    } else {
      for (const [pname, p] of refresh) {
        const lifetime = online.lifetime ?? p.lifetimeSeconds;
        it(`${pname}: without ${profile.offlineAccessScope} the code exchange issues an online refresh token living ${lifetime} s`, async () => {
          const c = await start(profile);
          const client = c.client(pname);
          const now = (await c.idp.control.now());
          const t = await c.tokens(client, { scope: 'openid' });
          expect(t.refresh_token).toEqual(expect.any(String));
          expect(scopes(t.scope)).toEqual(['openid']);
          expect(await c.refreshState(t.refresh_token!)).toMatchObject({ active: true, exp: now + lifetime });
          expect((await c.idp.control.families({ username: c.user.username }))).toEqual([expect.objectContaining({ online: true, scope: 'openid' })]);
          // Unused for lifetime-1 s it works; unused for lifetime s it is refused.
          const t2 = await c.tokens(client, { scope: 'openid' });
          await c.idp.control.advance(lifetime - 1);
          ok(await c.refresh(client, t.refresh_token!));
          await c.idp.control.advance(1);
          expectRefused(await c.refresh(client, t2.refresh_token!), profile);
        });

        const offlineOutcome = afterSsoEnd(profile, pname);
        it(`${pname}: after logout the online token: ${online.afterSsoEnd}; the offline token of the same session: ${offlineOutcome}`, async () => {
          const c = await start(profile);
          const client = c.client(pname);
          const off = await c.tokens(client);
          // The same SSO session (its cookie, no new login).
          const on = await c.tokens(client, { scope: 'openid', cookie: off.cookie!, loginHint: null });
          expect(
            (await c.idp.control.families({ username: c.user.username }))
              .map((f) => f.online)
              .sort(),
          ).toEqual([false, true]);
          expect((await c.endSession({ id_token_hint: on.id_token! })).status).toBe(200);
          expectAfterSsoEnd(await c.refresh(client, on.refresh_token!), online.afterSsoEnd, profile);
          expectAfterSsoEnd(await c.refresh(client, off.refresh_token!), offlineOutcome, profile);
        });
      }
    }
  });
}

// ---------------------------------------------------------------- client binding and scope

function bindingAndScope(start: Start, profile: Profile): void {
  const refresh = refreshing(profile);
  const [s0, s1] = profile.scopes;
  describe('binding and scope', () => {
    for (const [name] of refresh) {
      const otherName = refresh.find(([n]) => n !== name)?.[0];
      if (otherName) {
        it(`${name}: the refresh token is bound to its client (another client gets invalid_grant; the owner still can refresh)`, async () => {
          const c = await start(profile);
          const client = c.client(name);
          const t = await c.tokens(client);
          expectError(await c.refresh(c.client(otherName), t.refresh_token!), 400, 'invalid_grant');
          ok(await c.refresh(client, t.refresh_token!));
        });
      }

      it(`${name}: a refresh may narrow the scope (and get it back later) but never widen it`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const original = `${offline(profile)} ${s0}`;
        const t = await c.tokens(client, { scope: original });
        expect(scopes(t.scope)).toEqual(scopes(original));
        let rt = t.refresh_token!;
        for (const wider of [`openid ${s1}`, `${original} ${s1}`]) {
          expectError(await c.refresh(client, rt, { scope: wider }), 400, 'invalid_scope');
        }
        const narrow = ok(await c.refresh(client, rt, { scope: 'openid' }));
        expect(scopes(narrow.scope)).toEqual(['openid']);
        expect((await c.introspect(narrow.access_token)).body.scope).toBe('openid');
        rt = narrow.refresh_token ?? rt;
        const full = ok(await c.refresh(client, rt));
        expect(scopes(full.scope)).toEqual(scopes(original));
        expect(scopes((await c.introspect(full.access_token)).body.scope)).toEqual(scopes(original));
      });
    }
  });
}

// ---------------------------------------------------------------- ID token on refresh

function idTokenOnRefresh(start: Start, profile: Profile): void {
  describe('ID token on refresh (OIDC Core §12.2)', () => {
    for (const [name] of refreshing(profile)) {
      it(`${name}: same iss, sub, aud and auth_time; a new iat; no nonce`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const t = await c.tokens(client, { nonce: 'n-12.2' });
        const first = await c.verifyIdToken(t.id_token!, client);
        expect(first.nonce).toBe('n-12.2');
        await c.idp.control.advance(42);
        const r = ok(await c.refresh(client, t.refresh_token!));
        const again = await c.verifyIdToken(r.id_token!, client);
        expect({ iss: again.iss, sub: again.sub, aud: again.aud, auth_time: again.auth_time }).toEqual({
          iss: first.iss,
          sub: first.sub,
          aud: first.aud,
          auth_time: first.auth_time,
        });
        expect(again.iat).toBe(first.iat! + 42);
        expect(again).not.toHaveProperty('nonce');
      });
    }
  });
}

// ---------------------------------------------------------------- revocation

function revocation(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  const otherName = refreshing(profile).find(([n]) => n !== name)![0];
  describe('revocation (RFC 7009)', () => {
    it('revoking a refresh token kills it and every access token of its family', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      const r = ok(await c.refresh(client, t.refresh_token!));
      const rt = r.refresh_token ?? t.refresh_token!;
      const rev = await c.revoke(client, rt);
      expect(rev.status).toBe(200);
      expectError(await c.refresh(client, rt), 400, 'invalid_grant');
      expect(await c.active(t.access_token)).toBe(false);
      expect(await c.active(r.access_token)).toBe(false);
      expect((await c.userinfo(r.access_token)).status).toBe(401);
    });

    it('revoking an access token kills that access token', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      expect((await c.revoke(client, t.access_token)).status).toBe(200);
      expect(await c.active(t.access_token)).toBe(false);
    });

    it('revoking an unknown token is 200', async () => {
      const c = await start(profile);
      expect((await c.revoke(c.client(name), 'never-issued')).status).toBe(200);
    });

    it("another client's token is refused (RFC 7009 §2.1: 400 invalid_grant) and not revoked", async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      const other = c.client(otherName);
      expectError(await c.revoke(other, t.refresh_token!), 400, 'invalid_grant');
      expectError(await c.revoke(other, t.access_token), 400, 'invalid_grant');
      expect(await c.active(t.access_token)).toBe(true);
      ok(await c.refresh(client, t.refresh_token!));
    });

    it('a confidential client must authenticate to revoke', async () => {
      const c = await start(profile);
      const conf = c.introspector;
      expectError(await c.revoke(conf, 'x', { auth: 'none' }), 401, 'invalid_client');
      expectError(await c.revoke(conf, 'x', { secret: 'wrong' }), 401, 'invalid_client');
    });
  });
}

// ---------------------------------------------------------------- introspection

function introspection(start: Start, profile: Profile): void {
  describe('introspection (RFC 7662)', () => {
    for (const [name, policy] of refreshing(profile)) {
      it(`${name}: describes access and refresh tokens; inactive after ${policy.rotation ? 'rotation, ' : ''}revocation and expiry`, async () => {
        const c = await start(profile);
        const client = c.client(name);
        const now = (await c.idp.control.now());
        const t = await c.tokens(client);
        const common = { active: true, iat: now, client_id: client.id, sub: c.user.sub };
        const at = (await c.introspect(t.access_token)).body;
        expect(at).toMatchObject({ ...common, exp: now + profile.accessTokenLifetimeSeconds, token_type: expect.stringMatching(/^bearer$/i) });
        expect(scopes(at.scope)).toEqual(scopes(t.scope));
        const rt = (await c.introspect(t.refresh_token!)).body;
        expect(rt).toMatchObject({ ...common, exp: now + policy.lifetimeSeconds, token_type: expect.any(String) });
        expect(scopes(rt.scope)).toEqual(scopes(t.scope));

        const r = ok(await c.refresh(client, t.refresh_token!));
        const current = r.refresh_token ?? t.refresh_token!;
        if (policy.rotation) expect(await c.active(t.refresh_token!)).toBe(false);
        expect(await c.active(current)).toBe(true);
        await c.idp.control.advance(profile.accessTokenLifetimeSeconds);
        expect(await c.active(r.access_token)).toBe(false);
        expect((await c.introspect(current)).body.exp).toBeGreaterThan((await c.idp.control.now()));
        await c.idp.control.advance((await c.introspect(current)).body.exp - (await c.idp.control.now()));
        expect((await c.introspect(current)).body).toEqual({ active: false });

        const t2 = await c.tokens(client);
        await c.revoke(client, t2.refresh_token!);
        expect((await c.introspect(t2.refresh_token!)).body).toEqual({ active: false });
        expect((await c.introspect(t2.access_token)).body).toEqual({ active: false });
      });
    }

    it('needs an authenticated confidential client (public → 401)', async () => {
      const c = await start(profile);
      const t = await c.tokens(c.client(refreshing(profile)[0]![0]));
      const pub = c.idp.clients.find((x) => !x.confidential)!;
      expectError(await c.introspect(t.access_token, pub), 401, 'invalid_client');
      expectError(await c.introspect(t.access_token, c.introspector, { auth: 'none' }), 401, 'invalid_client');
      expectError(await c.introspect(t.access_token, c.introspector, { secret: 'wrong' }), 401, 'invalid_client');
      expectError(await c.form('/introspect', { token: t.access_token }), 401, 'invalid_client');
      expect((await c.introspect('garbage')).body).toEqual({ active: false });
    });
  });
}

// ---------------------------------------------------------------- userinfo

function userinfo(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  const invalidToken = /^Bearer .*error="invalid_token"/;
  describe('userinfo', () => {
    it('a Bearer access token works; revoked, expired or missing → 401 with WWW-Authenticate Bearer', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client, { scope: `openid ${profile.scopes[0]}` });
      const u = await c.userinfo(t.access_token);
      expect(u.status).toBe(200);
      expect(u.body.sub).toBe(c.user.sub);

      const none = await c.get('/userinfo');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const garbage = await c.userinfo('garbage');
      expectError(garbage, 401, 'invalid_token');
      expect(garbage.headers.get('www-authenticate')).toMatch(invalidToken);

      const t2 = await c.tokens(client, { scope: 'openid' });
      await c.revoke(client, t2.access_token);
      const revoked = await c.userinfo(t2.access_token);
      expectError(revoked, 401, 'invalid_token');
      expect(revoked.headers.get('www-authenticate')).toMatch(invalidToken);

      await c.idp.control.advance(profile.accessTokenLifetimeSeconds);
      const expired = await c.userinfo(t.access_token);
      expectError(expired, 401, 'invalid_token');
      expect(expired.headers.get('www-authenticate')).toMatch(invalidToken);
    });
  });
}

// ---------------------------------------------------------------- end-session

function endSession(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  async function sessionAlive(c: IdpClient, client: MockClient, cookie: string): Promise<boolean> {
    const r = await c.authorize(client, { prompt: 'none', loginHint: null, cookie });
    return r.location?.searchParams.has('code') ?? false;
  }
  describe('end-session (RP-initiated logout)', () => {
    it('with id_token_hint: ends the session and redirects to the registered post_logout_redirect_uri with state', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      expect(await sessionAlive(c, client, t.cookie!)).toBe(true);
      const target = client.postLogoutRedirectUris[0]!;
      const r = await c.endSession({ id_token_hint: t.id_token!, post_logout_redirect_uri: target, state: 'bye' });
      expect(r.status).toBe(302);
      expect(`${r.location!.origin}${r.location!.pathname}`).toBe(target);
      expect(r.location!.searchParams.get('state')).toBe('bye');
      expect(r.headers.getSetCookie().join()).toMatch(/mock_idp_sso=;.*Max-Age=0/);
      expect(await sessionAlive(c, client, t.cookie!)).toBe(false);
    });

    it('an unregistered post_logout_redirect_uri is a 400 JSON error and keeps the session', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      for (const uri of ['https://evil.example/logged-out', `${client.postLogoutRedirectUris[0]}/x`]) {
        const r = await c.endSession({ id_token_hint: t.id_token!, post_logout_redirect_uri: uri });
        expectError(r, 400, 'invalid_request');
        expect(r.location).toBeUndefined();
      }
      expect(await sessionAlive(c, client, t.cookie!)).toBe(true);
    });

    it('without id_token_hint but with the cookie: asks first; submitting the confirmation ends the session', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const b = new Browser(c);
      expect((await b.request(c.authorizeUrl(client, {}, pkce()))).status).toBe(302);
      const cookie = await b.jar.getCookieString(c.url('/'));
      expect(cookie).toMatch(/^mock_idp_sso=/);
      const url = c.url('/end-session');
      // A link that claims confirmation is still asked about (RP-Initiated Logout §2).
      for (const u of [url, `${url}?confirm=yes`]) {
        const page = await b.request(u);
        expect(page.status).toBe(200);
        expect(parseForms(page.text, u)).toHaveLength(1);
        expect(await sessionAlive(c, client, cookie)).toBe(true);
      }
      const asked = `${url}?confirm=yes&state=s1`;
      const [form] = parseForms((await b.request(asked)).text, asked);
      expect(form!.method).toBe('post');
      expect(form!.buttons).toContainEqual({ name: 'confirm', value: 'yes' });
      const done = await b.submit(form!);
      expect(done.status).toBe(200);
      expect(await sessionAlive(c, client, cookie)).toBe(false);
    });
  });
}

// ---------------------------------------------------------------- control API

function controlApi(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  const routes: [string, string, unknown?][] = [
    ['GET', '/clock'],
    ['POST', '/clock/advance', { seconds: 1 }],
    ['POST', '/sso/end', { username: 'x' }],
    ['POST', '/grants/revoke', { username: 'x' }],
    ['GET', '/families?username=x'],
    ['POST', '/reset'],
  ];
  describe('test-control API over the transport', () => {
    it('401 without or with a wrong admin token; 404 when testMode is false', async () => {
      const c = await start(profile, { adminToken: 'the-admin-token' });
      const off = await start(profile, { testMode: false });
      for (const [method, path, body] of routes) {
        for (const token of [null, 'wrong', 'THE-ADMIN-TOKEN']) {
          const r = await c.control(method, path, body, token);
          expectError(r, 401, 'invalid_token');
          expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
        expectError(await off.control(method, path, body, 'the-admin-token'), 404, 'not_found');
      }
      expect((await c.idp.control.now())).toBe((await c.control('GET', '/clock')).body.now);
    });

    it('advances the clock', async () => {
      const c = await start(profile);
      const { now } = (await c.control('GET', '/clock')).body;
      expect((await c.control('POST', '/clock/advance', { seconds: 3600 })).body.now).toBe(now + 3600);
      expect((await c.idp.control.now())).toBe(now + 3600);
      for (const bad of [{ seconds: -1 }, { seconds: '5' }, {}, { seconds: null }]) {
        expectError(await c.control('POST', '/clock/advance', bad), 400, 'invalid_request');
      }
      expect((await c.idp.control.now())).toBe(now + 3600);
    });

    it('ends SSO sessions and withdraws consent (a refresh is then invalid_grant)', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      expect((await c.control('POST', '/sso/end', { username: c.user.username })).body).toEqual({ ended: 1 });
      expectErrorRedirect(await c.authorize(client, { prompt: 'none', loginHint: null, cookie: t.cookie! }), client, 'login_required');
      expect((await c.control('POST', '/grants/revoke', { sub: c.user.sub, clientId: client.id })).body).toEqual({ revoked: 1 });
      expectError(await c.refresh(client, t.refresh_token!), 400, 'invalid_grant');
      expect(await c.active(t.access_token)).toBe(false);
      expectError(await c.control('POST', '/sso/end', { username: 'nobody' }), 400, 'invalid_request');
    });

    it('lists families without token values; reset forgets everything and rewinds the clock', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const start0 = (await c.idp.control.now());
      const t = await c.tokens(client);
      await c.idp.control.advance(5);
      const r = ok(await c.refresh(client, t.refresh_token!));
      const fam = await c.control('GET', `/families?username=${encodeURIComponent(c.user.username)}`);
      expect(fam.status).toBe(200);
      expect(fam.body.families).toHaveLength(1);
      expect(fam.body.families[0]).toMatchObject({ clientId: client.id, policy: name, sub: c.user.sub, online: false, createdAt: start0 });
      expect(fam.body.families[0].tokens).toHaveLength(r.refresh_token ? 2 : 1);
      // The presented token's life cycle: first used at the refresh, rotated then if the policy rotates.
      expect(fam.body.families[0].tokens[0]).toMatchObject({ generation: 0, usedAt: start0 + 5, ...(r.refresh_token && { state: 'rotated', retiredAt: start0 + 5 }) });
      for (const secret of [t.refresh_token!, t.access_token, t.id_token!, r.access_token, r.refresh_token].filter(Boolean)) {
        expect(fam.text).not.toContain(secret);
      }
      expect((await c.control('POST', '/reset')).body).toEqual({ ok: true });
      expect((await c.idp.control.now())).toBe(start0);
      expectError(await c.refresh(client, r.refresh_token ?? t.refresh_token!), 400, 'invalid_grant');
      expect((await c.control('GET', `/families?sub=${c.user.sub}`)).body.families).toEqual([]);
    });

    it('bad control requests are RFC-shaped errors', async () => {
      const c = await start(profile);
      const auth = { authorization: `Bearer ${c.idp.adminToken}` };
      const json = { ...auth, 'content-type': 'application/json' };
      for (const body of ['{"seconds":', '[1]', '"x"', 'null']) {
        expectError(await c.raw('/__control/clock/advance', { method: 'POST', headers: json, body }), 400, 'invalid_request');
      }
      expectError(await c.raw('/__control/clock/advance', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"seconds":1}' }), 400, 'invalid_request');
      expectError(await c.raw('/__control/clock/advance', { method: 'POST', headers: json, body: new Uint8Array([0x7b, 0xff, 0x7d]) }), 400, 'invalid_request');
      expectError(await c.control('GET', '/families'), 400, 'invalid_request');
      expectError(await c.control('GET', '/nope'), 404, 'not_found');
      const wrong = await c.control('DELETE', '/reset');
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
    });
  });
}

// ---------------------------------------------------------------- bad input

function badInput(start: Start, profile: Profile): void {
  const [name, policy] = refreshing(profile)[0]!;
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  describe('bad input: never 5xx, always RFC-shaped JSON', () => {
    it('malformed requests to the token, revocation and introspection endpoints', async () => {
      const c = await start(profile);
      const conf = c.introspector;
      const auth = { authorization: basic(conf.id, conf.secret!) };
      const cases: [label: string, path: string, init: RequestInit, status: number, error: string][] = [];
      for (const path of ['/token', '/revoke', '/introspect']) {
        cases.push(
          ['JSON instead of a form', path, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' }, 400, 'invalid_request'],
          ['no content type', path, { method: 'POST', headers: auth, body: new Uint8Array([0x61, 0x3d, 0x62]) }, 400, 'invalid_request'],
          ['body over 64 KiB', path, { method: 'POST', headers: { ...auth, ...FORM }, body: `token=${'x'.repeat(70_000 - 6)}` }, 400, 'invalid_request'],
          ['malformed percent-encoding', path, { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=client_credentials&token=%ZZ' }, 400, 'invalid_request'],
          ['percent-encoded invalid UTF-8', path, { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=client_credentials&token=%FF%FE' }, 400, 'invalid_request'],
          ['raw invalid UTF-8 bytes', path, { method: 'POST', headers: { ...auth, ...FORM }, body: new Uint8Array([...Buffer.from('grant_type=client_credentials&token='), 0xc3, 0x28, 0xff]) }, 400, 'invalid_request'],
          ['a repeated parameter', path, { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=client_credentials&grant_type=client_credentials&token=a&token=b' }, 400, 'invalid_request'],
          ['unknown client', path, { method: 'POST', headers: { authorization: basic('ghost', 'x'), ...FORM }, body: 'grant_type=client_credentials&token=a' }, 401, 'invalid_client'],
          ['wrong secret', path, { method: 'POST', headers: { authorization: basic(conf.id, 'wrong'), ...FORM }, body: 'grant_type=client_credentials&token=a' }, 401, 'invalid_client'],
          ['a non-Basic Authorization header', path, { method: 'POST', headers: { authorization: 'Bearer abc', ...FORM }, body: 'grant_type=client_credentials&token=a' }, 401, 'invalid_client'],
          ['malformed Basic credentials', path, { method: 'POST', headers: { authorization: 'Basic !!!', ...FORM }, body: 'grant_type=client_credentials&token=a' }, 401, 'invalid_client'],
          ['Basic without a colon', path, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}`, ...FORM }, body: 'token=a&grant_type=client_credentials' }, 401, 'invalid_client'],
        );
      }
      cases.push(
        ['missing grant_type', '/token', { method: 'POST', headers: { ...auth, ...FORM }, body: '' }, 400, 'invalid_request'],
        ['missing token', '/revoke', { method: 'POST', headers: { ...auth, ...FORM }, body: '' }, 400, 'invalid_request'],
        ['missing token', '/introspect', { method: 'POST', headers: { ...auth, ...FORM }, body: '' }, 400, 'invalid_request'],
        ['missing code', '/token', { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=authorization_code' }, 400, 'invalid_request'],
        ['missing refresh_token', '/token', { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=refresh_token' }, 400, 'invalid_request'],
        ['garbage refresh token', '/token', { method: 'POST', headers: { ...auth, ...FORM }, body: 'grant_type=refresh_token&refresh_token=%00%01garbage' }, 400, 'invalid_grant'],
        ['garbage code', '/token', { method: 'POST', headers: { ...auth, ...FORM }, body: `grant_type=authorization_code&code=garbage&redirect_uri=${encodeURIComponent(conf.redirectUris[0]!)}` }, 400, 'invalid_grant'],
        ['missing client authentication', '/token', { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' }, 401, 'invalid_client'],
        ['authorize: malformed query', '/authorize?client_id=%ZZ', {}, 400, 'invalid_request'],
        ['authorize: repeated client_id', `/authorize?client_id=${conf.id}&client_id=${conf.id}`, {}, 400, 'invalid_request'],
        ['authorize: missing client_id', '/authorize?response_type=code', {}, 400, 'invalid_request'],
        ['authorize: unknown client_id', '/authorize?response_type=code&client_id=ghost&redirect_uri=https%3A%2F%2Fx.example%2F', {}, 400, 'invalid_request'],
        ['login: no transaction', '/login', { method: 'POST', headers: FORM, body: 'username=a&password=b' }, 400, 'invalid_request'],
        ['login: unknown transaction', '/login', { method: 'POST', headers: FORM, body: 'tx=nope&username=a&password=b' }, 400, 'invalid_request'],
        ['end-session: garbage id_token_hint', '/end-session?id_token_hint=not.a.jwt', {}, 400, 'invalid_request'],
        ['end-session: post_logout_redirect_uri without client', `/end-session?post_logout_redirect_uri=${encodeURIComponent(conf.postLogoutRedirectUris[0]!)}`, {}, 400, 'invalid_request'],
        ['unknown path', '/nope', {}, 404, 'not_found'],
        ['unknown path below an endpoint', '/token/extra', { method: 'POST' }, 404, 'not_found'],
        ['unknown well-known path', '/.well-known/nope', {}, 404, 'not_found'],
      );
      for (const [label, path, init, status, error] of cases) {
        const r = await c.raw(path, init);
        expect({ label, path, status: r.status, error: r.body?.error }).toEqual({ label, path, status, error });
      }
    });

    it('wrong methods are 405 with Allow', async () => {
      const c = await start(profile);
      const cases: [method: string, path: string, allow: string][] = [
        ['GET', '/token', 'POST'],
        ['PUT', '/token', 'POST'],
        ['DELETE', '/revoke', 'POST'],
        ['GET', '/introspect', 'POST'],
        ['GET', '/login', 'POST'],
        ['POST', '/jwks', 'GET, HEAD'],
        ['PUT', '/.well-known/openid-configuration', 'GET, HEAD'],
        ['DELETE', '/.well-known/oauth-authorization-server', 'GET, HEAD'],
        ['DELETE', '/userinfo', 'GET, POST'],
        ['PUT', '/authorize', 'GET, POST'],
        ['PATCH', '/end-session', 'GET, POST'],
      ];
      for (const [method, path, allow] of cases) {
        const r = await c.raw(path, { method });
        expect({ method, path, status: r.status, allow: r.headers.get('allow'), error: typeof r.body?.error }).toEqual({ method, path, status: 405, allow, error: 'string' });
      }
    });

    it('an expired refresh token is invalid_grant', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const t = await c.tokens(client);
      await c.idp.control.advance(policy.lifetimeSeconds + 1);
      expectError(await c.refresh(client, t.refresh_token!), 400, 'invalid_grant');
    });
  });
}

// ---------------------------------------------------------------- hardening

/** Introspection answers only for the caller's own tokens, or for a declared resource server (RFC 7662 §4). */
function introspectionScope(start: Start, profile: Profile): void {
  const [name] = refreshing(profile).find(([, p]) => !p.confidential) ?? refreshing(profile)[0]!;
  describe(`introspection by another client (${profile.name})`, () => {
    it('a confidential client sees its own tokens; another client\'s only when declared a resource server', async () => {
      const plain = fixtureClients(profile).map((c) => ({ ...c, resourceServer: false }));
      const c = await start(profile, { clients: plain });
      const owner = c.client(name);
      const t = await c.tokens(owner);
      const caller = c.idp.clients.find((x) => x.confidential && x.id !== owner.id)!;
      for (const token of [t.access_token, t.refresh_token!]) expect((await c.introspect(token, caller)).body).toEqual({ active: false });
      const mine = c.idp.clients.find((x) => x.confidential && x.grantTypes.includes('authorization_code'))!;
      const own = await c.tokens(mine);
      expect((await c.introspect(own.refresh_token!, mine)).body).toMatchObject({ active: true, client_id: mine.id });

      const declared = fixtureClients(profile).map((x) => ({ ...x, resourceServer: x.id === caller.id }));
      const rs = await start(profile, { clients: declared });
      const t2 = await rs.tokens(rs.client(name));
      for (const token of [t2.access_token, t2.refresh_token!]) {
        expect((await rs.introspect(token, rs.client(caller.policy))).body).toMatchObject({ active: true, client_id: rs.client(name).id });
      }
    });
  });
}

function hardening(start: Start, profile: Profile): void {
  const [name] = refreshing(profile)[0]!;
  const FRAMING = { 'x-frame-options': 'DENY', csp: "frame-ancestors 'none'" };
  const framing = (r: Reply) => ({ 'x-frame-options': r.headers.get('x-frame-options'), csp: r.headers.get('content-security-policy') });

  describe('hardening', () => {
    it('login CSRF: a pending login completes only in the browser that started it, and never from a cross-site post', async () => {
      const c = await start(profile, { testMode: false });
      const client = c.client(name);
      const attacker = new Browser(c);
      const url = c.authorizeUrl(client, { loginHint: null }, pkce());
      const page = await attacker.request(url);
      const [form] = parseForms(page.text, url);
      const tx = form!.inputs.find((i) => i.name === 'tx')!.value;
      const creds = { tx, username: c.user.username, password: c.user.password };
      const refused = async (r: Reply) => {
        expect(r.status, r.text).toBeGreaterThanOrEqual(400);
        expect(r.location).toBeUndefined();
        expect(r.headers.getSetCookie().some((x) => x.startsWith('mock_idp_sso='))).toBe(false);
      };
      // The victim's browser: no cookie of the pending login, a foreign Origin.
      await refused(await c.form('/login', creds, { origin: 'https://evil.example' }));
      await refused(await c.form('/login', creds));
      await refused(await new Browser(c).request(c.url('/login'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(creds).toString() }));
      // Even with the right cookie, a cross-site post is refused.
      const post = (headers: Record<string, string>) =>
        attacker.request(c.url('/login'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(creds).toString() });
      await refused(await post({ origin: 'https://evil.example' }));
      await refused(await post({ origin: 'null' }));
      await refused(await post({ 'sec-fetch-site': 'cross-site' }));
      // The browser that started it, from the page's own origin, signs in.
      const done = await post({ origin: new URL(c.idp.issuer).origin, 'sec-fetch-site': 'same-origin' });
      expect(done.status, done.text).toBe(302);
      expect(done.location!.searchParams.get('code')).toBeTruthy();
    });

    it('logout with an id_token_hint of another session asks first and keeps the current session until confirmed', async () => {
      const c = await start(profile);
      const client = c.client(name);
      const victim = new Browser(c);
      expect((await victim.request(c.authorizeUrl(client, {}, pkce()))).status).toBe(302);
      const cookie = await victim.jar.getCookieString(c.url('/'));
      const other = await c.tokens(client); // another session (its own cookie)
      const alive = async (ck: string) => (await c.authorize(client, { prompt: 'none', loginHint: null, cookie: ck })).location?.searchParams.has('code') ?? false;
      const url = c.url(`/end-session?${new URLSearchParams({ id_token_hint: other.id_token!, post_logout_redirect_uri: client.postLogoutRedirectUris[0]! })}`);
      const page = await victim.request(url);
      expect(page.status).toBe(200);
      expect(page.headers.getSetCookie()).toEqual([]);
      expect(await alive(cookie)).toBe(true);
      expect(await victim.jar.getCookieString(c.url('/'))).toBe(cookie);
      const [form] = parseForms(page.text, url);
      expect(form!.buttons).toContainEqual({ name: 'confirm', value: 'yes' });
      const done = await victim.submit(form!);
      expect(done.status).toBe(302);
      expect(await alive(cookie)).toBe(false);
      // The hint of the current session still signs out without asking.
      const t = await c.tokens(client);
      const direct = await c.endSession({ id_token_hint: t.id_token! }, t.cookie);
      expect(direct.status).toBe(200);
      expect(direct.headers.getSetCookie().join()).toMatch(/mock_idp_sso=;/);
      expect(await alive(t.cookie!)).toBe(false);
    });

    it('control inputs are bounded: a huge or non-finite advance is refused and the clock stays put', async () => {
      const c = await start(profile);
      const now = (await c.idp.control.now());
      for (const seconds of [1e308, MAX_ADVANCE_SECONDS + 1, Number.MAX_SAFE_INTEGER]) {
        expectError(await c.control('POST', '/clock/advance', { seconds }), 400, 'invalid_request');
        await expect(c.idp.control.advance(seconds)).rejects.toThrow(RangeError);
      }
      expectError(await c.control('POST', '/clock/advance', '{"seconds":1e999}'), 400, 'invalid_request');
      expect((await c.control('GET', '/clock')).body.now).toBe(now);
      expect((await c.control('POST', '/clock/advance', { seconds: MAX_ADVANCE_SECONDS })).body.now).toBe(now + MAX_ADVANCE_SECONDS);
      const long = 'x'.repeat(MAX_CONTROL_STRING_CHARS + 1);
      expectError(await c.control('POST', '/sso/end', { username: long }), 400, 'invalid_request');
      expectError(await c.control('POST', '/grants/revoke', { username: c.user.username, clientId: long }), 400, 'invalid_request');
      expectError(await c.control('GET', `/families?sub=${long}`), 400, 'invalid_request');
      for (let i = 0; i < 10; i++) await c.control('POST', '/clock/advance', { seconds: MAX_ADVANCE_SECONDS });
      expectError(await c.control('POST', '/clock/advance', { seconds: MAX_ADVANCE_SECONDS }), 400, 'invalid_request');
      expect(Number.isSafeInteger((await c.control('GET', '/clock')).body.now)).toBe(true);
    });

    it('pending logins are bounded in size and count; the oldest is dropped first', async () => {
      const c = await start(profile, { testMode: false });
      const client = c.client(name);
      const big = await c.authorize(client, { loginHint: null, state: 'x'.repeat(12_000) });
      expectError(big, 400, 'invalid_request');
      expectError(await c.authorize(client, { loginHint: null, state: 'x'.repeat(MAX_AUTHORIZE_PARAM_CHARS + 1) }), 400, 'invalid_request');
      expect((await c.authorize(client, { loginHint: null, state: 'x'.repeat(MAX_AUTHORIZE_PARAM_CHARS) })).status).toBe(200);
      const b = new Browser(c);
      const forms = [];
      for (let i = 0; i <= MAX_PENDING_LOGINS; i++) {
        const url = c.authorizeUrl(client, { loginHint: null, state: `s${i}` }, pkce());
        forms.push(parseForms((await b.request(url)).text, url)[0]!);
      }
      const user = { username: c.user.username, password: c.user.password };
      expectError(await b.submit(forms[0]!, user), 400, 'invalid_request');
      const last = await b.submit(forms[MAX_PENDING_LOGINS]!, user);
      expect(last.status).toBe(302);
      expect(last.location!.searchParams.get('state')).toBe(`s${MAX_PENDING_LOGINS}`);
    });

    it('login and logout pages cannot be framed', async () => {
      const c = await start(profile, { testMode: false });
      const client = c.client(name);
      const b = new Browser(c);
      const url = c.authorizeUrl(client, { loginHint: null }, pkce());
      const page = await b.request(url);
      expect(framing(page)).toEqual(FRAMING);
      const [form] = parseForms(page.text, url);
      const wrong = await b.submit(form!, { username: c.user.username, password: 'wrong' });
      expect(wrong.status).toBe(200);
      expect(framing(wrong)).toEqual(FRAMING);
      const [again] = parseForms(wrong.text, form!.action);
      expect((await b.submit(again!, { username: c.user.username, password: c.user.password })).status).toBe(302);
      const confirm = await b.request(c.url('/end-session'));
      expect(parseForms(confirm.text, c.url('/end-session'))).toHaveLength(1);
      expect(framing(confirm)).toEqual(FRAMING);
      const [yes] = parseForms(confirm.text, c.url('/end-session'));
      const out = await b.submit(yes!);
      expect(out.status).toBe(200);
      expect(framing(out)).toEqual(FRAMING);
    });
  });
}
