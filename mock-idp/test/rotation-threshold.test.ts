/**
 * policies.*.rotateAfterLifetimePercent in the refresh model: a policy that rotates only once the
 * presented token has lived a share of its lifetime (node-oidc-provider's default rotateRefreshToken
 * for clients that authenticate: `ttlPercentagePassed() >= 70`). Before it, a refresh keeps the token
 * and its expiry; from it on, a refresh rotates; without the field every refresh rotates (v1 meaning).
 * Values written out by hand: L = 1209600 s (14 d), 70 % of it = 846720 s.
 */
import { describe, expect, it } from 'vitest';
import { loadProfile, parseProfile, ProfileError } from '../profile/index.ts';
import { expiryOf, refreshOutcomeAt, replay, slidingChain, type ModelEvent } from '../profile/model.ts';

const op = await loadProfile('node-oidc-provider');
const erp = await loadProfile('erp-net');
const L = 1209600;
const SEVENTY = 846720;

const issue: ModelEvent = { kind: 'issue', at: 0, token: 't0' };
const refresh = (at: number, token: string, as?: string): ModelEvent => ({ kind: 'refresh', at, token, ...(as && { as }) });

describe('rotation after a share of the lifetime (node-oidc-provider Web: 70 %)', () => {
  it('before 70 % of the lifetime a refresh keeps the token and its expiry; from 70 % on it rotates', () => {
    expect(refreshOutcomeAt(op, 'Web', 0)).toEqual({ kind: 'kept', expiresAt: L });
    expect(refreshOutcomeAt(op, 'Web', SEVENTY - 1)).toEqual({ kind: 'kept', expiresAt: L });
    expect(refreshOutcomeAt(op, 'Web', SEVENTY)).toEqual({ kind: 'rotated', token: 't0.1', expiresAt: L });
  });

  it('the rotated token is kept again until it has itself lived 70 % of the lifetime; its family still ends at login + 14 d (fixed)', () => {
    const steps = replay(op, 'Web', [issue, refresh(10, 't0'), refresh(SEVENTY, 't0', 't1'), refresh(SEVENTY + 60, 't1'), refresh(L - 1, 't1')]);
    expect(steps.map((s) => s.outcome.kind)).toEqual(['issued', 'kept', 'rotated', 'kept', 'kept']);
    expect(expiryOf(steps, 't1')).toBe(L);
    expect(steps.at(-1)!.tokens.t0!.state).toBe('rotated');
  });

  it('a rotated-out token presented again after a late rotation revokes the family (reuse)', () => {
    const steps = replay(op, 'Web', [issue, refresh(SEVENTY, 't0', 't1'), refresh(SEVENTY + 1, 't0'), refresh(SEVENTY + 2, 't1')]);
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', error: 'invalid_grant', by: 'reuse', familyRevoked: true });
    expect(steps[3]!.outcome).toMatchObject({ kind: 'refused', by: 'family-revoked' });
  });

  it('public clients (Native, SPA) rotate on every refresh, as a policy without the field does (erp-net)', () => {
    expect(refreshOutcomeAt(op, 'Native', 0).kind).toBe('rotated');
    expect(refreshOutcomeAt(op, 'SPA', 0).kind).toBe('rotated');
    expect(erp.policies.Interactive!.rotateAfterLifetimePercent).toBeUndefined();
    expect(refreshOutcomeAt(erp, 'Interactive', 0).kind).toBe('rotated');
  });
});

describe('sliding chains', () => {
  it('a sliding policy that rotates late has no chain from an early refresh, and the reason says why', () => {
    const sliding = parseProfile({ ...op, policies: { ...op.policies, Web: { ...op.policies.Web, expiry: 'sliding' } } }, 'sliding web');
    expect(slidingChain(sliding, 'Web')).toEqual({
      observable: false,
      reason: 'policy Web does not slide (expiry sliding; an early refresh keeps the token, rotation only after 70 % of the lifetime)',
    });
  });
});

describe('the field in the schema', () => {
  const withWeb = (change: Record<string, unknown>) => ({ ...op, policies: { ...op.policies, Web: { ...op.policies.Web, ...change } } });

  it('only with rotation true, a whole percentage from 1 to 100; the error names the field', () => {
    expect(() => parseProfile(withWeb({ rotation: false }), 'p')).toThrow(/policies\.Web\.rotateAfterLifetimePercent: only with rotation true/);
    for (const bad of [0, 101, 70.5]) {
      expect(() => parseProfile(withWeb({ rotateAfterLifetimePercent: bad }), 'p')).toThrow(ProfileError);
    }
    expect(parseProfile(withWeb({ rotateAfterLifetimePercent: 100 }), 'p').policies.Web!.rotateAfterLifetimePercent).toBe(100);
  });
});
