/** SSO-dependent reissue: new refresh tokens only while the SSO session is active (where declared). */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, givenRefreshToken, refreshTokenOf } from './expect.ts';
import type { Answer, Check, CheckContext } from './types.ts';
import { aimInside, aliveUntil, secs, ssoActiveUntil, ssoEndedFrom, unlessPast, waitUntil } from './timing.ts';
import { days, realMargin, rotatesAt, rp, whenRefresh } from './util.ts';
import { ssoEndOutcome } from '../../mock-idp/profile/model.ts';

/**
 * The first refresh after the SSO session ended, and the presented token afterwards, as the refresh
 * model says a correct IdP answers for this profile and policy (model.ts ssoEndOutcome). `alive`:
 * the last moment the presented token surely lives; a refusal after it proves nothing.
 */
async function expectAfterSsoEnd(t: CheckContext, rt: string, alive: number, how: string, before: Answer[]): Promise<void> {
  const { first, presentedAgain } = ssoEndOutcome(t.profile, t.client.policy);
  const declared = `profile: refreshAfterSsoEnd ${t.profile.refreshAfterSsoEnd}`;
  const r = await t.refresh(rt);
  if (r.status !== 200) unlessPast(r, alive, `a refresh after ${how}`);
  if (first.kind === 'refused') {
    t.note({ kind: 'rejected', label: 'after the SSO session' });
    expectRefused(r, `a refresh after ${how} (${declared}: refused once the SSO session ended)`, ...before);
    return;
  }
  expectSuccess(r, `a refresh after ${how} (${declared})`);
  if (first.kind === 'rotated') {
    refreshTokenOf(r, `a refresh after ${how} (${declared}: a new refresh token regardless of the SSO session)`);
    return;
  }
  expectThat(
    r.refresh_token === undefined || r.refresh_token === rt,
    `an access token but no new refresh_token after ${how} (${declared})`,
    () => describe(r),
    ...before,
    r,
  );
  if (first.kind === 'extended') return;
  const presented = `profile: presentedTokenAfterSsoEnd ${t.profile.presentedTokenAfterSsoEnd}`;
  const again = await t.refresh(rt);
  if (again.status !== 200) unlessPast(again, alive, `the presented refresh token again after ${how}`);
  if (presentedAgain.kind === 'refused') {
    t.note({ kind: 'rejected', label: 'presented token consumed' });
    expectRefused(again, `the presented refresh token after ${how} (${presented}: used up)`, r);
  } else {
    expectSuccess(again, `the presented refresh token after ${how} (${presented}: until its own expiry)`);
  }
}

export const ssoChecks: Check[] = [
  {
    id: 'sso.new-token-while-session-active',
    group: 'sso',
    level: 'MUST',
    title: 'While the SSO session is active a refresh returns a new refresh token',
    clause: (i) => [...i.profile.citations.sso, profileField(i.profile, 'ssoSessionLifetimeSeconds'), policyField(i, 'rotation')],
    // The model: does a refresh halfway into the session (where the check refreshes) rotate?
    applies: whenRefresh((p, i) => rotatesAt(i, Math.floor(Math.min(i.profile.ssoSessionLifetimeSeconds, p.lifetimeSeconds) / 2))),
    waits: (i) => Math.floor(Math.min(i.profile.ssoSessionLifetimeSeconds, rp(i).lifetimeSeconds) / 2),
    async run(t) {
      const p = rp(t);
      const session = await t.login({ offline: true });
      const { tokens } = session;
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const mid = Math.floor(Math.min(t.profile.ssoSessionLifetimeSeconds, p.lifetimeSeconds) / 2);
      // Halfway, but surely inside both the session and the token's life (measured).
      const until = Math.min(ssoActiveUntil(t, session), aliveUntil(tokens, p.lifetimeSeconds));
      await waitUntil(t, Math.min(tokens.receivedAt + mid, until - t.clock.jitter()), `${days(mid)} into the SSO session`);
      const r = await t.refresh(rt);
      if (r.status !== 200 || typeof r.refresh_token !== 'string') unlessPast(r, until, 'the refresh during the SSO session');
      expectSuccess(r, 'a refresh during the SSO session');
      refreshTokenOf(r, 'a refresh during the SSO session');
    },
  },
  {
    id: 'sso.refresh-after-logout',
    group: 'sso',
    level: 'MUST',
    title: 'After logout a refresh behaves as the profile declares',
    clause: ({ profile }) => [...profile.citations.sso, profileField(profile, 'refreshAfterSsoEnd'), profileField(profile, 'presentedTokenAfterSsoEnd'), cite.spec('OpenID RP-Initiated Logout 1.0', '2')],
    applies: whenRefresh(),
    needs: ['logout'],
    async run(t) {
      const session = await t.login({ offline: true });
      const rt = givenRefreshToken(session.tokens, 'the code exchange');
      await t.logout(session);
      t.note({ kind: 'logout' });
      await expectAfterSsoEnd(t, rt, aliveUntil(session.tokens, rp(t).lifetimeSeconds), 'logout', [session.tokens]);
    },
  },
  {
    id: 'sso.refresh-after-session-expiry',
    group: 'sso',
    level: 'MUST',
    title: 'After the SSO session lifetime passes a refresh behaves as the profile declares',
    clause: ({ profile }) => [...profile.citations.sso, profileField(profile, 'ssoSessionLifetimeSeconds'), profileField(profile, 'refreshAfterSsoEnd'), profileField(profile, 'presentedTokenAfterSsoEnd')],
    applies: whenRefresh((p, i) =>
      p.lifetimeSeconds <= i.profile.ssoSessionLifetimeSeconds + realMargin(i.profile.ssoSessionLifetimeSeconds)
        ? `the token lifetime (${days(p.lifetimeSeconds)}) ends before the SSO session (${days(i.profile.ssoSessionLifetimeSeconds)}): nothing to observe`
        : true,
    ),
    waits: (i) => i.profile.ssoSessionLifetimeSeconds + realMargin(i.profile.ssoSessionLifetimeSeconds),
    async run(t) {
      const session = await t.login({ offline: true });
      const { tokens } = session;
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const S = t.profile.ssoSessionLifetimeSeconds;
      const L = rp(t).lifetimeSeconds;
      // After the session surely ended, while the token surely lives (both measured).
      const alive = aliveUntil(tokens, L);
      const aim = aimInside(t, ssoEndedFrom(t, session), alive, `SSO session ${secs(S)}, token lifetime ${secs(L)}`);
      await waitUntil(t, aim, `the ${days(S)} SSO session to end`);
      await expectAfterSsoEnd(t, rt, alive, `the ${days(S)} SSO session ended`, [tokens]);
    },
  },
];
