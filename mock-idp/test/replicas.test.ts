/**
 * Two mock instances over ONE store: two replicas of one IdP in one process (as several processes
 * over one Redis, without the network). Each has its own clock, keys it would make and DPoP state;
 * what they must agree on comes from the store: the signing key (an ID token of one verifies with
 * the other's JWKS), the token key (a refresh token of one refreshes on the other, a DPoP nonce of
 * one is accepted by the other), the clock offset (an advance through one's control is seen by the
 * other), the DPoP jti cache (a proof replayed across them is refused), and the compare-and-set
 * operations (of 50 concurrent refreshes of one token spread over both, exactly one wins).
 * Every test runs twice: over one replicated in-memory Store, and over a RedisStore each (two
 * connections to one redis-server, one key prefix), as replicas in separate processes would be.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createProof, generateDpopKey, type DpopKey } from '../../suites/harness/dpop.ts';
import { createClock, type Clock } from '../clock.ts';
import { createMockIdp, type MockIdp } from '../idp.ts';
import { loadProfile, type Profile } from '../profile/index.ts';
import { loadVariants } from '../profile/variants.ts';
import { createRedisStore } from '../redis-store.ts';
import { Store, type MockStore } from '../store.ts';
import { Browser, IdpClient, basic, parseForms, pkce } from './client.ts';
import { redisSkipReason, startRedis, type RunningRedis } from './redis-server.ts';

const ISSUER = 'https://replicas.test';
const START = 1_800_000_000;

/** What the two replicas keep their state in: the store of each, given its clock. */
type Backing = { name: string; stores: (clocks: Clock[]) => Promise<MockStore[]> };

const redisSkip = await redisSkipReason();
if (redisSkip) console.warn(`replicas over RedisStore skipped: ${redisSkip}`);
let redis: RunningRedis | undefined;
const opened: MockStore[] = [];
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close?.()));
  await redis?.stop();
});

const backings: Backing[] = [
  {
    name: 'one replicated in-memory Store',
    stores: async (clocks) => {
      const store = new Store({ replicated: true });
      return clocks.map(() => store);
    },
  },
  ...(redisSkip
    ? []
    : [
        {
          name: 'a RedisStore each (one redis-server, one prefix)',
          stores: async (clocks: Clock[]) => {
            redis ??= await startRedis();
            const prefix = `replicas:${randomUUID()}:`;
            const stores = await Promise.all(clocks.map((clock) => createRedisStore({ url: redis!.url, prefix, now: () => clock.now() })));
            opened.push(...stores);
            return stores;
          },
        },
      ]),
];

/** Two replicas over their backing; the admin token is configuration, the same for both. */
async function replicasOver(profile: Profile, backing: Backing): Promise<{ a: IdpClient; b: IdpClient }> {
  const clocks = [createClock({ start: START }), createClock({ start: START })];
  const stores = await backing.stores(clocks);
  const start = (i: number) => createMockIdp({ profile, issuer: ISSUER, testMode: true, adminToken: 'replicas-admin', store: stores[i]!, clock: clocks[i]! });
  const [ia, ib] = [await start(0), await start(1)];
  const client = (idp: MockIdp) => new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
  return { a: client(ia), b: client(ib) };
}

describe.each(backings)('two replicas over $name', (backing) => {
  const replicas = (profile: Profile) => replicasOver(profile, backing);

  it('share the signing key, the grants and the clock: a token of one is good on the other', async () => {
    const { a, b } = await replicas(await loadProfile('telenorid-plus'));
    expect(b.idp.adminToken).toBe(a.idp.adminToken);
    expect((await b.get('/jwks')).body).toEqual((await a.get('/jwks')).body);
    const mobile = a.client('Mobile');
    const t = await a.tokens(mobile);
    // An ID token of A verifies against B's JWKS (B's discovery, B's jwks_uri).
    expect((await b.verifyIdToken(t.id_token!, mobile)).sub).toBe(a.user.sub);
    // A's refresh token refreshes on B, B's successor on A; A's access token is good at B's userinfo and introspection.
    const onB = await b.refresh(mobile, t.refresh_token!);
    expect(onB.status, onB.text).toBe(200);
    expect((await b.verifyIdToken(onB.body.id_token, mobile)).sub).toBe(a.user.sub);
    expect(await a.verifyIdToken(onB.body.id_token, mobile)).toBeTruthy();
    expect((await a.refresh(mobile, onB.body.refresh_token)).status).toBe(200);
    expect((await b.userinfo(t.access_token)).status).toBe(200);
    expect(await b.active(t.access_token)).toBe(true);
    // The replay of the first token on A is a reuse: the family B rotated is revoked, for both.
    expect((await a.refresh(mobile, t.refresh_token!)).status).toBe(400);
    expect(await b.idp.control.families({ username: a.user.username })).toMatchObject([{ revokedReason: 'rotated-out refresh token was reused' }]);
    // A code issued by A is exchanged at B.
    const signedIn = await a.signIn(mobile);
    expect((await b.exchange(mobile, signedIn.code, signedIn.verifier)).status).toBe(200);
    expect((await a.exchange(mobile, signedIn.code, signedIn.verifier)).status).toBe(400);
    // The SSO session A's login started is B's too; logout at B ends it for A.
    expect((await b.authorize(mobile, { cookie: signedIn.cookie!, loginHint: null })).location?.searchParams.get('code')).toBeTruthy();
    expect((await b.control('POST', '/sso/end', { username: a.user.username })).body.ended).toBe(2);
    expect((await a.authorize(mobile, { cookie: signedIn.cookie!, loginHint: null, prompt: 'none' })).location?.searchParams.get('error')).toBe('login_required');
    expect([...a.violations, ...b.violations]).toEqual([]);
  });

  it('an advance through one replica’s control API is seen by the other on its next request; a reset too', async () => {
    const profile = await loadProfile('telenorid-plus');
    const { a, b } = await replicas(profile);
    const mobile = a.client('Mobile');
    const t = await a.tokens(mobile);
    const before = (await b.control('GET', '/clock')).body.now;
    expect(before).toBe(START);
    expect((await a.control('POST', '/clock/advance', { seconds: profile.accessTokenLifetimeSeconds })).body.now).toBe(START + profile.accessTokenLifetimeSeconds);
    expect((await b.control('GET', '/clock')).body.now).toBe(START + profile.accessTokenLifetimeSeconds);
    // B judges by the shared time: A's access token has expired there.
    expect((await b.userinfo(t.access_token)).status).toBe(401);
    expect(await b.idp.control.now()).toBe(START + profile.accessTokenLifetimeSeconds);
    // In-process control of B moves A's clock too; the bound on the total offset holds across replicas.
    expect(await b.idp.control.advance(10)).toBe(START + profile.accessTokenLifetimeSeconds + 10);
    expect((await a.control('GET', '/clock')).body.now).toBe(START + profile.accessTokenLifetimeSeconds + 10);
    await b.control('POST', '/reset');
    expect((await a.control('GET', '/clock')).body.now).toBe(START);
    expect(await a.idp.control.families({ username: a.user.username })).toEqual([]);
    expect([...a.violations, ...b.violations]).toEqual([]);
  });

  it('share the DPoP state: a nonce of one is accepted by the other, a proof used at one is a replay at the other', async () => {
    const profile = (await loadVariants()).find((p) => p.name === 'erp-net-dpop')!;
    const { a, b } = await replicas(profile);
    const client = a.client('InteractivePublic');
    const key: DpopKey = await generateDpopKey();
    const proof = (o: { nonce?: string; jti?: string } = {}) =>
      createProof(key, { htm: 'POST', htu: `${ISSUER}/token`, iat: START, ...(o.nonce !== undefined && { nonce: o.nonce }), ...(o.jti !== undefined && { jti: o.jti }) });
    const { code, verifier } = await a.signIn(client, { scope: `openid ${profile.offlineAccessScope}` });
    const params = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier, client_id: client.id };
    const first = await a.form('/token', params, { dpop: await proof() });
    expect([first.status, first.body.error]).toEqual([400, 'use_dpop_nonce']);
    const nonce = first.headers.get('dpop-nonce')!;
    // A's nonce at B: accepted (the exchange succeeds, bound to the key).
    const exchanged = await b.form('/token', params, { dpop: await proof({ nonce }) });
    expect([exchanged.status, exchanged.body.token_type], exchanged.text).toEqual([200, 'DPoP']);
    expect(exchanged.headers.get('dpop-nonce')).toBe(nonce);
    // One proof, used at A, then replayed at B: refused there as a replay.
    const refresh = { grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token, client_id: client.id };
    const once = await proof({ nonce, jti: 'replayed-across-replicas' });
    const used = await a.form('/token', refresh, { dpop: once });
    expect(used.status, used.text).toBe(200);
    // The live refresh token: the successor where the policy rotates, else the same one.
    const live = { ...refresh, refresh_token: used.body.refresh_token ?? refresh.refresh_token };
    const replayed = await b.form('/token', live, { dpop: once });
    expect([replayed.status, replayed.body.error]).toEqual([400, 'invalid_dpop_proof']);
    expect(replayed.body.error_description).toMatch(/jti was already used/);
    // A fresh proof with the same nonce works at B.
    const fresh = await b.form('/token', live, { dpop: await proof({ nonce }) });
    expect(fresh.status, fresh.text).toBe(200);
    expect([...a.violations, ...b.violations]).toEqual([]);
  });

  it('a code exchanged at both at once is used twice: one answer, whose tokens are then revoked; a login form completes once', async () => {
    const { a, b } = await replicas(await loadProfile('telenorid-plus'));
    const mobile = a.client('Mobile');
    for (let i = 0; i < 20; i++) {
      const { code, verifier } = await a.signIn(mobile);
      const [ra, rb] = await Promise.all([a.exchange(mobile, code, verifier), b.exchange(mobile, code, verifier)]);
      const won = [ra, rb].filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      expect([ra, rb].find((r) => r.status !== 200)!.body.error).toBe('invalid_grant');
      // RFC 6749 §4.1.2: the second use revokes what the code issued, whichever request came second.
      expect(await b.active(won[0]!.body.access_token)).toBe(false);
      expect((await a.refresh(mobile, won[0]!.body.refresh_token)).status).toBe(400);
    }
    // One login form, submitted to both replicas at once: one code, one refusal.
    const browser = new Browser(a);
    const url = a.authorizeUrl(mobile, { loginHint: null }, pkce());
    const [formA] = parseForms((await browser.request(url)).text, url);
    const submitted = await Promise.all([browser, new Browser(b, browser.jar)].map((br) => br.submit(formA!, { username: a.user.username, password: a.user.password })));
    expect(submitted.map((r) => r.status).sort()).toEqual([302, 400]);
    expect([...a.violations, ...b.violations]).toEqual([]);
  });

  it('of 50 concurrent refreshes of one token spread over both, exactly one wins (100 races, revoke-family and reject)', async () => {
    for (const reuse of ['revoke-family', 'reject'] as const) {
      const profile: Profile = { ...(await loadProfile('telenorid-plus')), reuseOfRotatedToken: reuse };
      const { a, b } = await replicas(profile);
      const mobile = a.client('Mobile');
      const auth: Record<string, string> = mobile.secret !== undefined ? { authorization: basic(mobile.id, mobile.secret) } : {};
      for (let i = 0; i < 100; i++) {
        await a.idp.control.reset();
        const t = await a.tokens(mobile);
        const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, ...(mobile.secret === undefined && { client_id: mobile.id }) }).toString();
        const replies = await Promise.all(
          Array.from({ length: 50 }, async (_, n) => {
            const idp = (n % 2 === 0 ? a : b).idp;
            const res = await idp.fetch(new Request(`${ISSUER}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body }));
            return { status: res.status, body: (await res.json()) as Record<string, string> };
          }),
        );
        const winners = replies.filter((r) => r.status === 200);
        expect(winners).toHaveLength(1);
        expect(replies.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(49);
        const [family] = await b.idp.control.families({ username: a.user.username });
        expect(family!.tokens.map((x) => [x.generation, x.state])).toEqual(
          reuse === 'revoke-family'
            ? [
                [0, 'revoked'],
                [1, 'revoked'],
              ]
            : [
                [0, 'rotated'],
                [1, 'active'],
              ],
        );
        if (i % 25 === 0) {
          // The winner's tokens, on the other replica: dead with the revoked family, alive otherwise.
          expect(await b.active(winners[0]!.body.access_token!)).toBe(reuse === 'reject');
          expect((await b.refresh(mobile, winners[0]!.body.refresh_token!)).status).toBe(reuse === 'reject' ? 200 : 400);
        }
      }
      expect([...a.violations, ...b.violations]).toEqual([]);
    }
  }, 120_000);
});
