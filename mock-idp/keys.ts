/** Signing keys and the JWKS (RFC 7517), via jose. */
import { exportJWK, generateKeyPair, SignJWT, jwtVerify, createLocalJWKSet, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface Keys {
  alg: SigningAlg;
  kid: string;
  jwks: { keys: JWK[] };
  sign(payload: JWTPayload): Promise<string>;
  /** Verifies a token this IdP signed; expiry not enforced (id_token_hint may be expired). */
  verify(token: string): Promise<JWTPayload | undefined>;
}

export async function createKeys(alg: SigningAlg = 'ES256'): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = `mock-${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`;
  const publicJwk: JWK = { ...jwk, kid, alg, use: 'sig' };
  const jwks = { keys: [publicJwk] };
  const localSet = createLocalJWKSet(jwks);
  return {
    alg,
    kid,
    jwks,
    sign: (payload) => new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey as CryptoKey),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, localSet, { algorithms: [alg], currentDate: new Date(0) });
        return payload;
      } catch {
        return undefined;
      }
    },
  };
}
