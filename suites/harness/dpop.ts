/**
 * DPoP on the client side (RFC 9449): a key per client and check, and the proofs it signs. A proof
 * is a JWT with typ dpop+jwt, the public key in its `jwk` header, and jti, htm, htu, iat (the target's
 * time: a mock's clock may run days ahead), the server's nonce when it gave one (§8), and ath for a
 * resource (§4.2). The private key never leaves this module except as a secret for redaction, and
 * every proof is registered as a secret too (a proof replayed by a reader of the report is a proof).
 */
import { createHash, randomBytes } from 'node:crypto';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const DPOP_ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;
export type DpopAlg = (typeof DPOP_ALGS)[number];

export interface DpopKey {
  alg: DpopAlg;
  /** The public JWK (no private members) that goes into each proof's header. */
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint, base64url: the `jkt` a bound token carries. */
  jkt: string;
  privateKey: CryptoKey;
  /** The private JWK members' values (d, p, q, ...): registered as secrets so no record shows them. */
  privateValues: string[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

export async function generateDpopKey(alg: DpopAlg = 'ES256'): Promise<DpopKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' && { crv: 'Ed25519' }) });
  const { kty, crv, x, y, n, e } = await exportJWK(publicKey);
  const publicJwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK;
  const priv = await exportJWK(privateKey);
  const privateValues = PRIVATE_MEMBERS.map((m) => priv[m]).filter((v): v is string => typeof v === 'string');
  return { alg, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256'), privateKey, privateValues };
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** NumericDate of the target's clock. */
  iat: number;
  nonce?: string;
  /** The access token the proof accompanies at a resource (its hash becomes ath). */
  accessToken?: string;
  jti?: string;
}

/** The htu of a request URL: without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** Signs a DPoP proof JWT (RFC 9449 §4.2). */
export async function createProof(key: DpopKey, claims: ProofClaims): Promise<string> {
  return new SignJWT({
    jti: claims.jti ?? base64url.encode(randomBytes(16)),
    htm: claims.htm,
    htu: claims.htu,
    ...(claims.nonce !== undefined && { nonce: claims.nonce }),
    ...(claims.accessToken !== undefined && { ath: createHash('sha256').update(claims.accessToken, 'ascii').digest('base64url') }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk })
    .setIssuedAt(claims.iat)
    .sign(key.privateKey);
}

/** Where the secrets go (a Recorder). */
export interface SecretSink {
  addSecret(value: string | undefined | null, label?: string): void;
}

/**
 * A client's prover for one check: its key (made on first use), the nonce the server last gave
 * (DPoP-Nonce, §8.2), and proofs made at the target's time, each registered as a secret.
 */
export interface DpopProver {
  alg: DpopAlg;
  key(): Promise<DpopKey>;
  /** A proof for a request; `nonce: null` leaves the nonce out whatever the server gave. */
  proof(htm: string, url: string, options?: { key?: DpopKey; nonce?: string | null; accessToken?: string }): Promise<string>;
  /** Reads a response's DPoP-Nonce header, keeping the nonce for the next proofs. */
  learnNonce(headers: Headers): string | undefined;
  /** Another key (for checks that a binding refuses it), registered like the client's. */
  otherKey(): Promise<DpopKey>;
}

export function createDpopProver(options: { alg?: DpopAlg; secrets: SecretSink; iat: () => Promise<number> }): DpopProver {
  const alg = options.alg ?? 'ES256';
  const make = async (): Promise<DpopKey> => {
    const k = await generateDpopKey(alg);
    for (const v of k.privateValues) options.secrets.addSecret(v, 'dpop_private_key');
    return k;
  };
  let key: Promise<DpopKey> | undefined;
  let other: Promise<DpopKey> | undefined;
  let nonce: string | undefined;
  const prover: DpopProver = {
    alg,
    key: () => (key ??= make()),
    async proof(htm, url, o = {}) {
      const use = o.nonce === null ? undefined : (o.nonce ?? nonce);
      const proof = await createProof(o.key ?? (await prover.key()), {
        htm,
        htu: htuOf(url),
        iat: await options.iat(),
        ...(use !== undefined && { nonce: use }),
        ...(o.accessToken !== undefined && { accessToken: o.accessToken }),
      });
      options.secrets.addSecret(proof, 'dpop_proof');
      return proof;
    },
    learnNonce(headers) {
      const given = headers.get('dpop-nonce');
      if (given) nonce = given;
      return given ?? undefined;
    },
    otherKey: () => (other ??= make()),
  };
  return prover;
}
