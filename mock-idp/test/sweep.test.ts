/**
 * Housekeeping: the core sweeps an in-memory store every so many requests (bounded memory in long runs),
 * and never sweeps a store that expires its state by itself (Redis TTLs), where a sweep and the size it
 * reads afterwards would walk the whole shared keyspace.
 */
import { describe, expect, test } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { Store } from '../store.ts';

class CountingStore extends Store {
  sweeps = 0;
  sizes = 0;
  override readonly selfExpiring: boolean;
  constructor(expiresItself: boolean) {
    super();
    this.selfExpiring = expiresItself;
  }
  override sweep(now: number): void {
    this.sweeps++;
    super.sweep(now);
  }
  override size(): number {
    this.sizes++;
    return super.size();
  }
}

describe('the core sweeps only stores that do not expire state by themselves', () => {
  test.each([
    [false, 'swept'],
    [true, 'never swept'],
  ])('selfExpiring %s: %s over 2 100 requests', async (expiresItself) => {
    const store = new CountingStore(expiresItself);
    const idp = await createMockIdp({ profile: await loadProfile('telenorid-plus'), issuer: 'https://idp.test', store });
    for (let i = 0; i < 2_100; i++) await idp.handle({ method: 'GET', url: 'https://idp.test/.well-known/openid-configuration', headers: new Headers(), bytes: async () => new Uint8Array() });
    if (expiresItself) expect({ sweeps: store.sweeps, sizes: store.sizes }).toEqual({ sweeps: 0, sizes: 0 });
    else expect(store.sweeps).toBeGreaterThanOrEqual(2);
  });
});
