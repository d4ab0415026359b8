import { delay, http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discover, discoveryUrl, resolveEndpoints } from './discovery.ts';
import { SetupError } from './errors.ts';
import { createHttp } from './http.ts';

const ISSUER = 'https://op.test/realm';
const metadata = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/auth`,
  token_endpoint: `${ISSUER}/token`,
  jwks_uri: `${ISSUER}/jwks`,
  end_session_endpoint: `${ISSUER}/logout`,
  revocation_endpoint: `${ISSUER}/revoke`,
};

const server = setupServer(mock.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.json(metadata)));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const http = createHttp({ requestTimeoutMs: 300 });

async function setupError(p: Promise<unknown>): Promise<SetupError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SetupError);
    expect((e as Error).message).not.toContain('\n');
    return e as SetupError;
  }
  throw new Error('expected a SetupError');
}

describe('discover', () => {
  it('reads the endpoints and applies overrides', async () => {
    const d = await discover(http, { issuer: ISSUER, endpoints: { token: 'https://proxy.test/token', userinfo: 'https://op.test/me' } });
    expect(d.endpoints).toEqual({
      issuer: ISSUER,
      authorization: `${ISSUER}/auth`,
      token: 'https://proxy.test/token',
      jwks: `${ISSUER}/jwks`,
      endSession: `${ISSUER}/logout`,
      revocation: `${ISSUER}/revoke`,
      userinfo: 'https://op.test/me',
    });
    expect(d.metadata.issuer).toBe(ISSUER);
  });

  it('reads the metadata from the discoveryUrl the target gives, still checking its issuer (OIDC Discovery §4.3)', async () => {
    const elsewhere = `${ISSUER}/.well-known/openid-configuration/`;
    server.use(
      // Only with the trailing slash (msw matches both spellings to one handler).
      mock.get(`${ISSUER}/.well-known/openid-configuration`, ({ request }) =>
        request.url === elsewhere ? HttpResponse.json(metadata) : new HttpResponse('not here', { status: 404 }),
      ),
      mock.get('https://meta.test/other', () => HttpResponse.json({ ...metadata, issuer: 'https://other.test' })),
    );
    const d = await discover(http, { issuer: ISSUER, discoveryUrl: elsewhere });
    expect(d.endpoints.token).toBe(`${ISSUER}/token`);
    expect(d.result.response.url).toBe(elsewhere);
    const mismatch = await setupError(discover(http, { issuer: ISSUER, discoveryUrl: 'https://meta.test/other' }));
    expect(mismatch.message).toBe(`provider metadata "issuer" "https://other.test" does not match the configured issuer "${ISSUER}"`);
    // Without it, the default URL's 404 says where to look.
    expect((await setupError(discover(http, { issuer: ISSUER }))).message).toBe(
      `GET ${ISSUER}/.well-known/openid-configuration returned HTTP 404, expected 200 with the provider metadata (set discoveryUrl in the target if the IdP serves it elsewhere)`,
    );
  });

  it('builds the well-known URL without a double slash', () => {
    expect(discoveryUrl(`${ISSUER}/`)).toBe(`${ISSUER}/.well-known/openid-configuration`);
  });

  it('rejects an issuer mismatch (OIDC Discovery §4.3)', async () => {
    server.use(mock.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.json({ ...metadata, issuer: `${ISSUER}/` })));
    const err = await setupError(discover(http, { issuer: ISSUER }));
    expect(err.code).toBe('DISCOVERY_INVALID');
    expect(err.message).toBe(`provider metadata "issuer" "${ISSUER}/" does not match the configured issuer "${ISSUER}"`);
  });

  it('requires token, authorization and jwks endpoints unless overridden', async () => {
    const { token_endpoint: _t, ...noToken } = metadata;
    expect(() => resolveEndpoints(ISSUER, noToken)).toThrow('provider metadata has no "token_endpoint" and the target sets no endpoints.token');
    expect(resolveEndpoints(ISSUER, noToken, { token: 'https://x.test/t' }).token).toBe('https://x.test/t');
    expect(() => resolveEndpoints(ISSUER, { ...metadata, jwks_uri: 42 })).toThrow('provider metadata "jwks_uri" is not an http(s) URL: 42');
  });

  it('reports a non-200 answer and a non-JSON answer as DISCOVERY_INVALID', async () => {
    server.use(mock.get(`${ISSUER}/.well-known/openid-configuration`, () => new HttpResponse('not here', { status: 404 }), { once: true }));
    expect((await setupError(discover(http, { issuer: ISSUER }))).message).toBe(
      `GET ${ISSUER}/.well-known/openid-configuration returned HTTP 404, expected 200 with the provider metadata (set discoveryUrl in the target if the IdP serves it elsewhere)`,
    );
    server.use(mock.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.html('<html>login</html>'), { once: true }));
    const html = await setupError(discover(http, { issuer: ISSUER }));
    expect(html.code).toBe('DISCOVERY_INVALID');
    expect(html.message).toContain('did not return a JSON object (text/html');
  });

  it('reports a hanging or failing issuer as ISSUER_UNREACHABLE, in one line', async () => {
    server.use(
      mock.get(`${ISSUER}/.well-known/openid-configuration`, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const hang = await setupError(discover(http, { issuer: ISSUER }));
    expect(hang.code).toBe('ISSUER_UNREACHABLE');
    expect(hang.message).toBe(`issuer ${ISSUER} unreachable: GET ${ISSUER}/.well-known/openid-configuration timed out after 300 ms`);
    server.use(mock.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.error()));
    expect((await setupError(discover(http, { issuer: ISSUER }))).code).toBe('ISSUER_UNREACHABLE');
  });
});
