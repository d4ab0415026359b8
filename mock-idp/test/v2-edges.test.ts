/**
 * Edges of the schema-v2 fields the variant oracle (expectations.ts) does not reach: refresh_expires_in
 * with a kept and with a consumed token after the SSO session, the same-successor repeat with the store
 * holding hashes only, and grace retries after a repeat. In-process, on the mock's frozen clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMockIdp } from '../idp.ts';
import { loadProfile, parseProfile, type Profile } from '../profile/index.ts';
import { Store } from '../store.ts';
import { IdpClient } from './client.ts';

const telenor = await loadProfile('telenorid-plus');
const bugs: unknown[] = [];
afterEach(() => expect(bugs.splice(0)).toEqual([]));
let n = 0;

function variant(change: Partial<Profile>): Profile {
  return parseProfile({ ...telenor, ...change, name: `edge-${++n}` }, 'edge variant');
}

async function start(profile: Profile, store = new Store()): Promise<IdpClient> {
  const idp = await createMockIdp({ profile, issuer: `https://v2-edges-${++n}.test`, testMode: true, store, onError: (e) => bugs.push(e) });
  return new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
}

describe('refresh_expires_in after the SSO session', () => {
  it('a kept token (no new refresh token): its remaining lifetime, counting down', async () => {
    const c = await start(variant({ refreshExpiresIn: true }));
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    expect(t.refresh_expires_in).toBe(7776000);
    await c.idp.control.advance(1000);
    await c.idp.control.endSsoSession({ username: c.user.username });
    const r = await c.refresh(client, t.refresh_token!);
    expect(r.status, r.text).toBe(200);
    expect(r.body).not.toHaveProperty('refresh_token');
    expect(r.body.refresh_expires_in).toBe(7776000 - 1000);
  });

  it('a consumed token: no live refresh token, so no refresh_expires_in', async () => {
    const c = await start(variant({ refreshExpiresIn: true, presentedTokenAfterSsoEnd: 'consumed' }));
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    await c.idp.control.endSsoSession({ username: c.user.username });
    const r = await c.refresh(client, t.refresh_token!);
    expect(r.status, r.text).toBe(200);
    expect(r.body.access_token).toEqual(expect.any(String));
    expect(r.body).not.toHaveProperty('refresh_expires_in');
  });

  it('an error response never carries it', async () => {
    const c = await start(variant({ refreshExpiresIn: true }));
    const r = await c.refresh(c.client('Mobile'), 'never-issued');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
  });
});

describe('same-successor repeats', () => {
  it('the store holds no raw refresh token, yet a repeat hands out the successor again', async () => {
    const store = new Store();
    const c = await start(variant({ concurrentRefresh: 'same-successor' }), store);
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    const [a, b] = await Promise.all([c.refresh(client, t.refresh_token!), c.refresh(client, t.refresh_token!)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.refresh_token).toBe(a.body.refresh_token);
    const held = JSON.stringify([...store.families()]);
    for (const raw of [t.refresh_token!, a.body.refresh_token as string]) expect(held).not.toContain(raw);
    expect(store.refreshToken(a.body.refresh_token)).toBeUndefined();
  });

  it('a repeat after the second of the rotation is reuse; another IdP instance derives other tokens', async () => {
    const profile = variant({ concurrentRefresh: 'same-successor', reuseOfRotatedToken: 'reject' });
    const c = await start(profile);
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    const first = await c.refresh(client, t.refresh_token!);
    await c.idp.control.advance(1);
    const late = await c.refresh(client, t.refresh_token!);
    expect({ status: late.status, error: late.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    // Successors are keyed per instance: another mock derives another token.
    const other = await start(profile);
    const t2 = await other.tokens(other.client('Mobile'));
    const r2 = await other.refresh(other.client('Mobile'), t2.refresh_token!);
    expect(r2.body.refresh_token).not.toBe(first.body.refresh_token);
  });

  it('with a grace window too: retries after the repeat second get new successors, as many as graceReuseCount', async () => {
    const c = await start(variant({ concurrentRefresh: 'same-successor', graceWindowSeconds: 30, graceReuseCount: 2 }));
    const client = c.client('Mobile');
    const t = await c.tokens(client);
    const [a, b] = await Promise.all([c.refresh(client, t.refresh_token!), c.refresh(client, t.refresh_token!)]);
    expect(b.body.refresh_token).toBe(a.body.refresh_token);
    await c.idp.control.advance(5);
    const retry = await c.refresh(client, t.refresh_token!);
    expect(retry.status, retry.text).toBe(200);
    expect((await c.idp.control.refreshToken(a.body.refresh_token))).toMatchObject({ active: false, state: 'rotated' });
    // A repeat belongs to the second the presented token was rotated in, not to its retries: in the
    // retry's second another presentation is the second grace retry, then the count is spent.
    const again = await c.refresh(client, t.refresh_token!);
    expect(again.status, again.text).toBe(200);
    expect(new Set([a.body.refresh_token, retry.body.refresh_token, again.body.refresh_token]).size).toBe(3);
    const spent = await c.refresh(client, t.refresh_token!);
    expect({ status: spent.status, error: spent.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
  });
});
