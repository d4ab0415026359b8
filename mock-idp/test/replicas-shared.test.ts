/**
 * Three replicas of the mock service (real processes, as `refresh-conformance-mock --store redis://...`
 * runs them) on one redis-server: what one replica does, the others see at once. Of 50 concurrent
 * refreshes of one token spread over the three, exactly one wins, over 1 000 trials; a family revoked
 * through one is refused by the others; an id_token of one verifies against another's JWKS; the
 * clock moved through one has moved for all.
 *
 * Without redis-server the file is skipped, saying so, except in CI (CI=true), where its absence is
 * a failure: .ci/run installs it.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureClients, fixtureUsers } from '../fixtures.ts';
import { loadProfile } from '../profile/index.ts';
import { redisSkipReason } from './redis-server.ts';
import { ReplicaClient } from './replica-client.ts';
import { startCluster, type Cluster } from './replica-processes.ts';

const skip = await redisSkipReason();
if (skip) console.warn(`mock replicas on Redis skipped: ${skip}`);

const profile = await loadProfile('telenorid-plus');
const clients = fixtureClients(profile);
// Mobile: public (PKCE), rotation, reuse revokes the family, concurrentRefresh single-winner (the default).
const mobile = clients.find((c) => c.policy === 'Mobile')!;
const resourceServer = clients.find((c) => c.resourceServer)!;
const users = fixtureUsers();
const basic = `Basic ${Buffer.from(`${encodeURIComponent(resourceServer.id)}:${encodeURIComponent(resourceServer.secret!)}`).toString('base64')}`;

describe.skipIf(skip !== undefined)('three mock replicas on one Redis store', () => {
  let cluster: Cluster;
  const http = new ReplicaClient(20);
  const origin = (i: number) => cluster.replicas[i % cluster.replicas.length]!.origin;
  const login = (authorizeAt: number, exchangeAt: number, username = users[0]!.username) =>
    http.login(origin(authorizeAt), origin(exchangeAt), { clientId: mobile.id, redirectUri: mobile.redirectUris[0]!, username });

  beforeAll(async () => {
    cluster = await startCluster({ count: 3 });
  }, 120_000);

  afterAll(async () => {
    await http.close();
    await cluster?.stop();
  }, 30_000);

  test('of 50 concurrent refreshes of one token spread over the 3 replicas, exactly one wins, over 1 000 trials', async () => {
    const TRIALS = 1000;
    const RACERS = 50;
    const started = performance.now();
    let loginMs = 0;
    const wins = [0, 0, 0];
    const bad: string[] = [];
    // Tokens are minted 25 at a time, each authorized at one replica and exchanged at the next.
    const BATCH = 25;
    for (let first = 0; first < TRIALS; first += BATCH) {
      const t0 = performance.now();
      const tokens = await Promise.all(Array.from({ length: Math.min(BATCH, TRIALS - first) }, (_, j) => login(first + j, first + j + 1)));
      loginMs += performance.now() - t0;
      for (const [j, t] of tokens.entries()) {
        const trial = first + j;
        // All 50 sent at once, racer r to replica r mod 3, over connections already open.
        const answers = await Promise.all(Array.from({ length: RACERS }, (_, r) => http.refresh(origin(r + trial), t.refresh_token!, mobile.id)));
        const won = answers.flatMap((a, r) => (a.status === 200 ? [(r + trial) % 3] : []));
        for (const w of won) wins[w]!++;
        const refusals = answers.filter((a) => a.status === 400 && a.json?.error === 'invalid_grant').length;
        if (won.length !== 1 || refusals !== RACERS - 1) {
          const seen = answers.map((a) => `${a.status} ${a.json?.error ?? ''}`.trim());
          bad.push(`trial ${trial}: ${won.length} won, ${refusals} refused with invalid_grant; answers: ${[...new Set(seen)].map((s) => `${s} x${seen.filter((x) => x === s).length}`).join(', ')}`);
        }
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `replicas: ${TRIALS} trials of ${RACERS} concurrent refreshes over 3 replicas in ${seconds.toFixed(1)} s (logins ${(loginMs / 1000).toFixed(1)} s); wins by replica ${wins.join(' / ')}`,
    );
    expect(bad.slice(0, 10), `${bad.length} trial(s) without exactly one winner`).toEqual([]);
    expect(wins.reduce((a, b) => a + b, 0)).toBe(TRIALS);
    // Every replica won some: the race really was between processes.
    for (const w of wins) expect(w).toBeGreaterThan(0);
  }, 600_000);

  test('a family revoked through one replica is refused at once by the others, with its access tokens', async () => {
    const tokens = await login(0, 1, users[1]!.username);
    const introspect = (at: number, token: string) => http.form(origin(at), '/introspect', { token }, { authorization: basic });
    expect((await introspect(2, tokens.access_token!)).json).toMatchObject({ active: true });
    // RFC 7009: revocation of the refresh token through replica 0.
    const revoked = await http.form(origin(0), '/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: mobile.id });
    expect(revoked.status).toBe(200);
    for (const at of [1, 2]) {
      const r = await http.refresh(origin(at), tokens.refresh_token!, mobile.id);
      expect(r.status, `replica ${at}`).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_grant' });
      expect((await introspect(at, tokens.access_token!)).json).toEqual({ active: false });
    }

    // Consent withdrawn through one replica's control API: the next refresh at another is refused.
    const other = await login(2, 0, users[2]!.username);
    const withdrawn = await http.control(origin(1), cluster.adminToken, 'POST', '/grants/revoke', { username: users[2]!.username });
    expect(withdrawn.json).toEqual({ revoked: 1 });
    const r = await http.refresh(origin(2), other.refresh_token!, mobile.id);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_grant' });
  }, 60_000);

  test('an id_token from one replica verifies against the JWKS of each other one (one set of signing keys)', async () => {
    const tokens = await login(0, 0, users[3]!.username);
    const sets = await Promise.all([0, 1, 2].map(async (i) => (await http.send(origin(i), 'GET', '/jwks')).json as JSONWebKeySet));
    expect(sets[1]).toEqual(sets[0]);
    expect(sets[2]).toEqual(sets[0]);
    for (const i of [1, 2]) {
      const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(sets[i]!), { issuer: cluster.proxy.url, audience: mobile.id });
      expect(payload.sub).toBe(users[3]!.sub);
    }
    // And one refreshed at replica 2 (signed there) against replica 0's.
    const refreshed = await http.refresh(origin(2), tokens.refresh_token!, mobile.id);
    expect(refreshed.status).toBe(200);
    await jwtVerify(refreshed.json.id_token, createLocalJWKSet(sets[0]!), { issuer: cluster.proxy.url, audience: mobile.id });
  }, 60_000);

  test('the clock moved through one replica has moved for the others', async () => {
    const now = async (i: number) => ((await http.control(origin(i), cluster.adminToken, 'GET', '/clock')).json as { now: number }).now;
    const before = await now(2);
    const advanced = await http.control(origin(0), cluster.adminToken, 'POST', '/clock/advance', { seconds: 86_400 });
    expect(advanced.status).toBe(200);
    for (const i of [1, 2]) {
      const seen = await now(i);
      // The clocks run (wall time plus the shared offset): a day ahead, plus the seconds the test took.
      expect(seen - before, `replica ${i}`).toBeGreaterThanOrEqual(86_400);
      expect(seen - before, `replica ${i}`).toBeLessThan(86_400 + 60);
    }
    expect((await http.control(origin(1), cluster.adminToken, 'POST', '/reset')).status).toBe(200);
    expect((await now(2)) - before).toBeLessThan(60);
  }, 60_000);
});
