/**
 * DPoP proof validation (RFC 9449 §4.3) and the server nonce (§8, §9), for the token and userinfo
 * endpoints. A proof is checked in the RFC's order: one DPoP header holding a JWT; typ dpop+jwt; an
 * accepted asymmetric alg; a public `jwk` header that verifies the signature; jti, htm, htu (both
 * normalised, without query and fragment), iat within the window on the mock's clock; the nonce
 * where the profile demands one; ath (the access token's hash) at a resource; and the jti not seen
 * before (a replay cache bounded in size and in time). The result is the key's RFC 7638 thumbprint:
 * what the refresh model binds to and compares (profile/model.ts, senderBinding and its guard).
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type { Clock } from './clock.ts';
import { derivedToken } from './crypto.ts';
import { OAuthError } from './errors.ts';
import type { Profile } from './profile/index.ts';
import type { Awaitable, MockStore } from './store.ts';

/** Seconds a proof's iat may lie in the past (and, for clock skew, in the future). */
export const PROOF_MAX_AGE_SECONDS = 60;
export const PROOF_MAX_SKEW_SECONDS = 5;
/** A nonce is replaced after this long (windows of the clock); the previous one stays valid until the next rotation (§8.2). */
export const NONCE_ROTATION_SECONDS = 300;

/** JWK members of private (or symmetric) keys: a proof's jwk must carry none (§4.2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Which §4.3 checks are made: all, in a correct IdP (a deliberate defect may drop one, defects.ts). */
export interface DpopProofChecks {
  jti: boolean;
  htmHtu: boolean;
}

export interface ValidProof {
  /** base64url SHA-256 JWK thumbprint (RFC 7638) of the proof's key. */
  jkt: string;
}

/**
 * One IdP's DPoP state: the server nonce and the jti replay cache. The nonce is stateless (an HMAC of
 * the IdP's token key and the time window), so every replica sharing that key gives and accepts the
 * same ones; the jti cache is the store's (MockStore.rememberJti), which replicas share.
 */
export interface DpopState {
  /** The nonce a proof must carry now (rotating on the mock's clock). */
  nonce(): string;
  /** Was the nonce issued by this IdP and still valid (the current one or the one before)? */
  nonceValid(nonce: string): boolean;
  /** Records a jti seen at `now`; false if it was seen within the window (a replay). */
  remember(jti: string, now: number): Awaitable<boolean>;
}

export function createDpopState(clock: Clock, key: Uint8Array, store: Pick<MockStore, 'rememberJti'>): DpopState {
  // The nonces of the last window asked for, so a burst of requests computes each HMAC once.
  let cached = { window: Number.NaN, current: '', previous: '' };
  const nonces = () => {
    const window = Math.floor(clock.now() / NONCE_ROTATION_SECONDS);
    if (window !== cached.window) {
      const of = (w: number) => derivedToken(key, `dpop-nonce.${w}`, 16);
      cached = { window, current: of(window), previous: cached.window === window - 1 ? cached.current : of(window - 1) };
    }
    return cached;
  };
  const horizon = PROOF_MAX_AGE_SECONDS + PROOF_MAX_SKEW_SECONDS;
  return {
    nonce: () => nonces().current,
    nonceValid(nonce) {
      const { current, previous } = nonces();
      return nonce === current || nonce === previous;
    },
    // Entries older than the iat window can never match a proof still accepted.
    remember: (jti, now) => store.rememberJti(jti, now, now + horizon),
  };
}

/** invalid_dpop_proof (RFC 9449 §12.2), with WWW-Authenticate at a resource (§7.1). */
export function invalidDpopProof(description: string, resource?: { algs: readonly string[] }): OAuthError {
  return new OAuthError('invalid_dpop_proof', description, resource ? 401 : 400, resource ? { 'www-authenticate': dpopChallenge('invalid_dpop_proof', description, resource.algs) } : {});
}

/** use_dpop_nonce (§8, §9) with the nonce to retry with. */
export function useDpopNonce(nonce: string, resource?: { algs: readonly string[] }): OAuthError {
  const description = 'a DPoP nonce is required: retry with the one in the DPoP-Nonce header';
  return new OAuthError('use_dpop_nonce', description, resource ? 401 : 400, {
    'dpop-nonce': nonce,
    ...(resource && { 'www-authenticate': dpopChallenge('use_dpop_nonce', description, resource.algs) }),
  });
}

/** The DPoP authentication challenge (§7.1). */
export function dpopChallenge(error: string | undefined, description: string | undefined, algs: readonly string[]): string {
  const parts = [...(error ? [`error="${error}"`] : []), ...(description ? [`error_description="${description.replace(/["\\]/g, '')}"`] : []), `algs="${algs.join(' ')}"`];
  return `DPoP ${parts.join(', ')}`;
}

/** The htu comparison form (§4.3 step 9): scheme and host normalised (RFC 3986 §6.2.2, §6.2.3), no query, no fragment. */
export function normaliseHtu(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(ASCII(access token))): the ath claim (§4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

export interface ProofInput {
  /** The request's DPoP header, as joined by Fetch (several headers joined with ", "). */
  header: string | null;
  method: string;
  url: string;
  profile: Profile;
  state: DpopState;
  clock: Clock;
  checks: DpopProofChecks;
  /** Demand the nonce (the token endpoint where the profile says so). */
  nonce: boolean;
  /** At a resource: the access token presented, whose hash the proof must carry; errors carry WWW-Authenticate. */
  accessToken?: string;
}

/** Validates the request's DPoP proof; undefined when it carries none. Throws the RFC's errors as OAuthError. */
export async function validateProof(input: ProofInput): Promise<ValidProof | undefined> {
  const { header, profile } = input;
  if (header === null) return undefined;
  const algs = profile.dpopSigningAlgs;
  const resource = input.accessToken !== undefined ? { algs } : undefined;
  const bad = (why: string) => invalidDpopProof(why, resource);
  // §4.3 step 1: exactly one DPoP header; a JWT has no comma, so a comma means several were joined.
  if (header.includes(',') || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(header.trim())) throw bad('the DPoP header must hold exactly one JWT');
  const proof = header.trim();
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(proof);
  } catch {
    throw bad('the DPoP proof is not a well-formed JWT');
  }
  if (protectedHeader.typ !== 'dpop+jwt') throw bad('the DPoP proof typ must be dpop+jwt');
  if (typeof protectedHeader.alg !== 'string' || !(algs as readonly string[]).includes(protectedHeader.alg)) throw bad(`the DPoP proof alg must be one of ${algs.join(' ')}`);
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null) throw bad('the DPoP proof has no jwk header');
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw bad('the DPoP proof jwk must be a public key');
  const now = input.clock.now();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...algs], currentDate: new Date(now * 1000) }));
  } catch {
    throw bad('the DPoP proof signature does not verify with its jwk');
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') throw bad('the DPoP proof has no jti');
  if (input.checks.htmHtu) {
    if (payload.htm !== input.method) throw bad(`the DPoP proof htm does not match the request method ${input.method}`);
    const htu = typeof payload.htu === 'string' ? normaliseHtu(payload.htu) : undefined;
    if (htu === undefined || htu !== normaliseHtu(input.url)) throw bad('the DPoP proof htu does not match the request URI');
  }
  const iat = payload.iat;
  if (typeof iat !== 'number' || iat < now - PROOF_MAX_AGE_SECONDS || iat > now + PROOF_MAX_SKEW_SECONDS) {
    throw bad(`the DPoP proof iat is outside the accepted window (${PROOF_MAX_AGE_SECONDS} s)`);
  }
  if (input.nonce && (typeof payload.nonce !== 'string' || !input.state.nonceValid(payload.nonce))) throw useDpopNonce(input.state.nonce(), resource);
  if (input.accessToken !== undefined && payload.ath !== accessTokenHash(input.accessToken)) throw bad('the DPoP proof ath does not match the access token');
  // Last, so a proof refused for another reason does not use up its jti.
  if (input.checks.jti && !(await input.state.remember(payload.jti, now))) throw bad('the DPoP proof jti was already used (a replayed proof)');
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}
