/** The scaled profiles the interop targets are checked against: valid, and testable on a real clock. */
import { describe, expect, it } from 'vitest';
import { isRefreshPolicy, loadProfile } from '../mock-idp/profile/index.ts';
import { clientIdFor, clientsForProfile } from './clients.ts';
import { parseScale } from './cli.ts';
import { CI_SCALE, FLOORS, longestWait, realMargin, scaleProfile } from './scale.ts';

const telenor = await loadProfile('telenorid-plus');

describe('scaleProfile', () => {
  it('scales TelenorID+ for CI: 90 d → 12 s, the rest floored, the SSO ordering kept', () => {
    const p = scaleProfile(telenor, CI_SCALE);
    const life = (name: string) => p.policies[name]!.lifetimeSeconds;
    expect(p.name).toBe('telenorid-plus-scaled');
    expect(p.ssoSessionLifetimeSeconds).toBe(8);
    expect({ Confidential: life('Confidential'), Mobile: life('Mobile'), PublicWeb: life('PublicWeb'), Web: life('Web') }).toEqual({
      Confidential: 12,
      Mobile: 12,
      PublicWeb: 8,
      Web: 8,
    });
    expect(p.accessTokenLifetimeSeconds).toBe(4);
    expect(p.policies.NoRefresh).toEqual(telenor.policies.NoRefresh);
    // Everything but the lifetimes is the profile as documented.
    for (const [name, policy] of Object.entries(p.policies)) {
      const { lifetimeSeconds: _a, ...rest } = policy;
      const { lifetimeSeconds: _b, ...was } = telenor.policies[name]!;
      expect(rest).toEqual(was);
    }
    expect(p.refreshAfterSsoEnd).toBe(telenor.refreshAfterSsoEnd);
    expect(p.notes.length).toBe(telenor.notes.length + 7);
  });

  it('keeps each refresh lifetime on its side of the SSO session, with room for the checks', () => {
    for (const scale of [CI_SCALE, 1e-5, 1e-4, 1e-3]) {
      const p = scaleProfile(telenor, scale);
      const S = p.ssoSessionLifetimeSeconds;
      expect(S).toBeGreaterThanOrEqual(FLOORS.ssoSession);
      for (const [name, policy] of Object.entries(p.policies)) {
        if (!isRefreshPolicy(policy)) continue;
        const was = telenor.policies[name]!.lifetimeSeconds!;
        expect(policy.lifetimeSeconds, `${name} at ${scale}`).toBeGreaterThanOrEqual(FLOORS.refreshToken);
        if (was > telenor.ssoSessionLifetimeSeconds) expect(policy.lifetimeSeconds).toBeGreaterThan(S + realMargin(S));
        else expect(policy.lifetimeSeconds).toBeLessThanOrEqual(S);
        // The sliding check refreshes at half the shorter of (lifetime, session): 2 s clear of the margin.
        expect(Math.floor(Math.min(policy.lifetimeSeconds, S) / 2) - realMargin(policy.lifetimeSeconds)).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('at 1e-4 (90 d → 778 s) the SSO session grows to fit the sliding check, and Confidential stays past it', () => {
    const p = scaleProfile(telenor, 1e-4);
    expect(p.policies.Mobile!.lifetimeSeconds).toBe(778);
    expect(p.ssoSessionLifetimeSeconds).toBe(2 * (realMargin(778) + 2));
    expect(p.policies.Confidential!.lifetimeSeconds).toBe(p.ssoSessionLifetimeSeconds + realMargin(p.ssoSessionLifetimeSeconds) + 2);
    expect(p.policies.PublicWeb!.lifetimeSeconds).toBe(FLOORS.refreshToken);
  });

  it('rejects a scale outside (0, 1]', () => {
    expect(() => scaleProfile(telenor, 0)).toThrow(RangeError);
    expect(() => scaleProfile(telenor, 2)).toThrow(RangeError);
  });

  it('the longest wait against the CI profile is 18 s (Mobile idle gap: 4 + 12 + 2)', () => {
    const p = scaleProfile(telenor, CI_SCALE);
    const clients = clientsForProfile(p, () => 's').map((c) => ({ ...c, scope: c.scope ?? 'openid' }));
    expect(longestWait(p, clients)).toBe(18);
  });
});

describe('interop helpers', () => {
  it('parses --scale as a decimal or a fraction', () => {
    expect(parseScale('0.0001')).toBe(0.0001);
    expect(parseScale('1/648000')).toBeCloseTo(CI_SCALE, 15);
    expect(() => parseScale('0')).toThrow(/--scale/);
    expect(() => parseScale('abc')).toThrow(/--scale/);
  });

  it('names one client per policy, kebab-case, public ones without a secret', () => {
    expect(['NoRefresh', 'PublicWeb', 'Web', 'Confidential'].map(clientIdFor)).toEqual(['no-refresh', 'public-web', 'web', 'confidential']);
    const clients = clientsForProfile(telenor, (id) => `secret-${id}`);
    expect(clients.map((c) => [c.id, c.auth, c.secret])).toEqual([
      ['no-refresh', 'none', undefined],
      ['confidential', 'client_secret_basic', 'secret-confidential'],
      ['mobile', 'none', undefined],
      ['public-web', 'none', undefined],
      ['web', 'none', undefined],
    ]);
    expect(clients.find((c) => c.id === 'mobile')!.redirectUri).toBe('com.example.mobile:/callback');
  });
});
