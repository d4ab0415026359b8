/**
 * Opens the store a `--store` option names: a new in-memory Store, or a connection to Redis under
 * the issuer's key prefix, so that every replica serving that issuer shares one state. The Redis
 * client is loaded only for a Redis store. A Redis server that cannot be reached rejects with
 * StoreUnavailableError (the service then exits 2).
 */
import { Store, type MockStore } from '../store.ts';
import type { StoreOption } from './store-option.ts';

export async function openStore(option: StoreOption, issuer: string): Promise<MockStore> {
  if (option.kind === 'memory') return new Store();
  const { createRedisStore } = await import('../redis-store.ts');
  return createRedisStore({ url: option.url, issuer });
}
