/**
 * The refresh model (profile/model.ts): its step is pure, its histories give the values a correct
 * IdP must show, and its derived queries answer what the checks need. Expected values are written
 * out by hand from the profiles (seconds: telenorid-plus S = 28800, Mobile 7776000, PublicWeb 600,
 * Confidential 1209600 fixed; erp-net Interactive 2592000).
 */
import { describe, expect, it } from 'vitest';
import { loadVariants } from '../profile/variants.ts';
import {
  ModelError,
  aliveAt,
  decideIssue,
  decideRefresh,
  expiryOf,
  refreshOutcomeAt,
  replay,
  slidesUntil,
  slidingChain,
  ssoEndOutcome,
  type FamilyRecord,
  type ModelEvent,
  type TokenRecord,
} from '../profile/model.ts';
import type { Profile, RefreshPolicy } from '../profile/index.ts';

const variants = await loadVariants();
const byName = (name: string): Profile => variants.find((p) => p.name === name)!;
const telenor = byName('telenorid-plus');
const erp = byName('erp-net');
const invalidGrant = byName('telenorid-plus-sso-invalid-grant');
const consumed = byName('telenorid-plus-sso-consumed-grace');
const mixed = byName('erp-net-reject-grace-mixed');
const keycloak = byName('erp-net-keycloak-like');
const auth0 = byName('telenorid-plus-auth0-like');
const unbound = byName('erp-net-always-unbound');

const S = 28800;
const MOBILE = 7776000;

const issue = (at = 0, token = 't0'): ModelEvent => ({ kind: 'issue', at, token });
const refresh = (at: number, token: string, as?: string): ModelEvent => ({ kind: 'refresh', at, token, ...(as && { as }) });
const kinds = (events: ModelEvent[], profile: Profile, policy: string) => replay(profile, policy, events).map((s) => s.outcome.kind);

describe('the step is pure', () => {
  it('the reuse guard of a revoke-family profile asks for the revocation and changes nothing', () => {
    const rotated: TokenRecord = { hash: 'a', clientId: 'c', issuedAt: 0, expiresAt: 600, state: 'rotated', retiredAt: 5, usedAt: 5, successor: 'b' };
    const active: TokenRecord = { hash: 'b', clientId: 'c', issuedAt: 5, expiresAt: 605, state: 'active' };
    const family: FamilyRecord = { scope: ['openid', 'offline_access'], fixedExpiresAt: 600, tokens: [rotated, active] };
    const before = structuredClone(family);
    const policy = telenor.policies.PublicWeb as RefreshPolicy;
    const d = decideRefresh({ profile: telenor, policy, clientId: 'c', record: rotated, family, now: 10, requestedScope: undefined, ssoActive: true });
    expect(d).toMatchObject({ kind: 'refuse', by: 'reuse', error: 'invalid_grant', revokeFamily: expect.stringMatching(/reused/) });
    expect(family).toEqual(before);
    const rejectOnly = decideRefresh({ profile: invalidGrant, policy, clientId: 'c', record: rotated, family, now: 10, requestedScope: undefined, ssoActive: true });
    expect(rejectOnly).toMatchObject({ kind: 'refuse', by: 'reuse' });
    expect(rejectOnly).not.toHaveProperty('revokeFamily');
  });

  it('replay is deterministic and leaves its input alone', () => {
    const events = [issue(), refresh(10, 't0'), refresh(20, 't0')];
    const copy = structuredClone(events);
    expect(replay(telenor, 'Mobile', events)).toEqual(replay(telenor, 'Mobile', events));
    expect(events).toEqual(copy);
  });

  it('a history out of order, or a token issued twice, is a ModelError with a code', () => {
    expect(() => replay(telenor, 'Mobile', [issue(10), refresh(5, 't0')])).toThrow(expect.objectContaining({ code: 'MODEL_EVENT_ORDER' }));
    expect(() => replay(telenor, 'Mobile', [issue(), issue(1)])).toThrow(ModelError);
    expect(() => replay(telenor, 'Nope', [])).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN_POLICY' }));
  });
});

describe('histories', () => {
  it('rotation (telenorid-plus Mobile): a new token with a renewed lifetime; reuse revokes the family', () => {
    const steps = replay(telenor, 'Mobile', [issue(), refresh(100, 't0', 't1'), refresh(200, 't0')]);
    expect(steps[0]!.outcome).toEqual({ kind: 'issued', token: 't0', expiresAt: MOBILE, online: false });
    expect(steps[1]!.outcome).toEqual({ kind: 'rotated', token: 't1', expiresAt: 100 + MOBILE });
    expect(steps[1]!.tokens.t0).toEqual({ state: 'rotated', expiresAt: MOBILE, alive: false });
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', error: 'invalid_grant', by: 'reuse', familyRevoked: true });
    expect(steps[2]!.tokens.t1).toMatchObject({ state: 'revoked', alive: false });
    expect(aliveAt(steps, 't1', 150)).toBe(true);
    expect(aliveAt(steps, 't1', 200)).toBe(false);
  });

  it('reuse with reject (sso-invalid-grant variant): refused, the newest token lives on', () => {
    const steps = replay(invalidGrant, 'Mobile', [issue(), refresh(100, 't0', 't1'), refresh(200, 't0')]);
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', by: 'reuse', familyRevoked: false });
    expect(aliveAt(steps, 't1', 200)).toBe(true);
  });

  it('fixed expiry without rotation (Confidential): kept, the expiry stays first issue + lifetime', () => {
    const steps = replay(telenor, 'Confidential', [issue(), refresh(100, 't0'), refresh(1209599, 't0'), refresh(1209600, 't0')]);
    expect(steps.map((s) => s.outcome.kind)).toEqual(['issued', 'kept', 'kept', 'refused']);
    expect(expiryOf(steps, 't0')).toBe(1209600);
  });

  it('sliding without rotation (mixed variant, Interactive): the presented token is extended', () => {
    const steps = replay(mixed, 'Interactive', [issue(), refresh(1000, 't0')]);
    expect(steps[1]!.outcome).toEqual({ kind: 'extended', expiresAt: 1000 + 2592000 });
  });

  it('fixed expiry with rotation (mixed variant, InteractiveFixed): a new token with the family end', () => {
    const steps = replay(mixed, 'InteractiveFixed', [issue(), refresh(1000, 't0')]);
    expect(steps[1]!.outcome).toEqual({ kind: 'rotated', token: 't0.1', expiresAt: 3600 });
  });

  it('concurrent presentations: exactly one wins without grace; with a 30 s grace window the retry wins once more', () => {
    const race = [issue(), { kind: 'concurrent', at: 5, token: 't0', n: 8 } as ModelEvent];
    expect(kinds(race, telenor, 'Mobile')).toEqual(['issued', 'rotated', ...Array(7).fill('refused')]);
    expect(kinds(race, consumed, 'Mobile')).toEqual(['issued', 'rotated', 'rotated', ...Array(6).fill('refused')]);
  });

  it('after logout: kept (telenorid-plus), consumed (variant), refused (variant), rotated (erp-net)', () => {
    const events = [issue(), { kind: 'logout', at: 10 } as ModelEvent, refresh(20, 't0'), refresh(30, 't0')];
    expect(kinds(events, telenor, 'Mobile')).toEqual(['issued', 'session-ended', 'kept', 'kept']);
    expect(kinds(events, consumed, 'Mobile')).toEqual(['issued', 'session-ended', 'consumed', 'refused']);
    expect(kinds(events, invalidGrant, 'Mobile')).toEqual(['issued', 'session-ended', 'refused', 'refused']);
    expect(kinds(events, erp, 'Interactive')).toEqual(['issued', 'session-ended', 'rotated', 'refused']);
  });

  it('the SSO session ends by itself at login + ssoSessionLifetimeSeconds', () => {
    expect(refreshOutcomeAt(telenor, 'Mobile', S - 1).kind).toBe('rotated');
    expect(refreshOutcomeAt(telenor, 'Mobile', S).kind).toBe('kept');
    expect(refreshOutcomeAt(invalidGrant, 'Mobile', S)).toMatchObject({ kind: 'refused', by: 'sso' });
  });

  it('revocation revokes the family; an unknown token is refused', () => {
    const steps = replay(erp, 'Interactive', [issue(), refresh(1, 't0', 't1'), { kind: 'revoke', at: 2, token: 't1' }, refresh(3, 't1'), refresh(3, 'nope')]);
    expect(steps.map((s) => s.outcome.kind)).toEqual(['issued', 'rotated', 'revoked', 'refused', 'refused']);
    expect(steps[2]!.familyRevoked).toBe(true);
    expect(steps[4]!.outcome).toMatchObject({ by: 'unknown' });
  });

  it('no refresh token without offline access, nor for a policy that does not refresh', () => {
    expect(replay(telenor, 'Mobile', [{ kind: 'issue', at: 0, token: 't0', offline: false }])[0]!.outcome.kind).toBe('no-refresh-token');
    expect(replay(telenor, 'NoRefresh', [issue()])[0]!.outcome.kind).toBe('no-refresh-token');
  });
});

describe('histories of the v2 fields', () => {
  // keycloak-like: Interactive 30 days sliding, capped at 60 days; online tokens 1800 s, capped at 36000 s; grace 30 s × 3.
  const DAY30 = 2592000;
  const DAY60 = 5184000;

  it('capped sliding (policies.*.maxLifetimeSeconds): each refresh renews the lifetime, never past first issue + the maximum', () => {
    const steps = replay(keycloak, 'Interactive', [issue(), refresh(2000000, 't0', 't1'), refresh(4000000, 't1', 't2'), refresh(DAY60 - 1, 't2', 't3'), refresh(DAY60, 't3')]);
    expect(steps[0]!.outcome).toEqual({ kind: 'issued', token: 't0', expiresAt: DAY30, online: false });
    expect(steps[1]!.outcome).toEqual({ kind: 'rotated', token: 't1', expiresAt: 2000000 + DAY30 });
    expect(steps[2]!.outcome).toEqual({ kind: 'rotated', token: 't2', expiresAt: DAY60 });
    expect(steps[3]!.outcome).toEqual({ kind: 'rotated', token: 't3', expiresAt: DAY60 });
    expect(steps[4]!.outcome).toMatchObject({ kind: 'refused', by: 'expiry' });
    // The uncapped policy of the same profile slides on.
    expect(replay(keycloak, 'InteractivePublic', [issue(), refresh(2000000, 't0', 't1'), refresh(4000000, 't1', 't2')])[2]!.outcome).toEqual({
      kind: 'rotated',
      token: 't2',
      expiresAt: 4000000 + DAY30,
    });
  });

  it('grace count above 1 (graceReuseCount 3): the rotated-out token is retried three times within the window, the fourth is reuse', () => {
    const steps = replay(keycloak, 'InteractivePublic', [issue(), refresh(10, 't0', 't1'), refresh(20, 't0', 'g1'), refresh(25, 't0', 'g2'), refresh(40, 't0', 'g3'), refresh(40, 't0')]);
    expect(steps.map((s) => s.outcome.kind)).toEqual(['issued', 'rotated', 'rotated', 'rotated', 'rotated', 'refused']);
    expect(steps[5]!.outcome).toMatchObject({ by: 'reuse', familyRevoked: true });
    // The window counts from the rotation: a retry 31 s after it is reuse however many retries are left.
    expect(kinds([issue(), refresh(10, 't0', 't1'), refresh(41, 't0')], keycloak, 'InteractivePublic')).toEqual(['issued', 'rotated', 'refused']);
    // With the default count of 1 the second retry is already reuse.
    expect(kinds([issue(), refresh(10, 't0', 't1'), refresh(20, 't0', 'g1'), refresh(25, 't0')], consumed, 'Mobile')).toEqual(['issued', 'rotated', 'rotated', 'refused']);
  });

  it('same-successor concurrency (auth0-like): n concurrent presentations, one new token handed to all; it then works once; later presentations are reuse', () => {
    const steps = replay(auth0, 'Mobile', [issue(), { kind: 'concurrent', at: 5, token: 't0', n: 8 }, refresh(5, 't0.1', 't2'), refresh(5, 't0')]);
    expect(steps.map((s) => s.outcome.kind)).toEqual(['issued', 'rotated', ...Array(7).fill('repeated'), 'rotated', 'refused']);
    for (const s of steps.slice(2, 9)) expect(s.outcome).toEqual({ kind: 'repeated', token: 't0.1', expiresAt: 5 + MOBILE });
    expect(steps.at(-1)!.outcome).toMatchObject({ by: 'reuse', familyRevoked: true });
    // A second later it is a reuse, not a repeat; single-winner profiles never repeat.
    expect(kinds([issue(), refresh(5, 't0'), refresh(6, 't0')], auth0, 'Mobile')).toEqual(['issued', 'rotated', 'refused']);
    expect(kinds([issue(), { kind: 'concurrent', at: 5, token: 't0', n: 3 }], telenor, 'Mobile')).toEqual(['issued', 'rotated', 'refused', 'refused']);
  });

  it('online tokens after logout: refused (keycloak-like), kept (auth0-like), rotated (always-unbound); the offline token of the same login follows the offline rule', () => {
    const events: ModelEvent[] = [{ kind: 'issue', at: 0, token: 'o', offline: false }, issue(0, 'x'), { kind: 'logout', at: 10 }, refresh(20, 'o'), refresh(20, 'x')];
    const kc = replay(keycloak, 'Interactive', events);
    expect(kc[0]!.outcome).toEqual({ kind: 'issued', token: 'o', expiresAt: 1800, online: true });
    expect(kc.map((s) => s.outcome.kind)).toEqual(['issued', 'issued', 'session-ended', 'refused', 'rotated']);
    expect(kc[3]!.outcome).toMatchObject({ by: 'sso', error: 'invalid_grant' });
    expect(kinds(events, auth0, 'Mobile')).toEqual(['issued', 'issued', 'session-ended', 'kept', 'kept']);
    expect(kinds(events, unbound, 'Interactive')).toEqual(['issued', 'issued', 'session-ended', 'rotated', 'rotated']);
    expect(ssoEndOutcome(keycloak, 'Interactive', { online: true }).first).toMatchObject({ kind: 'refused', by: 'sso' });
    expect(ssoEndOutcome(keycloak, 'Interactive').first).toMatchObject({ kind: 'rotated' });
  });

  it('online tokens live the online terms: 1800 s idle lifetime, renewed by each refresh (keycloak-like)', () => {
    const steps = replay(keycloak, 'Interactive', [{ kind: 'issue', at: 0, token: 'o', offline: false }, refresh(1000, 'o', 'o1'), refresh(2799, 'o1', 'o2'), refresh(4599, 'o2')]);
    expect(steps.map((s) => s.outcome)).toEqual([
      { kind: 'issued', token: 'o', expiresAt: 1800, online: true },
      { kind: 'rotated', token: 'o1', expiresAt: 2800 },
      { kind: 'rotated', token: 'o2', expiresAt: 4599 },
      expect.objectContaining({ kind: 'refused', by: 'expiry' }),
    ]);
  });

  it("decideIssue: 'always' issues an online token without offline access; 'offline-access' issues none", () => {
    const policy = keycloak.policies.Interactive!;
    expect(decideIssue(keycloak, policy, ['openid'], 100)).toEqual({ issue: true, online: true, expiresAt: 1900, fixedExpiresAt: 1900, maxExpiresAt: 36100 });
    expect(decideIssue(keycloak, policy, ['openid', 'offline_access'], 100)).toEqual({
      issue: true,
      online: false,
      expiresAt: 100 + DAY30,
      fixedExpiresAt: 100 + DAY30,
      maxExpiresAt: 100 + DAY60,
    });
    expect(decideIssue(erp, erp.policies.Interactive!, ['openid'], 100)).toEqual({ issue: false, reason: 'offline access was not requested' });
    expect(decideIssue(keycloak, keycloak.policies.Service!, ['openid', 'offline_access'], 100)).toMatchObject({ issue: false });
    // auth0-like: always, online terms default to the policy's lifetime and no maximum.
    expect(decideIssue(auth0, auth0.policies.PublicWeb!, ['openid'], 0)).toEqual({ issue: true, online: true, expiresAt: 600, fixedExpiresAt: 600 });
  });
});

describe('derived queries', () => {
  it('ssoEndOutcome: the first refresh after the session, and the presented token afterwards', () => {
    expect(ssoEndOutcome(telenor, 'PublicWeb')).toMatchObject({ first: { kind: 'kept' }, presentedAgain: { kind: 'kept' } });
    expect(ssoEndOutcome(consumed, 'PublicWeb')).toMatchObject({ first: { kind: 'consumed' }, presentedAgain: { kind: 'refused' } });
    expect(ssoEndOutcome(invalidGrant, 'PublicWeb')).toMatchObject({ first: { kind: 'refused', by: 'sso' } });
    expect(ssoEndOutcome(erp, 'Interactive')).toMatchObject({ first: { kind: 'rotated' }, presentedAgain: { kind: 'refused', by: 'reuse' } });
  });

  it('slidesUntil: the SSO session end where it matters, forever where it does not, never for fixed', () => {
    expect(slidesUntil(telenor, 'Mobile')).toBe(S);
    expect(slidesUntil(invalidGrant, 'Mobile')).toBe(S);
    expect(slidesUntil(erp, 'Interactive')).toBe(Infinity);
    expect(slidesUntil(mixed, 'Interactive')).toBe(Infinity);
    expect(slidesUntil(telenor, 'Confidential')).toBe(0);
  });

  it('slidingChain: the window in which the refreshed token must outlive the first lifetime', () => {
    // no-new-refresh-token: refreshed inside the session (at S/2), the token is kept after it ends.
    expect(slidingChain(telenor, 'Mobile')).toEqual({ observable: true, refreshAt: S / 2, from: MOBILE, until: MOBILE + S / 2 });
    expect(slidingChain(telenor, 'PublicWeb')).toEqual({ observable: true, refreshAt: 300, from: 600, until: 900 });
    expect(slidingChain(erp, 'Interactive')).toEqual({ observable: true, refreshAt: 1296000, from: 2592000, until: 3888000 });
    expect(slidingChain(invalidGrant, 'PublicWeb')).toEqual({ observable: true, refreshAt: 300, from: 600, until: 900 });
    expect(slidingChain(telenor, 'Confidential')).toMatchObject({ observable: false, reason: expect.stringMatching(/does not slide/) });
  });

  it('the false verdict of expiry.sliding-chain-outlives-lifetime: invalid_grant with a lifetime longer than the SSO session', () => {
    // What the check did (expiry.ts midpoint): refresh at min(L/2, S/2), then refresh the new token
    // just after the first lifetime L, expecting 200. A correct IdP refuses it: the session ended at S < L.
    const t1 = Math.min(Math.floor(MOBILE / 2), Math.floor(S / 2));
    const steps = replay(invalidGrant, 'Mobile', [issue(), refresh(t1, 't0', 't1'), refresh(MOBILE + 1, 't1')]);
    expect(steps[1]!.outcome).toEqual({ kind: 'rotated', token: 't1', expiresAt: t1 + MOBILE });
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', error: 'invalid_grant', by: 'sso' });
    // The model says so up front: the chain cannot be observed through a refresh after the first lifetime.
    expect(slidingChain(invalidGrant, 'Mobile')).toMatchObject({ observable: false, reason: expect.stringMatching(/SSO session is not active/) });
    // Nor with any other refresh time inside the first lifetime.
    for (const at of [1, S - 1, MOBILE - 1]) expect(slidingChain(invalidGrant, 'Mobile', at).observable).toBe(false);
  });
});
