/**
 * What the replicas of one mock IdP agree on through their store (MockStore): the signing key and
 * the token key, read once at start (first writer wins), and the clock offset, read at the start of
 * each request and moved only through the store. With a store of one mock (not `replicated`) the
 * mock's own Clock is the time and nothing is read per request.
 */
import { randomBytes } from 'node:crypto';
import { advanceSeconds, offsetTooLarge } from './clock.ts';
import type { IdpContext } from './context.ts';
import { generateSigningKey, importKeys, type Keys, type SigningAlg } from './keys.ts';
import { MAX_CLOCK_OFFSET_SECONDS } from './limits.ts';
import type { MockStore } from './store.ts';

/** The signing key of this IdP: the one a replica stored first, else a new one. */
export async function sharedKeys(store: MockStore, alg: SigningAlg = 'ES256'): Promise<Keys> {
  return importKeys(await store.shared(`signing-key.${alg}`, await generateSigningKey(alg)));
}

/** The secret key for derived refresh tokens and DPoP nonces: the one a replica stored first, else a new one. */
export async function sharedTokenKey(store: MockStore): Promise<Uint8Array> {
  return Buffer.from(await store.shared('token-key', randomBytes(32).toString('base64url')), 'base64url');
}

/** Brings the clock to the offset the replicas agree on (a replicated store only). */
export async function syncClock(ctx: Pick<IdpContext, 'store' | 'clock'>): Promise<void> {
  if (ctx.store.replicated) ctx.clock.sync(await ctx.store.clockOffset());
}

/** Moves the clock forward (the control API): through the store when replicated, so every replica sees it. A RangeError when out of bounds. */
export async function advanceClock(ctx: Pick<IdpContext, 'store' | 'clock'>, seconds: number): Promise<number> {
  if (!ctx.store.replicated) return ctx.clock.advance(seconds);
  const offset = await ctx.store.advanceClock(advanceSeconds(seconds), MAX_CLOCK_OFFSET_SECONDS);
  if (offset === undefined) throw offsetTooLarge();
  ctx.clock.sync(offset);
  return ctx.clock.now();
}

/** The clock back to its start (the control API's reset), for every replica. */
export async function resetClock(ctx: Pick<IdpContext, 'store' | 'clock'>): Promise<void> {
  if (ctx.store.replicated) await ctx.store.resetClock();
  ctx.clock.reset();
}
