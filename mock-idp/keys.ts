/**
 * Signing keys and the JWKS (RFC 7517). Keys are generated and exported with jose; ID tokens are
 * compact JWS (RFC 7515 §7.1) signed with node:crypto's one-shot sign, which runs on the thread pool
 * like WebCrypto's but without its layers: jose's SignJWT took about three times as long per token
 * (see scripts/bench). Verification stays with jose.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JWK, type JWTPayload } from 'jose';

export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface Keys {
  alg: SigningAlg;
  kid: string;
  jwks: { keys: JWK[] };
  sign(payload: JWTPayload): Promise<string>;
  /** Verifies a token this IdP signed; expiry not enforced (id_token_hint may be expired). */
  verify(token: string): Promise<JWTPayload | undefined>;
}

/** The JWS signature over `input` for the algorithm (RFC 7518 §3.3, §3.4; RFC 8037 §3.1). */
function signer(alg: SigningAlg, key: KeyObject): (input: Buffer) => Promise<Buffer> {
  const [digest, options] =
    alg === 'ES256' ? (['sha256', { key, dsaEncoding: 'ieee-p1363' as const }] as const) : alg === 'RS256' ? (['sha256', key] as const) : ([null, key] as const);
  return (input) => new Promise((resolve, reject) => cryptoSign(digest, input, options, (e, sig) => (e ? reject(e) : resolve(sig))));
}

/** JWK members of a private key: the public JWK is the private one without them. */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']);
const ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

/**
 * A new signing key, serialized: its private JWK with kid and alg, as JSON. What replicas share
 * (MockStore.shared) so that an ID token of one verifies against the JWKS of another. A secret.
 */
export async function generateSigningKey(alg: SigningAlg = 'ES256'): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `mock-${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`;
  return JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg });
}

/** The Keys of a serialized signing key (generateSigningKey); a TypeError when it is not one. */
export async function importKeys(serialized: string): Promise<Keys> {
  const jwk = JSON.parse(serialized) as JWK;
  const alg = jwk.alg as SigningAlg;
  if (!ALGS.includes(alg) || typeof jwk.kid !== 'string' || typeof jwk.d !== 'string') throw new TypeError('not a serialized signing key');
  const kid = jwk.kid;
  const publicJwk: JWK = { ...Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.has(k) && k !== 'kid' && k !== 'alg')), kid, alg, use: 'sig' };
  const jwks = { keys: [publicJwk] };
  const localSet = createLocalJWKSet(jwks);
  const signature = signer(alg, createPrivateKey({ key: jwk as never, format: 'jwk' }));
  const header = Buffer.from(JSON.stringify({ alg, kid, typ: 'JWT' })).toString('base64url');
  return {
    alg,
    kid,
    jwks,
    sign(payload) {
      const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
      return signature(Buffer.from(input)).then((sig) => `${input}.${sig.toString('base64url')}`);
    },
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

export async function createKeys(alg: SigningAlg = 'ES256'): Promise<Keys> {
  return importKeys(await generateSigningKey(alg));
}
