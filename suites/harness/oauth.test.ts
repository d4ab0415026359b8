import { http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoints } from './discovery.ts';
import { SetupError } from './errors.ts';
import { createHttp, type HttpResult } from './http.ts';
import {
  basicAuthorization,
  buildAuthorizationUrl,
  clientCredentials,
  codeChallengeS256,
  exchangeCode,
  generateCodeVerifier,
  generatePkce,
  introspect,
  isValidCodeVerifier,
  parseTokenResponse,
  refresh,
  revoke,
  tokenRequest,
  userinfo,
  type OAuthClient,
} from './oauth.ts';
import { Recorder } from './record.ts';

const IDP = 'https://as.test';
const endpoints: Endpoints = {
  issuer: IDP,
  authorization: `${IDP}/authorize`,
  token: `${IDP}/token`,
  jwks: `${IDP}/jwks`,
  revocation: `${IDP}/revoke`,
  introspection: `${IDP}/introspect`,
  userinfo: `${IDP}/userinfo`,
};

/** Awkward on purpose: characters that RFC 6749 §2.3.1 form-encoding changes. */
const CONFIDENTIAL: OAuthClient = { id: 'my client:1', secret: 'p@ss w:rd+/é%', auth: 'client_secret_basic', redirectUri: 'https://app.test/cb' };

/** Who authenticated how, as the token endpoint saw it. */
type Seen = { via: 'basic' | 'post' | 'none' | 'omitted'; clientId?: string; params: Record<string, string> };

/** Decodes Basic per RFC 6749 §2.3.1: base64, split at the first ':', then form-decode each half. */
function decodeBasic(header: string): { id: string; secret: string } {
  const raw = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
  const at = raw.indexOf(':');
  const dec = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s; // not form-encoded: will not match
    }
  };
  return { id: dec(raw.slice(0, at)), secret: dec(raw.slice(at + 1)) };
}

const server = setupServer(
  mock.post(`${IDP}/token`, async ({ request }) => {
    const params = Object.fromEntries(new URLSearchParams(await request.text()));
    const auth = request.headers.get('authorization');
    let seen: Seen;
    if (auth) {
      const { id, secret } = decodeBasic(auth);
      if (id !== CONFIDENTIAL.id || secret !== CONFIDENTIAL.secret || params.client_secret) {
        return HttpResponse.json({ error: 'invalid_client', error_description: 'bad basic credentials' }, { status: 401 });
      }
      seen = { via: 'basic', clientId: id, params };
    } else if (params.client_secret !== undefined) {
      if (params.client_id !== CONFIDENTIAL.id || params.client_secret !== CONFIDENTIAL.secret) {
        return HttpResponse.json({ error: 'invalid_client' }, { status: 401 });
      }
      seen = { via: 'post', clientId: params.client_id, params };
    } else if (params.client_id !== undefined) {
      seen = { via: 'none', clientId: params.client_id, params };
    } else {
      seen = { via: 'omitted', params };
    }
    return HttpResponse.json({ access_token: 'at-0123456789', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-0123456789', seen });
  }),
  mock.post(`${IDP}/revoke`, async ({ request }) =>
    HttpResponse.json({ params: Object.fromEntries(new URLSearchParams(await request.text())), auth: request.headers.get('authorization') }),
  ),
  mock.post(`${IDP}/introspect`, async ({ request }) => HttpResponse.json({ active: true, params: Object.fromEntries(new URLSearchParams(await request.text())) })),
  mock.get(`${IDP}/userinfo`, ({ request }) => HttpResponse.json({ sub: 'alice', auth: request.headers.get('authorization') })),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const http = createHttp({ requestTimeoutMs: 2000 });
const seenOf = (r: HttpResult): Seen => (r.json as { seen: Seen }).seen;

describe('PKCE', () => {
  it('computes the RFC 7636 Appendix B challenge', () => {
    expect(codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('generates valid, distinct verifiers of 43+ characters', () => {
    const a = generateCodeVerifier();
    expect(a).toHaveLength(43);
    expect(isValidCodeVerifier(a)).toBe(true);
    expect(generateCodeVerifier(96)).toHaveLength(128);
    expect(generateCodeVerifier()).not.toBe(a);
    expect(() => generateCodeVerifier(16)).toThrow(TypeError);
    const p = generatePkce();
    expect(p.challenge).toBe(codeChallengeS256(p.verifier));
    expect(p.method).toBe('S256');
    expect(isValidCodeVerifier('short')).toBe(false);
  });
});

describe('buildAuthorizationUrl', () => {
  it('adds the code-flow parameters, keeps the endpoint query and leaves out unset ones', () => {
    const url = new URL(
      buildAuthorizationUrl({
        endpoint: `${IDP}/authorize?tenant=t1`,
        client: { id: 'app', redirectUri: 'no.example.mobile:/cb' },
        scope: 'openid offline_access',
        state: 's',
        nonce: 'n',
        codeChallenge: 'c',
        loginHint: 'alice',
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 't1',
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'no.example.mobile:/cb',
      scope: 'openid offline_access',
      state: 's',
      nonce: 'n',
      code_challenge: 'c',
      code_challenge_method: 'S256',
      login_hint: 'alice',
    });
  });
});

describe('client authentication at the token endpoint', () => {
  it('client_secret_basic form-encodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
    expect(basicAuthorization('my client:1', 'p@ss w:rd+/é%')).toBe(
      `Basic ${Buffer.from('my+client%3A1:p%40ss+w%3Ard%2B%2F%C3%A9%25').toString('base64')}`,
    );
    const r = await tokenRequest(http, endpoints, CONFIDENTIAL, { grant_type: 'client_credentials' });
    expect(r.response.status).toBe(200);
    expect(seenOf(r)).toEqual({ via: 'basic', clientId: CONFIDENTIAL.id, params: { grant_type: 'client_credentials' } });
  });

  it('client_secret_post sends client_id and client_secret in the body, no Authorization', async () => {
    const r = await tokenRequest(http, endpoints, { ...CONFIDENTIAL, auth: 'client_secret_post' }, { grant_type: 'client_credentials' });
    expect(seenOf(r).via).toBe('post');
    expect(r.exchange.requestHeaders.some(([n]) => n === 'authorization')).toBe(false);
  });

  it('none sends only client_id; omit sends nothing', async () => {
    const pub: OAuthClient = { id: 'mobile', auth: 'none' };
    expect(seenOf(await tokenRequest(http, endpoints, pub, { grant_type: 'x' }))).toEqual({ via: 'none', clientId: 'mobile', params: { grant_type: 'x', client_id: 'mobile' } });
    expect(seenOf(await refresh(http, endpoints, CONFIDENTIAL, 'rt', { auth: 'omit' })).via).toBe('omitted');
  });

  it('a wrong encoding would be refused: the server really checks', async () => {
    const wrong = await http.request('POST', endpoints.token, {
      headers: { authorization: `Basic ${Buffer.from(`${CONFIDENTIAL.id}:${CONFIDENTIAL.secret}`).toString('base64')}` },
      form: { grant_type: 'client_credentials' },
    });
    // Unencoded, the ':' in the id splits the pair at the wrong place.
    expect(wrong.response.status).toBe(401);
  });

  it('refuses a secret method for a client without secret (caller error)', () => {
    expect(() => tokenRequest(http, endpoints, { id: 'x', auth: 'client_secret_basic' }, {})).toThrow(TypeError);
  });
});

describe('grant helpers', () => {
  it('exchangeCode sends code, redirect_uri and code_verifier', async () => {
    const r = await exchangeCode(http, endpoints, { ...CONFIDENTIAL, auth: 'client_secret_post' }, { code: 'c1', codeVerifier: 'v'.repeat(43) });
    expect(seenOf(r).params).toMatchObject({ grant_type: 'authorization_code', code: 'c1', redirect_uri: 'https://app.test/cb', code_verifier: 'v'.repeat(43) });
  });

  it('refresh sends the token and an optional narrower scope', async () => {
    const r = await refresh(http, endpoints, CONFIDENTIAL, 'rt-1', { scope: 'openid' });
    expect(seenOf(r).params).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1', scope: 'openid' });
    const noScope = await refresh(http, endpoints, CONFIDENTIAL, 'rt-1');
    expect(seenOf(noScope).params).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1' });
  });

  it('clientCredentials asks for the scope given', async () => {
    expect(seenOf(await clientCredentials(http, endpoints, CONFIDENTIAL, { scope: 'api' })).params).toEqual({ grant_type: 'client_credentials', scope: 'api' });
  });

  it('revoke and introspect post the token with hint and client authentication', async () => {
    const r = await revoke(http, endpoints, CONFIDENTIAL, 'rt-1', 'refresh_token');
    expect(r.json).toEqual({ params: { token: 'rt-1', token_type_hint: 'refresh_token' }, auth: basicAuthorization(CONFIDENTIAL.id, CONFIDENTIAL.secret!) });
    const i = await introspect(http, endpoints, { id: 'pub', auth: 'none' }, 'at-1');
    expect(i.json).toEqual({ active: true, params: { token: 'at-1', client_id: 'pub' } });
  });

  it('userinfo sends the access token as Bearer', async () => {
    expect((await userinfo(http, endpoints, 'at-1')).json).toEqual({ sub: 'alice', auth: 'Bearer at-1' });
  });

  it('an endpoint the IdP does not have is ENDPOINT_MISSING', () => {
    const { revocation: _r, ...without } = endpoints;
    expect(() => revoke(http, without, CONFIDENTIAL, 't')).toThrow(SetupError);
    try {
      revoke(http, without, CONFIDENTIAL, 't');
    } catch (e) {
      expect((e as SetupError).code).toBe('ENDPOINT_MISSING');
      expect((e as SetupError).message).toBe('no revocation_endpoint in the provider metadata and no endpoints.revocation in the target');
    }
  });

  it('records token requests with secrets and tokens redacted', async () => {
    const recorder = new Recorder();
    await refresh(http.withRecorder(recorder), endpoints, { ...CONFIDENTIAL, auth: 'client_secret_post' }, 'rt-secret-value-1');
    const ex = recorder.exchanges[0]!;
    expect(ex.requestBody).not.toContain('rt-secret-value-1');
    expect(ex.requestBody).not.toContain(encodeURIComponent(CONFIDENTIAL.secret!));
    expect(ex.responseBody).not.toContain('rt-0123456789');
  });
});

describe('parseTokenResponse', () => {
  const result = (status: number, body: string, contentType = 'application/json'): HttpResult => {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    return {
      response: { status, statusText: '', headers: new Headers({ 'content-type': contentType }), url: endpoints.token },
      text: body,
      json,
      exchange: { method: 'POST', url: endpoints.token, requestHeaders: [], startedAt: '', durationMs: 0 },
    };
  };

  it('reads a successful response', async () => {
    const r = parseTokenResponse(await refresh(http, endpoints, CONFIDENTIAL, 'rt'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.body.access_token).toBe('at-0123456789');
    expect(r.body.refresh_token).toBe('rt-0123456789');
    expect(r.body.expires_in).toBe(300);
  });

  it('reads an OAuth error response', () => {
    expect(parseTokenResponse(result(400, '{"error":"invalid_grant","error_description":"token expired"}'))).toEqual({
      ok: false,
      status: 400,
      error: 'invalid_grant',
      error_description: 'token expired',
      reason: 'HTTP 400 invalid_grant: token expired',
    });
  });

  it('does not throw on HTML instead of JSON, invalid JSON or an empty body', () => {
    expect(parseTokenResponse(result(200, '<html>Login</html>', 'text/html'))).toEqual({
      ok: false,
      status: 200,
      reason: 'HTTP 200 but the body is not a JSON object (text/html body, not JSON)',
    });
    expect(parseTokenResponse(result(200, '{"access_token": "x",'))).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
    expect(parseTokenResponse(result(502, '', 'text/plain'))).toEqual({ ok: false, status: 502, reason: 'HTTP 502 (empty body)' });
    expect(parseTokenResponse(result(200, '[1]'))).toMatchObject({ ok: false, reason: 'HTTP 200 but the body is not a JSON object' });
  });

  it('names the member that is missing or of the wrong type', () => {
    expect(parseTokenResponse(result(200, '{"token_type":"Bearer"}'))).toMatchObject({ ok: false, reason: 'access_token missing' });
    expect(parseTokenResponse(result(200, '{"access_token":"a"}'))).toMatchObject({ ok: false, reason: 'token_type missing' });
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"Bearer","expires_in":"300"}'))).toMatchObject({
      ok: false,
      reason: 'expires_in is "300" (a string), must be a number of seconds',
    });
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"Bearer","refresh_token":7}'))).toMatchObject({
      ok: false,
      reason: 'refresh_token is a number, must be a non-empty string',
    });
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"Bearer","id_token":""}'))).toMatchObject({
      ok: false,
      reason: 'id_token is an empty string, must be a non-empty string',
    });
  });

  it('compares token_type case-insensitively with the expected one', () => {
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"bearer"}')).ok).toBe(true);
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"mac"}'))).toMatchObject({ ok: false, reason: 'token_type is "mac", expected Bearer' });
    expect(parseTokenResponse(result(200, '{"access_token":"a","token_type":"DPoP"}'), { tokenType: 'DPoP' }).ok).toBe(true);
  });
});
