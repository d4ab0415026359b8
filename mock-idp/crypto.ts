/** Token material: opaque, random, stored only as hashes; secrets compared in constant time. */
import { createHash, createHmac, hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/** Random bytes are drawn from the CSPRNG in batches (as node's randomUUID does); each byte is used once. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** 256 bits of randomness, base64url (a VSCHAR string, RFC 6749 App. A.17; ≥128 bits, §10.10). */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

/**
 * A token derived from `input` under a secret key (HMAC-SHA-256, base64url of the first `bytes`
 * bytes, at most 32): as unguessable as the key and the input, and computable again from them, so
 * an IdP that keeps only hashes can hand out the same token twice (concurrentRefresh "same-successor").
 */
export function derivedToken(key: Uint8Array, input: string, bytes = 32): string {
  return createHmac('sha256', key).update(input, 'utf8').digest().toString('base64url', 0, Math.min(bytes, 32));
}

/** Synchronous: one hash per request on the hot path, no thread-pool round trip. */
export function hashToken(token: string): string {
  // The raw 32-byte digest as a Latin-1 ('binary') string: a lookup key only (never shown), 16 bytes
  // smaller than base64url per stored hash, which adds up over 100 000 families. crypto.hash (node
  // >= 20.12) is the one-shot form: half the cost of a Hash object, on every request.
  return hash('sha256', token, 'binary');
}

export function constantTimeEqual(a: string, b: string): boolean {
  // Compare fixed-length digests so neither content nor length leaks through timing.
  return timingSafeEqual(hash('sha256', a, 'buffer'), hash('sha256', b, 'buffer'));
}

/** PKCE S256 (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
