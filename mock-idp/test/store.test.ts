/**
 * The store interface (store.ts): its atomic operations keep their contracts on the in-memory Store,
 * and the core reaches its state only through the interface (createMockIdp takes any MockStore).
 */
import { describe, expect, it } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { correctRefreshRules } from '../profile/model.ts';
import { Store, type Family, type MockStore, type RefreshTokenRecord, type SeenRefreshToken } from '../store.ts';
import { IdpClient } from './client.ts';

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

function storeWithFamily(): Store {
  const store = new Store();
  store.addFamily(family);
  store.addRefreshToken(token('rt0', 0));
  store.addAccessToken({ hash: 'at0', clientId: 'c1', scope: ['openid'], issuedAt: 0, expiresAt: 300, familyId: 'f1' });
  return store;
}

const activeUnused: SeenRefreshToken = { state: 'active', successor: undefined };

describe('the in-memory Store keeps each atomic contract', () => {
  it('rotateRefreshToken is compare-and-set: of two rotations of what was seen as one state, one wins and the other changes nothing', () => {
    const store = storeWithFamily();
    expect(store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(true);
    expect(store.rotateRefreshToken('rt0', activeUnused, token('rt1b', 1), 6, correctRefreshRules)).toBe(false);
    expect(store.refreshToken('rt1b')).toBeUndefined();
    expect(store.family('f1')!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'rotated'],
      ['rt1', 'active'],
    ]);
    expect(store.refreshToken('rt0')).toMatchObject({ usedAt: 5, retiredAt: 5, successor: 'rt1' });
  });

  it('grace retries are counted: each rotation of a rotated-out token adds one to its graceUses, compare-and-set on the successor it saw', () => {
    const store = storeWithFamily();
    expect(store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(true);
    expect(store.refreshToken('rt0')!.graceUses).toBeUndefined();
    const first: SeenRefreshToken = { state: 'rotated', successor: 'rt1' };
    expect(store.rotateRefreshToken('rt0', first, token('rt2', 2), 6, correctRefreshRules)).toBe(true);
    // A second retry that saw the same successor lost: nothing changes, the count stays.
    expect(store.rotateRefreshToken('rt0', first, token('rt2b', 2), 6, correctRefreshRules)).toBe(false);
    expect(store.refreshToken('rt0')).toMatchObject({ graceUses: 1, successor: 'rt2', retiredAt: 5 });
    expect(store.rotateRefreshToken('rt0', { state: 'rotated', successor: 'rt2' }, token('rt3', 3), 7, correctRefreshRules)).toBe(true);
    expect(store.refreshToken('rt0')).toMatchObject({ graceUses: 2, successor: 'rt3' });
    expect(store.family('f1')!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'rotated'],
      ['rt1', 'rotated'],
      ['rt2', 'rotated'],
      ['rt3', 'active'],
    ]);
  });

  it('rotateRefreshToken retires what the rules name (a defect that retires nothing leaves the presented token active)', () => {
    const store = storeWithFamily();
    expect(store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, { retiredByRotation: () => [] })).toBe(true);
    expect(store.family('f1')!.tokens.map((t) => [t.hash, t.state])).toEqual([
      ['rt0', 'active'],
      ['rt1', 'active'],
    ]);
    expect(store.refreshToken('rt0')).toMatchObject({ usedAt: 5, successor: 'rt1' });
  });

  it('useRefreshToken applies an extend decision: the presented token lives on to the new expiry', () => {
    const store = storeWithFamily();
    expect(store.useRefreshToken('rt0', activeUnused, { kind: 'extend', expiresAt: 2000 }, 5)).toBe(true);
    expect(store.refreshToken('rt0')).toMatchObject({ state: 'active', expiresAt: 2000, usedAt: 5 });
  });

  it('rotateRefreshToken refuses a token of a family revoked since it was seen', () => {
    const store = storeWithFamily();
    store.revokeFamily({ id: 'f1' }, 3, 'consent withdrawn');
    expect(store.rotateRefreshToken('rt0', activeUnused, token('rt1', 1), 5, correctRefreshRules)).toBe(false);
    expect(store.family('f1')!.tokens).toHaveLength(1);
  });

  it('useRefreshToken is compare-and-set too: a consumed token is not consumed again', () => {
    const store = storeWithFamily();
    expect(store.useRefreshToken('rt0', activeUnused, { kind: 'consume' }, 5)).toBe(true);
    expect(store.useRefreshToken('rt0', activeUnused, { kind: 'consume' }, 6)).toBe(false);
    expect(store.refreshToken('rt0')).toMatchObject({ state: 'consumed', retiredAt: 5, usedAt: 5 });
  });

  it('revokeFamily revokes every refresh and access token of the grant; a second call keeps the first reason', () => {
    const store = storeWithFamily();
    store.revokeFamily({ id: 'f1' }, 7, 'first');
    store.revokeFamily({ id: 'f1' }, 9, 'second');
    expect(store.family('f1')).toMatchObject({ revokedAt: 7, revokedReason: 'first' });
    expect(store.refreshToken('rt0')).toMatchObject({ state: 'revoked', retiredAt: 7 });
    expect(store.accessToken('at0')!.revokedAt).toBe(7);
  });

  it('consumeCode and endSession have one winner each', () => {
    const store = new Store();
    store.addCode({ hash: 'c', clientId: 'c1', redirectUri: 'https://rp.test/cb', scope: [], sub: 'u1', sid: 's1', authTime: 0, expiresAt: 60, accessTokenHashes: [] });
    expect(store.consumeCode('c', 1)).toBe(true);
    expect(store.consumeCode('c', 2)).toBe(false);
    expect(store.code('c')!.usedAt).toBe(1);
    store.addSession({ id: 's1', sub: 'u1', authTime: 0, expiresAt: 100 });
    expect(store.endSession('s1', 4)).toBe(true);
    expect(store.endSession('s1', 5)).toBe(false);
    expect(store.session('s1')!.endedAt).toBe(4);
  });

  it('hands out records that the type system keeps read-only (changes go through the operations)', () => {
    const store = storeWithFamily();
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
