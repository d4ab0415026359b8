/**
 * The concurrency cap: the in-process semaphore, the CLI's slot server shared by worker processes,
 * and runInstance holding a slot while a check works but not while it waits on the real clock.
 */
import { getEventListeners } from 'node:events';
import { exportJWK, generateKeyPair } from 'jose';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asserted } from '../checks/expect.ts';
import type { Check, CheckContext } from '../checks/types.ts';
import { parseTarget } from '../harness/target.ts';
import { connectLimiter, createLimiter, serveLimiter, type Limiter } from './limiter.ts';
import type { CheckInstance } from './plan.ts';
import { prepareRun } from './pipeline.ts';
import { targetClients } from './connection.ts';

/** Asks `limiter` for `n` slots at once; returns how many were granted once `settle` resolves, and their releases. */
async function grantedOf(limiter: Limiter, n: number, settle: () => Promise<void>): Promise<{ granted: number; releases: Array<() => void> }> {
  const releases: Array<() => void> = [];
  for (let i = 0; i < n; i++) void limiter.acquire().then((r) => releases.push(r), () => undefined);
  await settle();
  return { granted: releases.length, releases };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('createLimiter', () => {
  it('grants at most its size, in request order, and the next on release', async () => {
    const limiter = createLimiter(2);
    const order: number[] = [];
    const releases = await Promise.all([0, 1].map(async (i) => limiter.acquire().then((r) => (order.push(i), r))));
    const third = limiter.acquire().then((r) => (order.push(2), r));
    await ticks();
    expect(order).toEqual([0, 1]);
    expect(limiter.active).toBe(2);
    releases[0]!();
    releases[0]!(); // a second release of the same slot frees nothing more
    const r3 = await third;
    expect(order).toEqual([0, 1, 2]);
    expect(limiter.active).toBe(2);
    releases[1]!();
    r3();
    expect(limiter.active).toBe(0);
  });

  it('many queued acquires on one signal add no listener to it (Node would warn past ten)', async () => {
    const limiter = createLimiter(1);
    const held = await limiter.acquire();
    const run = new AbortController();
    const queued = Array.from({ length: 20 }, () => limiter.acquire(run.signal));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    run.abort(new Error('deadline'));
    for (const q of queued) await expect(q).rejects.toThrow('deadline');
    held();
    expect(limiter.active).toBe(0);
  });

  it('an aborted acquire leaves the queue and rejects with the reason', async () => {
    const limiter = createLimiter(1);
    const held = await limiter.acquire();
    const abort = new AbortController();
    const waiting = limiter.acquire(abort.signal);
    abort.abort(new Error('run over'));
    await expect(waiting).rejects.toThrow('run over');
    held();
    expect(limiter.active).toBe(0);
    (await limiter.acquire())();
  });
});

describe('the slot server: one cap across processes', () => {
  it('caps the slots of all connections together, and hands a released slot to the next in line', async () => {
    const server = await serveLimiter(3);
    try {
      const settle = () => new Promise<void>((r) => setTimeout(r, 100));
      const a = connectLimiter(server.port);
      const b = connectLimiter(server.port);
      const first = await grantedOf(a, 2, settle);
      const second = await grantedOf(b, 2, settle);
      expect(first.granted + second.granted).toBe(3);
      expect(second.granted).toBe(1);
      // a gives one back: b's queued request gets it.
      first.releases[0]!();
      await settle();
      expect(second.releases).toHaveLength(2);
      // All three are held: a newcomer waits.
      const c = connectLimiter(server.port);
      expect((await grantedOf(c, 1, settle)).granted).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('a connection closed by the server (the CLI ending) fails its waiting acquires instead of hanging', async () => {
    const server = await serveLimiter(1);
    const a = connectLimiter(server.port);
    const held = await a.acquire();
    const waiting = a.acquire();
    await server.close();
    await expect(waiting).rejects.toThrow(/slot server at 127\.0\.0\.1:\d+ is gone/);
    held();
  });

  it('frees the slots of a client whose process went away', async () => {
    const server = await serveLimiter(1);
    try {
      const { connect } = await import('node:net');
      const raw = connect({ host: '127.0.0.1', port: server.port });
      await new Promise((r) => raw.once('connect', r));
      raw.write('a');
      await new Promise((r) => raw.once('data', r)); // granted
      const other = connectLimiter(server.port);
      const waiting = other.acquire();
      raw.destroy();
      (await waiting)();
    } finally {
      await server.close();
    }
  });
});

describe('the target file', () => {
  const file = (extra: object) => ({
    name: 'n',
    profile: 'telenorid-plus',
    issuer: 'https://idp.example',
    clients: [{ id: 'app', auth: 'none', redirectUri: 'https://rp.example/cb', policy: 'Mobile' }],
    login: { driver: 'form', username: 'u', password: 'p' },
    logout: { driver: 'end-session' },
    clock: { driver: 'real' },
    ...extra,
  });

  it('may set "concurrency", a whole number of at least 1', async () => {
    expect((await parseTarget(file({ concurrency: 3 }), 't.json')).concurrency).toBe(3);
    expect((await parseTarget(file({}), 't.json')).concurrency).toBeUndefined();
    await expect(parseTarget(file({ concurrency: 0 }), 't.json')).rejects.toThrow(/t\.json: invalid target: concurrency: /);
    await expect(parseTarget(file({ concurrency: 1.5 }), 't.json')).rejects.toThrow(/concurrency/);
  });
});

describe('runInstance under a cap', () => {
  const ISSUER = 'https://limit.test';
  const msw = setupServer();
  beforeAll(async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    msw.listen({ onUnhandledRequest: 'error' });
    msw.use(
      http.get(`${ISSUER}/.well-known/openid-configuration`, () =>
        HttpResponse.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks`, end_session_endpoint: `${ISSUER}/logout` }),
      ),
      http.get(`${ISSUER}/jwks`, () => HttpResponse.json(jwks)),
    );
  });
  afterAll(() => msw.close());

  it('at most N checks work at once, while their real-clock waits overlap', async () => {
    const target = await parseTarget(
      {
        name: 'limit',
        profile: 'telenorid-plus',
        issuer: ISSUER,
        clients: [{ id: 'conf', secret: 'conf-secret-0123456789', auth: 'client_secret_basic', redirectUri: 'https://rp.example/cb', policy: 'Confidential' }],
        login: { driver: 'form', username: 'u', password: 'p' },
        logout: { driver: 'end-session' },
        clock: { driver: 'real', maxWaitSeconds: 5 },
      },
      'limiter.test.ts',
    );
    const run = await prepareRun(target, { limiter: createLimiter(2), concurrency: 64 });
    let working = 0;
    let maxWorking = 0;
    let waiting = 0;
    let maxWaiting = 0;
    // Work is an await on real I/O-like time outside any slot accounting of ours: a short timer.
    const work = async () => {
      working++;
      maxWorking = Math.max(maxWorking, working);
      await new Promise((r) => setTimeout(r, 40));
      working--;
    };
    const check: Check = {
      id: 'limit.work-wait-work',
      group: 'rotation',
      title: 'works, waits on the real clock, works',
      level: 'MUST',
      clause: [],
      applies: () => true,
      async run(t: CheckContext) {
        await work();
        waiting++;
        maxWaiting = Math.max(maxWaiting, waiting);
        await t.clock.wait(1, 'a real second');
        waiting--;
        await work();
        asserted('it worked, waited and worked');
      },
    };
    const client = targetClients(target)[0]!;
    const instances: CheckInstance[] = Array.from({ length: 8 }, (_, i) => ({ check, client, otherClients: [], citations: [], clause: 'test', level: 'MUST', name: `limit [${i}]` }));
    const started = performance.now();
    const results = await run.runAll(instances);
    const ms = performance.now() - started;
    await run.close();
    expect(results.map((r) => r.status), results[0]!.message ?? '').toEqual(Array(8).fill('passed'));
    expect(maxWorking).toBe(2);
    // All eight waited at once: the waits overlapped although only two could work at a time.
    expect(maxWaiting).toBe(8);
    expect(ms).toBeLessThan(8 * 1000);
  });
});
