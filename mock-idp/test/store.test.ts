/**
 * The store interface (store.ts): its atomic operations keep their contracts on every store (the
 * in-memory Store and the RedisStore, the same tests run against each), and the core reaches its
 * state only through the interface (createMockIdp takes any MockStore).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { correctRefreshRules } from '../profile/model.ts';
import { Store, type Family, type MockStore, type RefreshTokenRecord, type SeenRefreshToken } from '../store.ts';
import { createRedisStore, type RedisStore } from '../redis-store.ts';
import { IdpClient } from './client.ts';
import { redisSkipReason, startRedis, type RunningRedis } from './redis-server.ts';

const family: Family = {
  id: 'f1',
  clientId: 'c1',
  policy: 'Mobile',
  sub: 'u1',
  sid: 's1',
  scope: ['openid', 'offline_access'],
  authTime: 0,
  createdAt: 0,
  fixedExpiresAt: 1000,
  tokens: [],
  accessTokenHashes: [],
};

function token(hash: string, generation: number): RefreshTokenRecord {
  return { hash, familyId: 'f1', clientId: 'c1', generation, issuedAt: 0, expiresAt: 1000, state: 'active' };
}

const redisSkip = await redisSkipReason();
if (redisSkip) console.warn(`RedisStore contract tests skipped: ${redisSkip}`);

/** Each store under test: a fresh, empty one per test. */
const stores: { name: string; skip?: string; open: () => Promise<MockStore> }[] = [
  { name: 'the in-memory Store', open: async () => new Store() },
  { name: 'the RedisStore', skip: redisSkip, open: () => openRedisStore() },
];

let redis: RunningRedis | undefined;
const opened: RedisStore[] = [];
/** A RedisStore on this file's redis-server under a prefix of its own (one Redis, no test sees another's keys). */
async function openRedisStore(): Promise<RedisStore> {
  redis ??= await startRedis();
  const store = await createRedisStore({ url: redis.url, prefix: `test:${randomUUID()}:`, now: () => 0 });
  opened.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await redis?.stop();
});

async function storeWithFamily(open: () => Promise<MockStore>): Promise<MockStore> {
  const store = await open();
  await store.addFamily(family);
  await store.addRefreshToken(token('rt0', 0));
  await store.addAccessToken({ hash: 'at0', clientId: 'c1', scope: ['openid'], issuedAt: 0, expiresAt: 300, familyId: 'f1' });
  return store;
}

const activeUnused: SeenRefreshToken = { state: 'active', successor: undefined };

describe.each(stores)('$name keeps each atomic contract', ({ skip, open }) => {
  it.skipIf(skip !== undefined)('rotateRefreshToken is compare-and-set: of two rotations of what was seen as one state, one wins and the other changes nothing', async () => {
    const store = await storeWithFamily(open);
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(true);
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('rt1b', 1), 6, correctRefreshRules)).toBe(false);
    expect(await store.refreshToken('rt1b')).toBeUndefined();
    expect((await store.family('f1'))!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'rotated'],
      ['rt1', 'active'],
    ]);
    expect(await store.refreshToken('rt0')).toMatchObject({ usedAt: 5, retiredAt: 5, successor: 'rt1' });
  });

  it.skipIf(skip !== undefined)('grace retries are counted: each rotation of a rotated-out token adds one to its graceUses, compare-and-set on the successor it saw', async () => {
    const store = await storeWithFamily(open);
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(true);
    expect((await store.refreshToken('rt0'))!.graceUses).toBeUndefined();
    const first: SeenRefreshToken = { state: 'rotated', successor: 'rt1' };
    expect(await store.rotateRefreshToken('rt0', first, token('rt2', 2), 6, correctRefreshRules)).toBe(true);
    // A second retry that saw the same successor lost: nothing changes, the count stays.
    expect(await store.rotateRefreshToken('rt0', first, token('rt2b', 2), 6, correctRefreshRules)).toBe(false);
    expect(await store.refreshToken('rt0')).toMatchObject({ graceUses: 1, successor: 'rt2', retiredAt: 5 });
    expect(await store.rotateRefreshToken('rt0', { state: 'rotated', successor: 'rt2' }, token('rt3', 3), 7, correctRefreshRules)).toBe(true);
    expect(await store.refreshToken('rt0')).toMatchObject({ graceUses: 2, successor: 'rt3' });
    expect((await store.family('f1'))!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'rotated'],
      ['rt1', 'rotated'],
      ['rt2', 'rotated'],
      ['rt3', 'active'],
    ]);
  });

  it.skipIf(skip !== undefined)('rotateRefreshToken retires what the rules name (a defect that retires nothing leaves the presented token active)', async () => {
    const store = await storeWithFamily(open);
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, { retiredByRotation: () => [] })).toBe(true);
    expect((await store.family('f1'))!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'active'],
      ['rt1', 'active'],
    ]);
    expect(await store.refreshToken('rt0')).toMatchObject({ usedAt: 5, successor: 'rt1' });
  });

  it.skipIf(skip !== undefined)('useRefreshToken applies an extend decision: the presented token lives on to the new expiry', async () => {
    const store = await storeWithFamily(open);
    expect(await store.useRefreshToken('rt0', activeUnused, { kind: 'extend', expiresAt: 2000 }, 5)).toBe(true);
    expect(await store.refreshToken('rt0')).toMatchObject({ state: 'active', expiresAt: 2000, usedAt: 5 });
  });

  it.skipIf(skip !== undefined)('rotateRefreshToken refuses a token of a family revoked since it was seen', async () => {
    const store = await storeWithFamily(open);
    await store.revokeFamily({ id: 'f1' }, 3, 'consent withdrawn');
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(false);
    expect((await store.family('f1'))!.tokens).toHaveLength(1);
  });

  it.skipIf(skip !== undefined)('useRefreshToken is compare-and-set too: a consumed token is not consumed again', async () => {
    const store = await storeWithFamily(open);
    expect(await store.useRefreshToken('rt0', activeUnused, { kind: 'consume' }, 5)).toBe(true);
    expect(await store.useRefreshToken('rt0', activeUnused, { kind: 'consume' }, 6)).toBe(false);
    expect(await store.refreshToken('rt0')).toMatchObject({ state: 'consumed', retiredAt: 5, usedAt: 5 });
  });

  it.skipIf(skip !== undefined)('revokeFamily revokes every refresh and access token of the grant; a second call keeps the first reason', async () => {
    const store = await storeWithFamily(open);
    await store.revokeFamily({ id: 'f1' }, 7, 'first');
    await store.revokeFamily({ id: 'f1' }, 9, 'second');
    expect(await store.family('f1')).toMatchObject({ revokedAt: 7, revokedReason: 'first' });
    expect(await store.refreshToken('rt0')).toMatchObject({ state: 'revoked', retiredAt: 7 });
    expect((await store.accessToken('at0'))!.revokedAt).toBe(7);
  });

  it.skipIf(skip !== undefined)('revokeCodeIssue revokes the family and every access token issued from the code', async () => {
    const store = await storeWithFamily(open);
    await store.addCode({ hash: 'c', clientId: 'c1', redirectUri: 'https://rp.test/cb', scope: [], sub: 'u1', sid: 's1', authTime: 0, expiresAt: 60, accessTokenHashes: [] });
    await store.addAccessToken({ hash: 'at1', clientId: 'c1', scope: ['openid'], issuedAt: 0, expiresAt: 300 });
    await store.recordCodeIssue('c', { familyId: 'f1', accessTokenHash: 'at1' });
    expect(await store.code('c')).toMatchObject({ familyId: 'f1', accessTokenHashes: ['at1'] });
    await store.revokeCodeIssue('c', 8, 'code reused');
    expect(await store.family('f1')).toMatchObject({ revokedAt: 8, revokedReason: 'code reused' });
    expect((await store.accessToken('at0'))!.revokedAt).toBe(8);
    expect((await store.accessToken('at1'))!.revokedAt).toBe(8);
  });

  it.skipIf(skip !== undefined)('consumeCode and endSession have one winner each', async () => {
    const store = await open();
    await store.addCode({ hash: 'c', clientId: 'c1', redirectUri: 'https://rp.test/cb', scope: [], sub: 'u1', sid: 's1', authTime: 0, expiresAt: 60, accessTokenHashes: [] });
    expect(await store.consumeCode('c', 1)).toBe(true);
    expect(await store.consumeCode('c', 2)).toBe(false);
    expect((await store.code('c'))!.usedAt).toBe(1);
    await store.addSession({ id: 's1', sub: 'u1', authTime: 0, expiresAt: 100 });
    expect(await store.endSession('s1', 4)).toBe(true);
    expect(await store.endSession('s1', 5)).toBe(false);
    expect((await store.session('s1'))!.endedAt).toBe(4);
    expect([...(await store.sessions())].map((s) => s.id)).toEqual(['s1']);
  });

  it.skipIf(skip !== undefined)('pending logins are bounded: at the bound the oldest is dropped first', async () => {
    const store = await open();
    for (const id of ['p1', 'p2', 'p3']) await store.addPendingLogin({ id, params: {}, browser: 'b', expiresAt: 600 }, 2);
    expect(await store.pendingLogin('p1')).toBeUndefined();
    expect((await store.pendingLogin('p2'))?.id).toBe('p2');
    expect((await store.pendingLogin('p3'))?.id).toBe('p3');
    expect(await store.removePendingLogin('p2')).toBe(true);
    expect(await store.removePendingLogin('p2')).toBe(false); // a login form is completed once
    expect(await store.pendingLogin('p2')).toBeUndefined();
    expect(await store.size()).toBe(1);
  });

  it.skipIf(skip !== undefined)('an access token added to a family revoked already is held revoked (a reuse revocation racing a refresh)', async () => {
    const store = await storeWithFamily(open);
    await store.revokeFamily({ id: 'f1' }, 7, 'reuse');
    await store.addAccessToken({ hash: 'at1', clientId: 'c1', scope: ['openid'], issuedAt: 8, expiresAt: 300, familyId: 'f1' });
    expect((await store.accessToken('at1'))!.revokedAt).toBe(7);
    expect((await store.family('f1'))!.accessTokenHashes).toEqual(['at0', 'at1']);
  });

  it.skipIf(skip !== undefined)('recordCodeIssue after revokeCodeIssue: what it records is revoked at once, with the reuse\'s time and reason', async () => {
    const store = await storeWithFamily(open);
    await store.addCode({ hash: 'c', clientId: 'c1', redirectUri: 'https://rp.test/cb', scope: [], sub: 'u1', sid: 's1', authTime: 0, expiresAt: 60, accessTokenHashes: [] });
    await store.revokeCodeIssue('c', 4, 'code reused');
    await store.recordCodeIssue('c', { familyId: 'f1', accessTokenHash: 'at0' });
    expect(await store.family('f1')).toMatchObject({ revokedAt: 4, revokedReason: 'code reused' });
    expect((await store.accessToken('at0'))!.revokedAt).toBe(4);
    expect(await store.refreshToken('rt0')).toMatchObject({ state: 'revoked' });
  });

  it.skipIf(skip !== undefined)('the shared state: clock offset bounded by its maximum, first writer wins, a jti refused within its window', async () => {
    const store = await open();
    expect(await store.clockOffset()).toBe(0);
    expect(await store.advanceClock(60, 100)).toBe(60);
    expect(await store.advanceClock(41, 100)).toBeUndefined();
    expect(await store.clockOffset()).toBe(60);
    await store.resetClock();
    expect(await store.clockOffset()).toBe(0);
    expect(await store.shared('k', 'first')).toBe('first');
    expect(await store.shared('k', 'second')).toBe('first');
    expect(await store.rememberJti('j', 10, 70)).toBe(true);
    expect(await store.rememberJti('j', 69, 129)).toBe(false);
    expect(await store.rememberJti('j', 70, 130)).toBe(true);
    await store.clear();
    expect(await store.shared('k', 'third')).toBe('first'); // running replicas hold it: clear keeps it
    expect(await store.rememberJti('j', 71, 131)).toBe(true); // jti values go with clear
  });

  it.skipIf(skip !== undefined)('clear leaves nothing', async () => {
    const store = await storeWithFamily(open);
    await store.clear();
    expect(await store.family('f1')).toBeUndefined();
    expect(await store.refreshToken('rt0')).toBeUndefined();
    expect(await store.accessToken('at0')).toBeUndefined();
    expect([...(await store.families())]).toEqual([]);
    expect(await store.size()).toBe(0);
  });
});

describe('the in-memory Store', () => {
  it('hands out records that the type system keeps read-only (changes go through the operations)', () => {
    const store = new Store();
    store.addFamily(family);
    store.addRefreshToken(token('rt0', 0));
    const record = store.refreshToken('rt0')!;
    // @ts-expect-error a record from the store cannot be changed in place
    record.state = 'revoked';
    const f = store.family('f1')!;
    // @ts-expect-error nor a family's list of tokens
    f.tokens.push(token('x', 9));
    expect(record.state).toBe('revoked'); // at run time the in-memory record is the held one: hence the types
  });
});

/** A MockStore that is not the in-memory Store's class: it counts the atomic operations the core asks for. */
class CountingStore extends Store {
  readonly calls: string[] = [];
  override rotateRefreshToken(...args: Parameters<MockStore['rotateRefreshToken']>): boolean {
    this.calls.push('rotateRefreshToken');
    return super.rotateRefreshToken(...args);
  }
  override revokeFamily(...args: Parameters<MockStore['revokeFamily']>): void {
    this.calls.push('revokeFamily');
    super.revokeFamily(...args);
  }
  override consumeCode(...args: Parameters<MockStore['consumeCode']>): boolean {
    this.calls.push('consumeCode');
    return super.consumeCode(...args);
  }
  override endSession(...args: Parameters<MockStore['endSession']>): boolean {
    this.calls.push('endSession');
    return super.endSession(...args);
  }
}

describe('createMockIdp keeps its state in the store it is given', () => {
  it('a code exchange, a rotation, a replay and a logout each go through their named operation', async () => {
    const store = new CountingStore();
    const idp = await createMockIdp({ profile: await loadProfile('telenorid-plus'), issuer: 'https://store.test', testMode: true, store });
    const c = new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    expect(store.calls).toEqual(['consumeCode']);
    expect((await c.refresh(client, t.refresh_token!)).status).toBe(200);
    expect(store.calls).toEqual(['consumeCode', 'rotateRefreshToken']);
    expect((await c.refresh(client, t.refresh_token!)).status).toBe(400); // a replay: the family is revoked
    expect(store.calls).toEqual(['consumeCode', 'rotateRefreshToken', 'revokeFamily']);
    expect([...store.families()].map((f) => f.revokedReason)).toEqual(['rotated-out refresh token was reused']);
    expect((await idp.control.endSsoSession({ username: idp.users[0]!.username }))).toBe(1);
    expect(store.calls.at(-1)).toBe('endSession');
    expect(c.violations).toEqual([]);
  });
});
