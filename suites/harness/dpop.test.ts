/**
 * The harness's DPoP (RFC 9449 §4.2): proofs signed with a per-client key carrying the public JWK only,
 * the claims the server checks, and every proof and private key value registered as a secret, so a
 * recorded exchange shows neither.
 */
import { decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDpopProver, createProof, generateDpopKey, htuOf } from './dpop.ts';
import { Recorder } from './record.ts';
import { parseTarget } from './target.ts';

describe('DPoP proofs (harness)', () => {
  it('are dpop+jwt with the public jwk, jti, htm, htu without query, iat, nonce and ath; they verify with their own key', async () => {
    const key = await generateDpopKey();
    const proof = await createProof(key, { htm: 'POST', htu: htuOf('https://idp.test/token?x=1#f'), iat: 1_700_000_000, nonce: 'n1', accessToken: 'at-1' });
    const header = decodeProtectedHeader(proof);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    const claims = decodeJwt(proof);
    expect(claims).toMatchObject({ htm: 'POST', htu: 'https://idp.test/token', iat: 1_700_000_000, nonce: 'n1', ath: createHash('sha256').update('at-1').digest('base64url') });
    expect(typeof claims.jti).toBe('string');
    await expect(jwtVerify(proof, EmbeddedJWK, { currentDate: new Date(1_700_000_000_000) })).resolves.toBeDefined();
    expect(decodeJwt(await createProof(key, { htm: 'POST', htu: 'https://idp.test/token', iat: 1 })).jti).not.toBe(claims.jti);
  });

  it('use the configured algorithm (EdDSA, PS256)', async () => {
    for (const alg of ['EdDSA', 'PS256'] as const) {
      const key = await generateDpopKey(alg);
      const proof = await createProof(key, { htm: 'POST', htu: 'https://idp.test/token', iat: 1 });
      expect(decodeProtectedHeader(proof).alg).toBe(alg);
      expect(Object.keys(decodeProtectedHeader(proof).jwk!)).not.toContain('d');
    }
  });

  it('the prover registers each proof and the private key as secrets: a recorded exchange shows neither', async () => {
    const recorder = Recorder.of([]);
    const prover = createDpopProver({ secrets: recorder, iat: async () => 1_700_000_000 });
    const proof = await prover.proof('POST', 'https://idp.test/token');
    const other = await prover.proof('POST', 'https://idp.test/token', { key: await prover.otherKey() });
    const key = await prover.key();
    expect(key.privateValues.length).toBeGreaterThan(0);
    const stored = recorder.record({
      method: 'POST',
      url: 'https://idp.test/token',
      requestHeaders: [['dpop', proof]],
      requestBody: `echo=${proof}&other=${other}&d=${key.privateValues[0]}`,
      status: 200,
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
    });
    const text = JSON.stringify(stored);
    for (const secret of [proof, other, ...key.privateValues]) expect(text).not.toContain(secret);
    expect(text).toContain('dpop');
  });

  it('keeps the nonce a response gives for the next proofs, and leaves it out when asked', async () => {
    const prover = createDpopProver({ secrets: Recorder.of([]), iat: async () => 5 });
    expect(decodeJwt(await prover.proof('POST', 'https://idp.test/token')).nonce).toBeUndefined();
    expect(prover.learnNonce(new Headers({ 'dpop-nonce': 'abc' }))).toBe('abc');
    expect(decodeJwt(await prover.proof('POST', 'https://idp.test/token')).nonce).toBe('abc');
    expect(decodeJwt(await prover.proof('POST', 'https://idp.test/token', { nonce: null })).nonce).toBeUndefined();
    expect(decodeJwt(await prover.proof('POST', 'https://idp.test/token')).iat).toBe(5);
  });

  it('take their algorithm from the target file (default ES256); an algorithm outside RFC 9449\'s asymmetric set is refused', async () => {
    const file = { name: 't', embedded: { transport: 'direct' }, profile: 'erp-net', login: { driver: 'mock' }, logout: { driver: 'mock' }, clock: { driver: 'mock' } };
    expect((await parseTarget(file, 't.json')).dpop).toEqual({ alg: 'ES256' });
    expect((await parseTarget({ ...file, dpop: { alg: 'EdDSA' } }, 't.json')).dpop).toEqual({ alg: 'EdDSA' });
    await expect(parseTarget({ ...file, dpop: { alg: 'HS256' } }, 't.json')).rejects.toThrow(/dpop\.alg/);
  });
});
