/**
 * The mock's DPoP (RFC 9449): proof validation (§4.3), the nonce (§8), binding of public clients'
 * refresh tokens at the code exchange and its check at refresh (§5, the refresh model's rule),
 * token_type DPoP, ath at userinfo with DPoP challenges (§7.1), and the bounded jti replay cache.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createProof, generateDpopKey, htuOf, type DpopKey } from '../../suites/harness/dpop.ts';
import { createClock } from '../clock.ts';
import { createDpopState, NONCE_ROTATION_SECONDS, normaliseHtu, PROOF_MAX_AGE_SECONDS } from '../dpop.ts';
import { createMockIdp, type MockIdp } from '../idp.ts';
import { Store } from '../store.ts';
import { loadVariants } from '../profile/variants.ts';
import { IdpClient } from './client.ts';

const variants = await loadVariants();
const dpopProfile = variants.find((p) => p.name === 'erp-net-dpop')!;
let n = 0;

async function start(profile = dpopProfile): Promise<{ idp: MockIdp; c: IdpClient }> {
  const idp = await createMockIdp({ profile, issuer: `https://dpop-${++n}.test`, testMode: true });
  return { idp, c: new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init))) };
}

/** A proof for the mock's endpoint at its clock, with the nonce it gives (or as overridden). */
async function proof(idp: MockIdp, key: DpopKey, o: { path?: string; htm?: string; htu?: string; nonce?: string; iat?: number; accessToken?: string; jti?: string } = {}): Promise<string> {
  return createProof(key, {
    htm: o.htm ?? 'POST',
    htu: o.htu ?? `${idp.issuer}${o.path ?? '/token'}`,
    iat: o.iat ?? idp.clock.now(),
    ...(o.nonce !== undefined && { nonce: o.nonce }),
    ...(o.accessToken !== undefined && { accessToken: o.accessToken }),
    ...(o.jti !== undefined && { jti: o.jti }),
  });
}

/** Signs in and exchanges the code with a proof of `key`, doing the nonce dance; the token response and the nonce. */
async function exchange(idp: MockIdp, c: IdpClient, policy: string, key: DpopKey | undefined) {
  const client = c.client(policy);
  const { code, verifier } = await c.signIn(client, { scope: `openid ${idp.profile.offlineAccessScope}` });
  const params = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier };
  const send = async (headers: Record<string, string>) =>
    client.confidential ? c.form('/token', params, { ...headers, authorization: basic(client) }) : c.form('/token', { ...params, client_id: client.id }, headers);
  if (!key) return { r: await send({}), nonce: undefined, client };
  const first = await send({ dpop: await proof(idp, key) });
  expect(first.status).toBe(400);
  expect(first.body.error).toBe('use_dpop_nonce');
  const nonce = first.headers.get('dpop-nonce')!;
  expect(nonce).toBeTruthy();
  return { r: await send({ dpop: await proof(idp, key, { nonce }) }), nonce, client };
}

function basic(client: { id: string; secret?: string }): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret!)}`).toString('base64')}`;
}

describe('mock DPoP (RFC 9449)', () => {
  it('advertises dpop_signing_alg_values_supported where a policy uses DPoP, and not otherwise (§5.1)', async () => {
    const { c } = await start();
    expect((await c.get('/.well-known/openid-configuration')).body.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
    const { c: plain } = await start(variants.find((p) => p.name === 'erp-net')!);
    expect((await plain.get('/.well-known/openid-configuration')).body).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it("binds a public client's refresh token to the proof key: refused without a proof or with another key, accepted with it, token_type DPoP (§5)", async () => {
    const { idp, c } = await start();
    const key = await generateDpopKey();
    const other = await generateDpopKey();
    const { r, nonce, client } = await exchange(idp, c, 'InteractivePublic', key);
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('DPoP');
    const rt = r.body.refresh_token as string;
    const refresh = (headers: Record<string, string>) => c.form('/token', { grant_type: 'refresh_token', refresh_token: rt, client_id: client.id }, headers);
    const none = await refresh({});
    expect([none.status, none.body.error]).toEqual([400, 'invalid_grant']);
    const wrong = await refresh({ dpop: await proof(idp, other, { nonce: nonce! }) });
    expect([wrong.status, wrong.body.error]).toEqual([400, 'invalid_grant']);
    const right = await refresh({ dpop: await proof(idp, key, { nonce: nonce! }) });
    expect([right.status, right.body.token_type]).toEqual([200, 'DPoP']);
    expect(c.violations).toEqual([]);
  });

  it("leaves a confidential client's refresh token unbound (§5) but binds its access token", async () => {
    const { idp, c } = await start();
    const key = await generateDpopKey();
    const { r, nonce, client } = await exchange(idp, c, 'Interactive', key);
    expect([r.status, r.body.token_type]).toEqual([200, 'DPoP']);
    const other = await generateDpopKey();
    const again = await c.form('/token', { grant_type: 'refresh_token', refresh_token: r.body.refresh_token }, { authorization: basic(client), dpop: await proof(idp, other, { nonce: nonce! }) });
    expect(again.status).toBe(200);
  });

  it('dpop-required: the code exchange without a proof is refused with invalid_dpop_proof and the code survives for a retry with one', async () => {
    const { idp, c } = await start();
    const client = c.client('InteractivePublicRequired');
    const { code, verifier } = await c.signIn(client, { scope: `openid ${idp.profile.offlineAccessScope}` });
    const params = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier, client_id: client.id };
    const bare = await c.form('/token', params);
    expect([bare.status, bare.body.error]).toEqual([400, 'invalid_dpop_proof']);
    const key = await generateDpopKey();
    const first = await c.form('/token', params, { dpop: await proof(idp, key) });
    const retry = await c.form('/token', params, { dpop: await proof(idp, key, { nonce: first.headers.get('dpop-nonce')! }) });
    expect([retry.status, retry.body.token_type]).toEqual([200, 'DPoP']);
  });

  it('refuses replayed, mis-addressed, mistyped, private-keyed, disallowed-alg and stale proofs with invalid_dpop_proof (§4.3)', async () => {
    const { idp, c } = await start();
    const key = await generateDpopKey();
    const { r, nonce, client } = await exchange(idp, c, 'InteractivePublic', key);
    const send = (dpop: string) => c.form('/token', { grant_type: 'refresh_token', refresh_token: r.body.refresh_token, client_id: client.id }, { dpop });
    const good = await proof(idp, key, { nonce: nonce! });
    expect((await send(good)).status).toBe(200);
    const refused = async (dpop: string) => {
      const a = await send(dpop);
      return [a.status, a.body.error];
    };
    expect(await refused(good)).toEqual([400, 'invalid_dpop_proof']); // the same jti again
    expect(await refused(await proof(idp, key, { nonce: nonce!, htm: 'GET' }))).toEqual([400, 'invalid_dpop_proof']);
    expect(await refused(await proof(idp, key, { nonce: nonce!, path: '/userinfo' }))).toEqual([400, 'invalid_dpop_proof']);
    expect(await refused(await proof(idp, key, { nonce: nonce!, iat: idp.clock.now() - PROOF_MAX_AGE_SECONDS - 1 }))).toEqual([400, 'invalid_dpop_proof']);
    const rsa = await generateDpopKey('RS256'); // not among the profile's ES256 and EdDSA
    expect(await refused(await proof(idp, rsa, { nonce: nonce! }))).toEqual([400, 'invalid_dpop_proof']);
    const { SignJWT } = await import('jose');
    const iat = idp.clock.now();
    const claims = { jti: 'x1', htm: 'POST', htu: `${idp.issuer}/token`, nonce };
    const mistyped = await new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk: key.publicJwk }).setIssuedAt(iat).sign(key.privateKey);
    expect(await refused(mistyped)).toEqual([400, 'invalid_dpop_proof']);
    const { exportJWK } = await import('jose');
    const privateJwk = await exportJWK(key.privateKey);
    const leaky = await new SignJWT({ ...claims, jti: 'x2' }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk }).setIssuedAt(iat).sign(key.privateKey);
    expect(await refused(leaky)).toEqual([400, 'invalid_dpop_proof']);
    expect(await refused(`${good},${good}`)).toEqual([400, 'invalid_dpop_proof']);
    expect(c.violations).toEqual([]);
  });

  it('compares htu normalised: scheme and host case, default port, no query or fragment (§4.3 step 9)', async () => {
    expect(normaliseHtu('HTTPS://Dpop.Test:443/token?x=1#f')).toBe('https://dpop.test/token');
    expect(normaliseHtu('https://dpop.test/token')).toBe(normaliseHtu('https://DPOP.test:443/token'));
    expect(normaliseHtu('https://dpop.test/Token')).not.toBe(normaliseHtu('https://dpop.test/token'));
    expect(normaliseHtu('not a uri')).toBeUndefined();
    expect(htuOf('https://dpop.test/token?x=1#y')).toBe('https://dpop.test/token');
  });

  it('userinfo: a bound access token needs the DPoP scheme and a proof with its ath; errors carry a DPoP challenge (§7)', async () => {
    const { idp, c } = await start();
    const key = await generateDpopKey();
    const { r } = await exchange(idp, c, 'InteractivePublic', key);
    const at = r.body.access_token as string;
    const ok = await c.get('/userinfo', { authorization: `DPoP ${at}`, dpop: await proof(idp, key, { htm: 'GET', path: '/userinfo', accessToken: at }) });
    expect(ok.status).toBe(200);
    const bearer = await c.get('/userinfo', { authorization: `Bearer ${at}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/);
    const noAth = await c.get('/userinfo', { authorization: `DPoP ${at}`, dpop: await proof(idp, key, { htm: 'GET', path: '/userinfo' }) });
    expect([noAth.status, noAth.body.error]).toEqual([401, 'invalid_dpop_proof']);
    expect(noAth.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof".*algs="ES256 EdDSA"$/);
    const other = await generateDpopKey();
    const stolen = await c.get('/userinfo', { authorization: `DPoP ${at}`, dpop: await proof(idp, other, { htm: 'GET', path: '/userinfo', accessToken: at }) });
    expect([stolen.status, stolen.body.error]).toEqual([401, 'invalid_token']);
  });

  it('a client whose policy declares no sender constraint gets bearer tokens whatever it sends (a server without DPoP ignores the header)', async () => {
    const { idp, c } = await start(variants.find((p) => p.name === 'erp-net')!);
    const key = await generateDpopKey();
    const client = c.client('InteractivePublic');
    const { code, verifier } = await c.signIn(client, { scope: `openid ${idp.profile.offlineAccessScope}` });
    const r = await c.form('/token', { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier, client_id: client.id }, { dpop: await proof(idp, key) });
    expect([r.status, r.body.token_type]).toEqual([200, 'Bearer']);
  });
});

describe('DPoP state', () => {
  it('keeps the jti replay cache bounded in size and in time (the in-memory Store holds it)', async () => {
    const clock = createClock({ start: 1_000_000 });
    const store = new Store({ maxJtis: 3 });
    const state = createDpopState(clock, randomBytes(32), store);
    for (const jti of ['a', 'b', 'c', 'd', 'e']) expect(await state.remember(jti, clock.now())).toBe(true);
    expect(store.jtiCount()).toBeLessThanOrEqual(3);
    expect(await state.remember('e', clock.now())).toBe(false);
    clock.advance(PROOF_MAX_AGE_SECONDS + 10);
    expect(await state.remember('f', clock.now())).toBe(true);
    expect(store.jtiCount()).toBe(1);
    expect(await state.remember('e', clock.now())).toBe(true); // long past the window: no proof with it is accepted anyway
  });

  it('rotates the nonce on the clock, accepting the previous one until the next rotation (§8.2)', () => {
    const clock = createClock({ start: 1_000_000 });
    const state = createDpopState(clock, randomBytes(32), new Store());
    const first = state.nonce();
    expect(state.nonceValid(first)).toBe(true);
    expect(state.nonceValid('made-up')).toBe(false);
    clock.advance(NONCE_ROTATION_SECONDS);
    const second = state.nonce();
    expect(second).not.toBe(first);
    expect(state.nonceValid(first)).toBe(true);
    clock.advance(NONCE_ROTATION_SECONDS);
    expect(state.nonceValid(first)).toBe(false);
    expect(state.nonceValid(second)).toBe(true);
  });

  it('nonces are an HMAC of the token key and the window: another key neither gives nor accepts them', () => {
    const clock = createClock({ start: 1_000_000 });
    const key = randomBytes(32);
    const a = createDpopState(clock, key, new Store());
    const b = createDpopState(clock, Buffer.from(key), new Store());
    const other = createDpopState(clock, randomBytes(32), new Store());
    expect(b.nonce()).toBe(a.nonce());
    expect(other.nonceValid(a.nonce())).toBe(false);
  });
});
