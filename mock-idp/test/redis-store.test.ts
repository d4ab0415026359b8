/**
 * The RedisStore beyond the contract tests (store.test.ts runs those against it): atomicity across
 * connections (as across replicas), what one instance does seen at once through another, TTLs on
 * every key and memory that stays bounded, and Redis going away (StoreUnavailableError within a
 * bound, no partial rotation) and coming back (operations work again). Real-time waits here are
 * for Redis (its TTLs, its restart), bounded; the mock's clock is never waited on.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../clock.ts';
import { createMockIdp } from '../idp.ts';
import { loadProfile } from '../profile/index.ts';
import { correctRefreshRules } from '../profile/model.ts';
import { createRedisStore, redisPrefixFor, type RedisStore, type RedisStoreOptions } from '../redis-store.ts';
import { StoreUnavailableError, type Family, type RefreshTokenRecord, type SeenRefreshToken } from '../store.ts';
import { IdpClient } from './client.ts';
import { freePortForTest, redisSkipReason, startRedis, type RunningRedis } from './redis-server.ts';

const skip = await redisSkipReason();
if (skip) console.warn(`RedisStore tests skipped: ${skip}`);

const NOW = 1_000_000;
const activeUnused: SeenRefreshToken = { state: 'active', successor: undefined };

function family(id: string, expiresAt = NOW + 600): Family {
  return { id, clientId: 'c1', policy: 'Mobile', sub: 'u1', sid: 's1', scope: ['openid', 'offline_access'], authTime: NOW, createdAt: NOW, fixedExpiresAt: expiresAt, tokens: [], accessTokenHashes: [] };
}
function token(familyId: string, hash: string, generation: number, expiresAt = NOW + 600): RefreshTokenRecord {
  return { hash, familyId, clientId: 'c1', generation, issuedAt: NOW, expiresAt, state: 'active' };
}

describe.skipIf(skip !== undefined)('RedisStore on a real redis-server', () => {
  let redis: RunningRedis;
  const opened: RedisStore[] = [];
  const open = async (options: Partial<RedisStoreOptions> = {}) => {
    const store = await createRedisStore({ url: redis.url, prefix: `t:${randomUUID()}:`, now: () => NOW, ...options });
    opened.push(store);
    return store;
  };
  /** A raw client on the same Redis, to look at keys as they are held. */
  const raw = async () => {
    const client = createClient({ url: redis.url });
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('of 50 concurrent rotations of one token through 3 connections exactly one wins, over 1000 trials', async () => {
    const prefix = `t:${randomUUID()}:`;
    const stores = [await open({ prefix }), await open({ prefix }), await open({ prefix })];
    const started = Date.now();
    const winners: number[] = [];
    for (let trial = 0; trial < 1000; trial++) {
      const id = `f${trial}`;
      await stores[0]!.addFamily({ ...family(id), tokens: [token(id, `${id}.0`, 0)] });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => stores[i % 3]!.rotateRefreshToken(`${id}.0`, activeUnused, token(id, `${id}.1.${i}`, 1), NOW + 1, correctRefreshRules)),
      );
      const won = results.flatMap((r, i) => (r ? [i] : []));
      winners.push(won.length);
      // The family holds the presented token, rotated, and the one winner's successor: nothing of a loser.
      const held = (await stores[(trial + 1) % 3]!.family(id))!;
      expect(held.tokens.map((t) => [t.hash, t.state])).toEqual([
        [`${id}.0`, 'rotated'],
        [`${id}.1.${won[0]}`, 'active'],
      ]);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`50 concurrent rotations × 1000 trials over 3 connections: ${seconds.toFixed(1)} s`);
    expect(winners.filter((n) => n !== 1)).toEqual([]);
  }, 180_000);

  it('a family revoked through one instance is revoked, at once, as another instance sees it', async () => {
    const prefix = `t:${randomUUID()}:`;
    const [a, b] = [await open({ prefix }), await open({ prefix })];
    await a.addFamily(family('f'));
    await a.addRefreshToken(token('f', 'rt0', 0));
    await a.addAccessToken({ hash: 'at0', clientId: 'c1', scope: ['openid'], issuedAt: NOW, expiresAt: NOW + 300, familyId: 'f' });
    await b.revokeFamily({ id: 'f' }, NOW + 2, 'consent withdrawn');
    expect(await a.family('f')).toMatchObject({ revokedAt: NOW + 2, revokedReason: 'consent withdrawn' });
    expect(await a.refreshToken('rt0')).toMatchObject({ state: 'revoked' });
    expect((await a.accessToken('at0'))!.revokedAt).toBe(NOW + 2);
    expect(await a.rotateRefreshToken('rt0', activeUnused, token('f', 'rt1', 1), NOW + 3, correctRefreshRules)).toBe(false);
  });

  it('replicas agree on shared values (first writer wins), the clock offset and DPoP jti values', async () => {
    const prefix = `t:${randomUUID()}:`;
    const [a, b] = [await open({ prefix }), await open({ prefix })];
    const [x, y] = await Promise.all([a.shared('token-key', 'from-a'), b.shared('token-key', 'from-b')]);
    expect(x).toBe(y);
    expect(await b.shared('token-key', 'later')).toBe(x);

    expect(await b.clockOffset()).toBe(0);
    expect(await a.advanceClock(90, 100)).toBe(90);
    expect(await b.clockOffset()).toBe(90);
    expect(await b.advanceClock(11, 100)).toBeUndefined(); // past the maximum: nothing changes
    expect(await a.clockOffset()).toBe(90);
    await b.resetClock();
    expect(await a.clockOffset()).toBe(0);

    expect(await a.rememberJti('j1', NOW, NOW + 60)).toBe(true);
    expect(await b.rememberJti('j1', NOW + 59, NOW + 119)).toBe(false); // a replay within its window
    expect(await b.rememberJti('j1', NOW + 60, NOW + 120)).toBe(true); // its window is over
    expect(await a.rememberJti('j1', NOW + 61, NOW + 121)).toBe(false);
  });

  it('every key it writes has a TTL of its record\'s last expiry − now + the margin (the clock and shared values excepted); clear keeps only the clock (resetClock\'s) and the shared values', async () => {
    const prefix = `t:${randomUUID()}:`;
    const store = await open({ prefix, ttlMarginSeconds: 100 });
    await store.addSession({ id: 's1', sub: 'u1', authTime: NOW, expiresAt: NOW + 1000 });
    await store.addPendingLogin({ id: 'p1', params: {}, browser: 'b', expiresAt: NOW + 600 }, 10);
    await store.addCode({ hash: 'c1', clientId: 'c1', redirectUri: 'https://rp.test/cb', scope: [], sub: 'u1', sid: 's1', authTime: NOW, expiresAt: NOW + 60, accessTokenHashes: [] });
    await store.addFamily({ ...family('f', NOW + 2000), tokens: [token('f', 'rt0', 0, NOW + 500)] });
    await store.addAccessToken({ hash: 'at0', clientId: 'c1', scope: ['openid'], issuedAt: NOW, expiresAt: NOW + 300, familyId: 'f' });
    // A sliding rotation past the family's fixed end: the family and every rt key live to the new expiry.
    expect(await store.rotateRefreshToken('rt0', activeUnused, token('f', 'rt1', 1, NOW + 5000), NOW + 10, correctRefreshRules)).toBe(true);
    // A revocation rewrites the family and its access token: their TTLs stay.
    await store.revokeFamily({ id: 'f' }, NOW + 10, 'consent withdrawn');
    await store.endSession('s1', NOW + 10);
    expect(await store.consumeCode('c1', NOW + 10)).toBe(true);
    expect(await store.rememberJti('j', NOW, NOW + 60)).toBe(true);
    await store.advanceClock(5, 100);
    await store.shared('k', 'v');

    const client = await raw();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*` })) keys.push(...batch);
      const ttl = Object.fromEntries(await Promise.all(keys.map(async (k) => [k.slice(prefix.length), await client.pTTL(k)] as const)));
      const seconds = (s: number) => [s * 1000 - 5000, s * 1000] as const; // written within the last 5 s
      const expected: Record<string, readonly [number, number]> = {
        'session:s1': seconds(1000 - 10 + 100),
        'pending:p1': seconds(600 + 100),
        'pending:~index': seconds(600 + 100),
        'pending:~seq': seconds(600 + 100),
        'code:c1': seconds(60 + 3600 - 10 + 100),
        'family:f': seconds(5000 - 10 + 100),
        // A family's rt keys: twice its TTL, renewed together when the oldest has less than the family left.
        'rt:rt0': seconds(2 * (5000 - 10 + 100)),
        'rt:rt1': seconds(2 * (5000 - 10 + 100)),
        'family-at:f': seconds(2 * (5000 - 10 + 100)),
        'at:at0': seconds(300 - 10 + 100),
      };
      for (const [k, [lo, hi]] of Object.entries(expected)) {
        expect(ttl[k], k).toBeGreaterThan(lo);
        expect(ttl[k], k).toBeLessThanOrEqual(hi);
      }
      const jti = Object.keys(ttl).filter((k) => k.startsWith('jti:'));
      expect(jti).toHaveLength(1);
      expect(ttl[jti[0]!]).toBeGreaterThan(55_000);
      expect(ttl['clock']).toBe(-1);
      expect(ttl['shared:k']).toBe(-1);
      expect(Object.keys(ttl).sort()).toEqual([...Object.keys(expected), jti[0]!, 'clock', 'shared:k'].sort());

      await store.clear();
      const left: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*` })) left.push(...batch);
      expect(left.sort()).toEqual([`${prefix}clock`, `${prefix}shared:k`]);
    } finally {
      client.destroy();
    }
  });

  it('a long family costs no PEXPIRE per token: its rt keys are renewed together only when the oldest would expire before the family', async () => {
    const store = await open();
    const client = await raw();
    const pexpires = async () => Number(/cmdstat_pexpire:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
    try {
      // Fixed expiry: the family's end never moves, so 40 rotations renew nothing.
      await store.addFamily({ ...family('fixed', NOW + 600), tokens: [token('fixed', 'x0', 0)] });
      const before = await pexpires();
      for (let i = 0; i < 40; i++) expect(await store.rotateRefreshToken(`x${i}`, activeUnused, token('fixed', `x${i + 1}`, i + 1), NOW + i, correctRefreshRules)).toBe(true);
      expect(await pexpires()).toBe(before);
      // Sliding far past it: the old keys are renewed with the family, once (then they outlive it again).
      const ttl = await client.pTTL(`${store.prefix}family:fixed`);
      expect(await store.rotateRefreshToken('x40', activeUnused, token('fixed', 'x41', 41, NOW + 100_000), NOW + 40, correctRefreshRules)).toBe(true);
      expect(await pexpires()).toBe(before + 42); // the 41 older rt keys and the access-token list
      expect(await client.pTTL(`${store.prefix}rt:x0`)).toBeGreaterThan(2 * 99_000_000);
      expect(await store.rotateRefreshToken('x41', activeUnused, token('fixed', 'x42', 42, NOW + 100_001), NOW + 41, correctRefreshRules)).toBe(true);
      expect(await pexpires()).toBe(before + 42); // the 41 older rt keys and the access-token list
      expect(ttl).toBeLessThan(4_300_000);
    } finally {
      client.destroy();
    }
  });

  it('memory stays bounded: 2000 families come and go with their TTLs, twice, and the second round leaves no more than the first', async () => {
    // A server of its own: its memory is this test's alone.
    const own = await startRedis();
    const client = createClient({ url: own.url });
    client.on('error', () => {});
    try {
      await client.connect();
      const store = await createRedisStore({ url: own.url, issuer: 'https://memory.test', now: () => NOW, ttlMarginSeconds: 0 });
      const memory = async () => usedMemory(await client.info('memory'));
      /** 2000 families (family, list, rt and at keys), held at once, then gone by their TTLs; the memory used at the peak. */
      const round = async (tag: string) => {
        for (let i = 0; i < 2000; i += 100) {
          await Promise.all(
            Array.from({ length: 100 }, async (_, j) => {
              const id = `${tag}${i + j}`;
              await store.addFamily({ ...family(id, NOW + 5), tokens: [token(id, `${id}.0`, 0, NOW + 5)] });
              await store.addAccessToken({ hash: `${id}.at`, clientId: 'c1', scope: ['openid'], issuedAt: NOW, expiresAt: NOW + 5, familyId: id });
            }),
          );
        }
        expect(await client.dbSize()).toBe(8000); // family, its access-token list, rt, at
        const peak = await memory();
        // Their TTLs are 5 s (virtual lifetime 5 s, no margin): Redis drops them by itself soon after.
        const deadline = Date.now() + 20_000;
        while ((await client.dbSize()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expect(await client.dbSize()).toBe(0);
        return peak;
      };
      try {
        const before = await memory();
        const peak1 = await round('a');
        const after1 = await memory();
        const peak2 = await round('b');
        const after2 = await memory();
        console.log(`used_memory: ${before} before; 2000 families: ${peak1}, gone: ${after1}; again: ${peak2}, gone: ${after2}`);
        const grown = peak1 - before;
        expect(grown).toBeGreaterThan(1_000_000);
        // What stays after a round is Redis's own tables, not records: a fraction of one round's records, and no more after the second.
        expect(after1 - before).toBeLessThan(grown / 4);
        expect(after2 - after1).toBeLessThan(grown / 20);
      } finally {
        await store.close();
      }
    } finally {
      client.destroy();
      await own.stop();
    }
  }, 60_000);

  it('two mock IdPs on one RedisStore (replicas): one key set, a login at one and a refresh at the other, a replay at the first revokes the family for both, the clock moved through one is the other\'s', async () => {
    const prefix = `t:${randomUUID()}:`;
    const [sa, sb] = [await open({ prefix, now: undefined }), await open({ prefix, now: undefined })];
    const profile = await loadProfile('telenorid-plus');
    const issuer = 'https://replicas.test';
    const start = Math.floor(Date.now() / 1000);
    const a = await createMockIdp({ profile, issuer, testMode: true, store: sa, clock: createClock({ start }) });
    const b = await createMockIdp({ profile, issuer, testMode: true, store: sb, clock: createClock({ start }), clients: a.clients, users: a.users });
    const ca = new IdpClient(a, (url, init) => a.fetch(new Request(url, init)));
    const cb = new IdpClient(b, (url, init) => b.fetch(new Request(url, init)));
    const jwks = (await ca.get('/jwks')).body;
    expect(jwks.keys).toHaveLength(1);
    expect((await cb.get('/jwks')).body).toEqual(jwks);

    const t = await ca.tokens(ca.client('Mobile'));
    const refreshed = await cb.refresh(cb.client('Mobile'), t.refresh_token!);
    expect(refreshed.status).toBe(200);
    expect((await ca.refresh(ca.client('Mobile'), t.refresh_token!)).status).toBe(400); // a replay: the family is revoked
    expect((await cb.refresh(cb.client('Mobile'), refreshed.body.refresh_token)).status).toBe(400);
    expect((await sb.families()).map((f) => f.revokedReason)).toEqual(['rotated-out refresh token was reused']);

    await a.control.advance(3600);
    expect(await sb.clockOffset()).toBe(3600);
    await b.control.reset();
    expect(await sa.clockOffset()).toBe(0);
    expect(await sa.families()).toEqual([]);
    expect([...ca.violations, ...cb.violations]).toEqual([]);
  });

  it('Redis unreachable at start: createRedisStore rejects with StoreUnavailableError within its bound, the password not shown', async () => {
    const port = await freePortForTest();
    const started = Date.now();
    const failed = await createRedisStore({ url: `redis://user:s3cret-pw@127.0.0.1:${port}`, connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect((failed as Error).message).toContain(`127.0.0.1:${port}`);
    expect((failed as Error).message).not.toContain('s3cret-pw');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('the default prefix is the issuer\'s: two mocks on one Redis do not meet', async () => {
    expect(redisPrefixFor('https://a.test')).toMatch(/^rc:[0-9a-f]{16}:$/);
    expect(redisPrefixFor('https://a.test')).not.toBe(redisPrefixFor('https://b.test'));
    const a = await open({ prefix: undefined, issuer: 'https://a.test' });
    const b = await open({ prefix: undefined, issuer: 'https://b.test' });
    expect(a.prefix).toBe(redisPrefixFor('https://a.test'));
    await a.addFamily(family('same-id'));
    expect(await b.family('same-id')).toBeUndefined();
    await b.clear();
    expect(await a.family('same-id')).toBeDefined();
    await a.clear();
  });
});

describe.skipIf(skip !== undefined)('RedisStore when Redis goes away and comes back', () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('stopped: every operation rejects with StoreUnavailableError within the bound; restarted: operations work again', async () => {
    const store = await createRedisStore({ url: redis.url, prefix: 'outage:', now: () => NOW, commandTimeoutMs: 1000 });
    try {
      await store.addFamily({ ...family('f'), tokens: [token('f', 'rt0', 0)] });
      await redis.stop();
      const ops: [string, () => Promise<unknown>][] = [
        ['family', () => store.family('f')],
        ['refreshToken', () => store.refreshToken('rt0')],
        ['rotateRefreshToken', () => store.rotateRefreshToken('rt0', activeUnused, token('f', 'rt1', 1), NOW + 1, correctRefreshRules)],
        ['revokeFamily', () => store.revokeFamily({ id: 'f' }, NOW + 1, 'x')],
        ['addSession', () => store.addSession({ id: 's', sub: 'u', authTime: NOW, expiresAt: NOW + 60 })],
        ['families', () => store.families()],
        ['clockOffset', () => store.clockOffset()],
        ['shared', () => store.shared('k', 'v')],
        ['rememberJti', () => store.rememberJti('j', NOW, NOW + 60)],
      ];
      for (const [name, op] of ops) {
        const started = Date.now();
        const failed = await op().then(() => undefined, (e: unknown) => e);
        expect(failed, name).toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started, name).toBeLessThan(1500);
      }
      await redis.restart(); // same port, empty data
      const deadline = Date.now() + 10_000;
      for (;;) {
        const ok = await store.clockOffset().then(() => true, (e: unknown) => {
          if (!(e instanceof StoreUnavailableError) || Date.now() > deadline) throw e;
          return false;
        });
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await store.addFamily({ ...family('g'), tokens: [token('g', 'rt0', 0)] });
      expect(await store.rotateRefreshToken('rt0', activeUnused, token('g', 'rt1', 1), NOW + 1, correctRefreshRules)).toBe(true);
      expect(await store.refreshToken('rt1')).toMatchObject({ state: 'active', familyId: 'g' });
    } finally {
      await store.close();
    }
  }, 30_000);

  it('a mock on a RedisStore answers 503 temporarily_unavailable (JSON, no-store) while Redis is down, and serves again once it is back', async () => {
    const store = await createRedisStore({ url: redis.url, prefix: `mock:${randomUUID()}:`, commandTimeoutMs: 1000 });
    try {
      const idp = await createMockIdp({ profile: await loadProfile('telenorid-plus'), issuer: 'https://outage.test', testMode: true, store });
      const c = new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
      const mobile = c.client('Mobile');
      const t = await c.tokens(mobile);
      await redis.stop();
      const down = await c.refresh(mobile, t.refresh_token!);
      expect(down.status).toBe(503);
      expect(down.body.error).toBe('temporarily_unavailable');
      expect(down.headers.get('cache-control')).toContain('no-store');
      await redis.restart(); // empty: the mock's state is gone with it
      const deadline = Date.now() + 10_000;
      let again = await c.refresh(mobile, t.refresh_token!);
      while (again.status === 503 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        again = await c.refresh(mobile, t.refresh_token!);
      }
      expect(again.status).toBe(400); // served again: a token it no longer knows
      expect(again.body.error).toBe('invalid_grant');
      expect((await c.tokens(mobile)).refresh_token).toBeTypeOf('string');
      // The client flags every 5xx; the 503s of the outage are the answer wanted here, and the only ones.
      expect(c.violations.length).toBeGreaterThan(0);
      expect(c.violations.filter((v) => !v.startsWith('503 /token: server error {"error":"temporarily_unavailable"'))).toEqual([]);
    } finally {
      await store.close();
    }
  }, 30_000);

  it('frozen mid-load: each rotation settles within the bound, and afterwards each family either rotated fully or not at all', async () => {
    const prefix = `frozen:${randomUUID()}:`;
    const store = await createRedisStore({ url: redis.url, prefix, now: () => NOW, commandTimeoutMs: 500 });
    const check = await createRedisStore({ url: redis.url, prefix, now: () => NOW });
    try {
      const n = 200;
      for (let i = 0; i < n; i++) await store.addFamily({ ...family(`f${i}`), tokens: [token(`f${i}`, `f${i}.0`, 0)] });
      const started = Date.now();
      const outcomes = Array.from({ length: n }, (_, i) =>
        new Promise((r) => setTimeout(r, i % 20)).then(() => store.rotateRefreshToken(`f${i}.0`, activeUnused, token(`f${i}`, `f${i}.1`, 1), NOW + 1, correctRefreshRules)).then(
          (won) => (won ? 'rotated' : 'refused'),
          (e: unknown) => (e instanceof StoreUnavailableError ? 'unavailable' : `unexpected: ${String(e)}`),
        ),
      );
      await new Promise((r) => setTimeout(r, 5));
      redis.pause();
      const settled = await Promise.all(outcomes);
      const took = Date.now() - started;
      redis.resume();
      // Each waits at most two round trips (read, CAS) of 500 ms each.
      expect(took).toBeLessThan(2500);
      expect(settled.filter((s) => s.startsWith('unexpected'))).toEqual([]);
      expect(settled.filter((s) => s === 'refused')).toEqual([]);
      expect(settled).toContain('unavailable');
      // After the outage: a rotation told as done is fully there; one given up on is fully there or not at all.
      for (let i = 0; i < n; i++) {
        const held = (await check.family(`f${i}`))!;
        const shape = held.tokens.map((t) => `${t.hash}:${t.state}`).join(' ');
        const rotated = shape === `f${i}.0:rotated f${i}.1:active` && (await check.refreshToken(`f${i}.1`))?.familyId === `f${i}`;
        const untouched = shape === `f${i}.0:active` && (await check.refreshToken(`f${i}.1`)) === undefined;
        expect(rotated || untouched, `f${i}: ${shape} after "${settled[i]}"`).toBe(true);
        if (settled[i] === 'rotated') expect(rotated, `f${i}`).toBe(true);
      }
      // And the store that saw the outage works again.
      expect(await store.rotateRefreshToken('f0.0', { state: 'active', successor: undefined }, token('f0', 'x', 1), NOW + 2, correctRefreshRules)).toBeTypeOf('boolean');
    } finally {
      redis.resume();
      await store.close();
      await check.close();
    }
  }, 30_000);
});

function usedMemory(info: string): number {
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}
