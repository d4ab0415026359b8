/**
 * The refresh model's answers the v2 checks ask for (suites/checks/util.ts over mock-idp/profile/model.ts),
 * written out by hand from the variants (mock-idp/profile/variants.ts): keycloak-like Interactive is
 * 30 d sliding (2592000 s) capped at 60 d (5184000 s), a 30 s grace window reused up to 3 times;
 * auth0-like answers invalid_grant 403, same-successor, access-token introspection, no id_token on refresh.
 */
import { describe, expect, test } from 'vitest';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { introspects, refreshIdToken, refusalStatus } from '../../mock-idp/profile/model.ts';
import type { Profile } from '../../mock-idp/index.ts';
import { absoluteCap, concurrentSuccessors, graceRetries, onlineTokenIssued, refreshExpiresInAt, refreshIdTokenRule } from '../checks/util.ts';

const variants = await loadVariants();
const profile = (name: string): Profile => variants.find((p) => p.name === name)!;
const input = (p: Profile, policy: string) => ({ profile: p, policy: p.policies[policy]!, client: { id: 'c', auth: 'none' as const, policy, scope: 'openid profile' } });

const keycloak = profile('erp-net-keycloak-like');
const auth0 = profile('telenorid-plus-auth0-like');
const telenor = profile('telenorid-plus');

describe('token endpoint terms', () => {
  test('the invalid_grant status is the profile\'s; other refusals stay 400', () => {
    expect(refusalStatus(auth0, 'invalid_grant')).toBe(403);
    expect(refusalStatus(auth0, 'invalid_scope')).toBe(400);
    expect(refusalStatus(telenor, 'invalid_grant')).toBe(400);
  });

  test('introspection coverage and the id_token on refresh', () => {
    expect([introspects(auth0, 'access_token'), introspects(auth0, 'refresh_token')]).toEqual([true, false]);
    expect([introspects(telenor, 'access_token'), introspects(telenor, 'refresh_token')]).toEqual([true, true]);
    expect([refreshIdToken(telenor, ['openid']), refreshIdToken(auth0, ['openid']), refreshIdToken(keycloak, ['openid']), refreshIdToken(telenor, ['profile'])]).toEqual([
      'required',
      'absent',
      'optional',
      'absent',
    ]);
    expect(refreshIdTokenRule(input(telenor, 'Mobile'))).toBe('required');
  });

  test('refresh_expires_in: the remaining lifetime of the token held (sliding renews it, fixed counts down), none where not declared', () => {
    expect(refreshExpiresInAt(input(keycloak, 'Interactive'), 5)).toEqual({ login: 2_592_000, refresh: 2_592_000 });
    const mixed = { ...profile('erp-net-reject-grace-mixed'), refreshExpiresIn: true };
    expect(refreshExpiresInAt(input(mixed, 'InteractiveFixed'), 5)).toEqual({ login: 3600, refresh: 3595 });
    expect(refreshExpiresInAt(input(telenor, 'Mobile'), 5)).toEqual({ login: undefined, refresh: undefined });
  });
});

describe('issue and concurrency', () => {
  test('online tokens where refreshTokenIssuance is always, for refreshing policies only', () => {
    expect(onlineTokenIssued(input(keycloak, 'Interactive'))).toBe(true);
    expect(onlineTokenIssued(input(auth0, 'NoRefresh'))).toBe(false);
    expect(onlineTokenIssued(input(telenor, 'Mobile'))).toBe(false);
  });

  test('n concurrent refreshes: one winner; n winners with one successor (same-successor); one more winner per grace retry, each a new token', () => {
    expect(concurrentSuccessors(input(telenor, 'Mobile'), 8)).toEqual({ winners: 1, successors: 1 });
    expect(concurrentSuccessors(input(auth0, 'Mobile'), 8)).toEqual({ winners: 8, successors: 1 });
    expect(concurrentSuccessors(input(keycloak, 'Interactive'), 8)).toEqual({ winners: 4, successors: 4 });
  });
});

describe('grace retries', () => {
  test('keycloak-like: from the rotation\'s second, 3 retries, the window 30 s, ended by the reuse guard', () => {
    expect(graceRetries(input(keycloak, 'Interactive'))).toEqual({ at: 0, count: 3, until: 30, endsBy: 'reuse' });
  });

  test('one retry by default (telenorid-plus-sso-consumed-grace); none without a window, a same-second repeat is no grace retry', () => {
    expect(graceRetries(input(profile('telenorid-plus-sso-consumed-grace'), 'Mobile'))).toEqual({ at: 0, count: 1, until: 30, endsBy: 'reuse' });
    expect(graceRetries(input(telenor, 'Mobile'))).toBeUndefined();
    expect(graceRetries(input(auth0, 'Mobile'))).toBeUndefined();
    // Same-successor with a window: the retry in the rotation's second is a repeat, so grace retries start a second later.
    const both = { ...auth0, graceWindowSeconds: 10 };
    expect(graceRetries(input(both, 'Mobile'))).toEqual({ at: 1, count: 1, until: 10, endsBy: 'reuse' });
  });
});

describe('the absolute maximum', () => {
  test('keycloak-like Interactive: refresh every 15 d, refused at 60 d', () => {
    expect(absoluteCap(input(keycloak, 'Interactive'))).toEqual({ observable: true, refreshes: [1_296_000, 2_592_000, 3_888_000], max: 5_184_000, lifetime: 2_592_000 });
  });

  test('not observable without a maximum, or where the SSO session ends refresh before it', () => {
    expect(absoluteCap(input(profile('erp-net'), 'Interactive'))).toMatchObject({ observable: false, reason: expect.stringMatching(/no absolute maximum/) });
    // telenorid-plus-sso-invalid-grant Mobile (90 d sliding) with a 100 d maximum: the 8 h SSO session refuses first.
    const sso = profile('telenorid-plus-sso-invalid-grant');
    const capped = { ...sso, policies: { ...sso.policies, Mobile: { ...sso.policies.Mobile!, maxLifetimeSeconds: 8_640_000 } } };
    expect(absoluteCap(input(capped, 'Mobile'))).toMatchObject({ observable: false, reason: expect.stringMatching(/45 d after login does not renew the token \(SSO session is not active\)/) });
    // Too many refreshes to reach it: 10 min idle, 10 h maximum.
    const short = { ...telenor, policies: { ...telenor.policies, PublicWeb: { ...telenor.policies.PublicWeb!, maxLifetimeSeconds: 36_000 } } };
    expect(absoluteCap(input(short, 'PublicWeb'))).toMatchObject({ observable: false, reason: expect.stringMatching(/takes 119 refreshes/) });
  });
});
