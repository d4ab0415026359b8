/**
 * The report's token book draws the expiry the profile declares for what happened. Its oracle is
 * hand-written per policy (numbers from the profiles' lifetimes), not a copy of the rules: the book
 * itself reads them from the refresh model (mock-idp/profile/model.ts).
 */
import { describe, expect, test } from 'vitest';
import type { Tokens } from '../checks/types.ts';
import { loadProfile, type Profile } from '../../mock-idp/index.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { fingerprint } from '../harness/redact.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { targetClients } from './connection.ts';
import { createTokenBook } from './timeline.ts';

async function book(profile: Profile, clientPolicy: string) {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, profile } as Target;
  const client = targetClients(target).find((c) => c.policy === clientPolicy)!;
  let t = 0;
  const b = createTokenBook(target, client, () => t);
  return { at: (s: number) => void (t = s), b, lifetime: profile.policies[clientPolicy]!.lifetimeSeconds! };
}

const answer = (refresh_token?: string, status = 200): Tokens =>
  ({ status, headers: new Headers(), body: status === 200 ? {} : { error: 'invalid_grant' }, exchange: {} as Tokens['exchange'], sentAt: 0, receivedAt: 0, ...(refresh_token && { refresh_token }) }) as Tokens;

describe('the token book draws the declared expiry of what happened', () => {
  test('sliding with rotation (telenorid-plus Mobile, 90 d): each new token lives a full lifetime from its issue', async () => {
    const { at, b, lifetime } = await book(await loadProfile('telenorid-plus'), 'Mobile');
    expect(lifetime).toBe(7_776_000);
    expect(b.loggedIn(answer('rt-0')).token).toMatchObject({ id: fingerprint('rt-0'), issuedAt: 0, expiresAt: 7_776_000, expiry: 'sliding' });
    at(100);
    expect(b.refreshed('rt-0', answer('rt-1')).token).toMatchObject({ id: fingerprint('rt-1'), issuedAt: 100, expiresAt: 7_776_100 });
  });

  test('fixed without rotation (telenorid-plus Confidential, 14 d): a refresh keeps the first issue + lifetime', async () => {
    const { at, b } = await book(await loadProfile('telenorid-plus'), 'Confidential');
    b.loggedIn(answer('rt-0'));
    at(100);
    expect(b.refreshed('rt-0', answer()).token).toMatchObject({ id: fingerprint('rt-0'), expiresAt: 1_209_600, expiry: 'fixed' });
  });

  test('sliding without rotation (erp-net reject-grace-mixed Interactive): a refresh renews the presented token', async () => {
    const variant = (await loadVariants()).find((p) => p.name === 'erp-net-reject-grace-mixed')!;
    const { at, b, lifetime } = await book(variant, 'Interactive');
    b.loggedIn(answer('rt-0'));
    at(100);
    expect(b.refreshed('rt-0', answer()).token).toMatchObject({ id: fingerprint('rt-0'), expiresAt: 100 + lifetime, expiry: 'sliding' });
  });

  test('after the SSO session, with refresh refused there (telenorid-plus-sso-invalid-grant Mobile): no new lifetime is drawn', async () => {
    const variant = (await loadVariants()).find((p) => p.name === 'telenorid-plus-sso-invalid-grant')!;
    const { at, b } = await book(variant, 'Mobile');
    b.loggedIn(answer('rt-0'));
    at(50);
    b.loggedOut();
    at(100);
    // The IdP answered with a new token anyway: the profile declares none, so it gets no declared expiry.
    const entry = b.refreshed('rt-0', answer('rt-1'));
    expect(entry.token).toMatchObject({ id: fingerprint('rt-1'), issuedAt: 100 });
    expect(entry.token?.expiresAt).toBeUndefined();
  });

  test('an online token (erp-net-keycloak-like Interactive, login without offline_access): drawn with the online lifetime (1800 s), not the policy\'s', async () => {
    const variant = (await loadVariants()).find((p) => p.name === 'erp-net-keycloak-like')!;
    const { at, b } = await book(variant, 'Interactive');
    const login = b.loggedIn(answer('rt-0'), null, false);
    expect(login).toMatchObject({ label: 'online token', token: { id: fingerprint('rt-0'), expiresAt: 1800, expiry: 'sliding' } });
    at(1000);
    expect(b.refreshed('rt-0', answer('rt-1')).token).toMatchObject({ id: fingerprint('rt-1'), expiresAt: 2800 });
    // The offline token of the same profile lives the policy's 30 days.
    const offline = await book(variant, 'Interactive');
    expect(offline.b.loggedIn(answer('rt-x')).token).toMatchObject({ expiresAt: 2_592_000 });
  });

  test('the same successor again (telenorid-plus-auth0-like Mobile, concurrentRefresh same-successor): one lane, labelled a repeat', async () => {
    const variant = (await loadVariants()).find((p) => p.name === 'telenorid-plus-auth0-like')!;
    const { b, lifetime } = await book(variant, 'Mobile');
    b.loggedIn(answer('rt-0'));
    expect(b.refreshed('rt-0', answer('rt-1'))).toMatchObject({ kind: 'rotation', token: { id: fingerprint('rt-1'), expiresAt: lifetime } });
    const again = b.refreshed('rt-0', answer('rt-1'));
    expect(again).toMatchObject({ kind: 'rotation', label: 'same successor again', token: { id: fingerprint('rt-1'), expiresAt: lifetime } });
  });
});
