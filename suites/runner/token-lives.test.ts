/** The real-clock arithmetic: whole-second bounds from measured times, and when an answer cannot be judged. */
import { describe, expect, test } from 'vitest';
import { aimInside, aliveUntil, deadFrom } from '../checks/timing.ts';
import { CheckFailure, CheckInconclusive, fail } from '../checks/expect.ts';
import type { Tokens } from '../checks/types.ts';
import { loadProfile } from '../../mock-idp/index.ts';
import { withLifetimesOf } from '../../interop/wall-clock-mock/profile.ts';
import { createTokenLives } from './token-lives.ts';

const answer = (sentAt: number, receivedAt: number, body: Record<string, unknown>, status = 200): Tokens =>
  ({ status, headers: new Headers(), body, exchange: {} as Tokens['exchange'], sentAt, receivedAt, ...(typeof body.refresh_token === 'string' && { refresh_token: body.refresh_token }) }) as Tokens;

describe('whole-second bounds', () => {
  test('issued in [10.2, 10.6] with 3 s: surely alive up to 12.2, surely dead from 14.6', () => {
    // exp = floor(issue) + 3 is 13 whatever the issue second's fraction: alive while now < 13.
    expect(aliveUntil({ sentAt: 10.2, receivedAt: 10.6 }, 3)).toBeCloseTo(12.2);
    expect(deadFrom({ sentAt: 10.2, receivedAt: 10.6 }, 3)).toBeCloseTo(14.6);
  });

  test('a window narrower than the jitter is inconclusive, with lifetime, window and margin', () => {
    const t = { clock: { kind: 'real' as const, now: () => 0, jitter: () => 1, wait: async () => undefined } };
    expect(aimInside(t, 5, 7, 'lifetime 6 s')).toBe(5);
    expect(() => aimInside(t, 5, 5.8, 'lifetime 3 s')).toThrow(new CheckInconclusive('lifetime 3 s, window 0.8 s, margin 1 s: too narrow to probe on this clock'));
  });
});

describe('token lives: answers a busy machine makes unjudgeable', async () => {
  const profile = withLifetimesOf(await loadProfile('telenorid-plus'), 3); // PublicWeb 3 s sliding + rotation, SSO 6 s
  const policy = profile.policies.PublicWeb!;
  const start = () => {
    const lives = createTokenLives(profile, policy, () => 0);
    lives.loggedIn(0, answer(0.1, 0.2, { refresh_token: 'rt0' }));
    return lives;
  };
  const refused = (sentAt: number, receivedAt: number) => answer(sentAt, receivedAt, { error: 'invalid_grant' }, 400);

  test('a refusal answered after the token was surely alive, sent before it was surely dead: unjudgeable', () => {
    expect(start().refusalUnjudgeable('rt0', refused(0.5, 2.0))).toBeUndefined(); // alive until 2.1
    expect(start().refusalUnjudgeable('rt0', refused(0.5, 2.5))).toMatch(/may have expired on the way/);
    expect(start().refusalUnjudgeable('rt0', refused(4.2, 4.3))).toBeUndefined(); // dead from 4.2: a deliberate probe
    expect(start().refusalUnjudgeable('rt0', answer(0.5, 2.5, { error: 'invalid_client' }, 401))).toBeUndefined();
  });

  test('a renewed (rotated) token counts from its own refresh', () => {
    const lives = start();
    lives.refreshed('rt0', answer(1.5, 1.6, { access_token: 'a', refresh_token: 'rt1' }));
    expect(lives.refusalUnjudgeable('rt1', refused(3.0, 3.4))).toBeUndefined(); // rt1 alive until 3.5
    expect(lives.refusalUnjudgeable('rt1', refused(3.0, 3.6))).toMatch(/may have expired/);
  });

  test('no new refresh token answered after the SSO session was surely active: unjudgeable; after logout: judged', () => {
    const noRotation = (sentAt: number, receivedAt: number) => answer(sentAt, receivedAt, { access_token: 'a' });
    expect(start().ssoUnjudgeable('rt0', noRotation(1, 1.5))).toBeUndefined(); // session active until 5
    expect(start().ssoUnjudgeable('rt0', noRotation(4.8, 5.3))).toMatch(/SSO session \(6 s\).* may have ended on the way/);
    const lives = start();
    lives.loggedOut();
    expect(lives.ssoUnjudgeable('rt0', noRotation(0.5, 0.6))).toBeUndefined();
  });
});

test('a failure citing an answer marked unjudgeable is inconclusive; one citing a plain answer fails', () => {
  const plain = answer(1, 1.1, { access_token: 'a' });
  expect(() => fail('a new refresh_token', 'none', plain)).toThrow(CheckFailure);
  const marked: Tokens = { ...plain, unjudgeable: 'the SSO session may have ended' };
  expect(() => fail('a new refresh_token', 'none', marked)).toThrow(
    new CheckInconclusive('expected a new refresh_token, seen none; but the SSO session may have ended'),
  );
});
