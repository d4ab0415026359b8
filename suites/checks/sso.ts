/** SSO-dependent reissue: new refresh tokens only while the SSO session is active (where declared). */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, givenRefreshToken, refreshTokenOf } from './expect.ts';
import type { Answer, Check, CheckContext } from './types.ts';
import { aimInside, aliveUntil, secs, ssoActiveUntil, ssoEndedFrom, unlessPast, waitUntil } from './timing.ts';
import { days, interactive, onlineTokenIssued, realMargin, rotatesAt, rp, whenRefresh } from './util.ts';
import { refreshOutcomeAt, ssoEndOutcome, termsOf } from '../../mock-idp/profile/model.ts';

/**
 * The first refresh after the SSO session ended, and the presented token afterwards, as the refresh
 * model says a correct IdP answers for this profile and policy (model.ts ssoEndOutcome). `alive`:
 * the last moment the presented token surely lives; a refusal after it proves nothing.
 */
async function expectAfterSsoEnd(t: CheckContext, rt: string, alive: number, how: string, before: Answer[], online = false): Promise<void> {
  const { first, presentedAgain } = ssoEndOutcome(t.profile, t.client.policy, { online });
  const declared = online ? `profile: onlineTokens.refreshAfterSsoEnd ${t.profile.onlineTokens.refreshAfterSsoEnd}` : `profile: refreshAfterSsoEnd ${t.profile.refreshAfterSsoEnd}`;
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

/**
 * After logout a refresh of the login's (offline) token renews it, per the model: it lives on without
 * the session. Or it keeps it exactly as during the session, where the policy rotates only late in a
 * token's life (rotateAfterLifetimePercent): that keep is the policy's, not the session's end.
 */
function survivesLogout(i: Parameters<typeof onlineTokenIssued>[0]): boolean {
  const { first } = ssoEndOutcome(i.profile, i.client.policy);
  if (first.kind === 'rotated' || first.kind === 'extended') return true;
  return first.kind === 'kept' && rp(i).rotateAfterLifetimePercent !== undefined && refreshOutcomeAt(i.profile, i.client.policy, 0).kind === 'kept';
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
    // Where the model says the token lives on after logout, sso.offline-token-survives-logout judges it (and more).
    applies: whenRefresh((_p, i) => (survivesLogout(i) ? 'the profile declares the token survives logout: sso.offline-token-survives-logout' : true)),
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
  {
    id: 'sso.offline-token-survives-logout',
    group: 'sso',
    level: 'MUST',
    title: 'An offline refresh token survives logout: after it a refresh renews it, and the renewed token refreshes again',
    clause: (i) => [...i.profile.citations.sso, ...i.profile.citations.offlineAccess, profileField(i.profile, 'refreshAfterSsoEnd'), policyField(i, 'rotation'), cite.spec('OIDC Core', '11'), cite.spec('OpenID RP-Initiated Logout 1.0', '2')],
    applies: whenRefresh((_p, i) => (survivesLogout(i) ? true : `the profile declares refresh after the SSO session ends: refreshAfterSsoEnd ${i.profile.refreshAfterSsoEnd} (sso.refresh-after-logout)`)),
    needs: ['logout'],
    async run(t) {
      const p = rp(t);
      const session = await t.login({ offline: true });
      const rt = givenRefreshToken(session.tokens, 'the code exchange');
      await t.logout(session);
      t.note({ kind: 'logout' });
      const declared = `profile: refreshAfterSsoEnd ${t.profile.refreshAfterSsoEnd}, offline access`;
      const alive = aliveUntil(session.tokens, p.lifetimeSeconds);
      const r1 = await t.refresh(rt);
      if (r1.status !== 200) unlessPast(r1, alive, 'the refresh after logout');
      expectSuccess(r1, `a refresh after logout (${declared})`);
      // The model: does this refresh rotate (rotation, and any rotateAfterLifetimePercent reached)?
      const rotated = ssoEndOutcome(t.profile, t.client.policy).first.kind === 'rotated';
      const next = rotated ? refreshTokenOf(r1, `a refresh after logout (${declared}, rotation on: a new refresh token)`) : rt;
      // Surviving is living on: the token the client holds after logout refreshes again, not one last time.
      const r2 = await t.refresh(next);
      if (r2.status !== 200) unlessPast(r2, aliveUntil(r1, p.lifetimeSeconds), 'the second refresh after logout');
      expectSuccess(r2, `a second refresh after logout, with the ${rotated ? 'new' : 'same'} refresh token (${declared})`);
      t.note({ kind: 'refresh', label: 'after logout, again' });
    },
  },
  {
    id: 'sso.online-token-ends-with-session',
    group: 'sso',
    level: 'MUST',
    title: 'An online refresh token (issued without offline_access) after logout behaves as the profile declares for online tokens',
    clause: ({ profile }) => [
      ...profile.citations.sso,
      profileField(profile, 'refreshTokenIssuance'),
      cite.field('onlineTokens.refreshAfterSsoEnd', profile.onlineTokens.refreshAfterSsoEnd),
      profileField(profile, 'presentedTokenAfterSsoEnd'),
      cite.spec('OpenID RP-Initiated Logout 1.0', '2'),
    ],
    applies: whenRefresh((_p, i) => (onlineTokenIssued(i) ? interactive(i) : `no refresh token without ${i.profile.offlineAccessScope} (refreshTokenIssuance ${i.profile.refreshTokenIssuance}): no online token`)),
    needs: ['logout'],
    async run(t) {
      const session = await t.login({ offline: false });
      const rt = givenRefreshToken(session.tokens, `the code exchange without ${t.profile.offlineAccessScope}`);
      await t.logout(session);
      t.note({ kind: 'logout' });
      const online = termsOf(t.profile, rp(t), true);
      await expectAfterSsoEnd(t, rt, aliveUntil(session.tokens, online.lifetimeSeconds), 'logout (an online token)', [session.tokens], true);
    },
  },
];
