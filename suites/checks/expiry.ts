/** Lifetimes: fixed versus sliding refresh-token expiry, expired tokens, access-token expires_in. */
import { expectRefused, expectSuccess, expectThat, givenRefreshToken, refreshTokenOf } from './expect.ts';
import type { ApplicabilityInput, Check, CheckContext } from './types.ts';
import { days, interactive, margin, realMargin, rp, whenRefresh } from './util.ts';
import type { RefreshPolicy } from '../../mock-idp/profile/index.ts';

/**
 * When to refresh inside the first lifetime: halfway, but while the SSO session is still
 * active where the profile makes new refresh tokens depend on it.
 */
function midpoint(p: RefreshPolicy, i: Pick<ApplicabilityInput, 'profile'>): number {
  const half = Math.floor(p.lifetimeSeconds / 2);
  return i.profile.refreshAfterSsoEnd === 'new-refresh-token' ? half : Math.min(half, Math.floor(i.profile.ssoSessionLifetimeSeconds / 2));
}

/** The token to use after a refresh: the new one if issued, else the presented one. */
function successor(r: { refresh_token?: string }, presented: string): string {
  return typeof r.refresh_token === 'string' && r.refresh_token !== '' ? r.refresh_token : presented;
}

/** Log in, wait to the midpoint and refresh: the common start of the expiry checks. */
async function refreshAtMidpoint(t: CheckContext) {
  const p = rp(t);
  const L = p.lifetimeSeconds;
  const t1 = midpoint(p, t);
  const { tokens } = await t.login({ offline: true });
  const rt0 = givenRefreshToken(tokens, 'the code exchange');
  await t.clock.wait(t1, `${days(t1)} into the ${days(L)} lifetime`);
  const r1 = await t.refresh(rt0);
  expectSuccess(r1, `the refresh after ${days(t1)}`);
  t.note({ kind: 'refresh' });
  return { p, L, t1, rt0, r1 };
}

export const expiryChecks: Check[] = [
  {
    id: 'expiry.access-token-expires-in',
    group: 'expiry',
    level: 'MUST',
    title: 'Access-token expires_in is the declared lifetime',
    clause: ({ profile }) => `profile accessTokenLifetimeSeconds (${profile.accessTokenLifetimeSeconds} s); ${profile.citations.expiry}; RFC 6749 §5.1`,
    applies: interactive,
    async run(t) {
      const { tokens } = await t.login({ offline: t.policy.refresh });
      expectSuccess(tokens, 'the code exchange');
      const want = t.profile.accessTokenLifetimeSeconds;
      expectThat(tokens.expires_in === want, `expires_in=${want} on the code exchange`, () => `expires_in=${String(tokens.expires_in)}`, tokens);
      if (t.policy.refresh && tokens.refresh_token) {
        const r = await t.refresh(tokens.refresh_token);
        expectSuccess(r, 'the refresh');
        expectThat(r.expires_in === want, `expires_in=${want} on the refresh`, () => `expires_in=${String(r.expires_in)}`, r);
      }
    },
  },
  {
    id: 'expiry.lives-declared-lifetime',
    group: 'expiry',
    level: 'MUST',
    title: 'A refresh token still works just before its declared lifetime ends',
    clause: ({ profile, policy }) => `${policy.source}; ${profile.citations.expiry}`,
    applies: whenRefresh((p, i) =>
      i.profile.refreshAfterSsoEnd === 'invalid_grant' && i.profile.ssoSessionLifetimeSeconds < p.lifetimeSeconds
        ? 'the SSO session ends (and with it refresh) before the token lifetime'
        : true,
    ),
    waits: (i) => rp(i).lifetimeSeconds,
    async run(t) {
      const p = rp(t);
      const { tokens } = await t.login({ offline: true });
      const rt = givenRefreshToken(tokens, 'the code exchange');
      await t.clock.wait(p.lifetimeSeconds - margin(t, p.lifetimeSeconds), `until just before the ${days(p.lifetimeSeconds)} lifetime ends`);
      const r = await t.refresh(rt);
      t.note({ kind: 'refresh', label: 'just before expiry' });
      expectSuccess(r, `the refresh just before the ${days(p.lifetimeSeconds)} lifetime ends (${p.expiry})`);
    },
  },
  {
    id: 'expiry.fixed-not-extended',
    group: 'expiry',
    level: 'MUST',
    title: 'Fixed expiry: a token refreshed in between still dies at first issue + lifetime',
    clause: ({ profile, policy }) => `${policy.source} (Sliding = NO); ${profile.citations.expiry}`,
    applies: whenRefresh((p, i) => (p.expiry === 'fixed' ? true : `policy ${i.client.policy} declares sliding expiry`)),
    waits: (i) => {
      const p = rp(i);
      return p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { L, t1, rt0, r1 } = await refreshAtMidpoint(t);
      const rt1 = successor(r1, rt0);
      await t.clock.wait(L + margin(t, L) - t1, `until ${days(L)} after the first issue`);
      const late = await t.refresh(rt1);
      t.note({ kind: 'rejected', label: 'fixed expiry' });
      expectRefused(late, `the refresh token ${days(L)} after first issue (fixed expiry: refreshing at ${days(t1)} must not extend it)`, r1);
    },
  },
  {
    id: 'expiry.sliding-chain-outlives-lifetime',
    group: 'expiry',
    level: 'MUST',
    title: 'Sliding expiry: a chain of refreshes, each inside the lifetime, outlives the first lifetime',
    clause: ({ profile, policy }) => `${policy.source} (Sliding = YES: 'the lifetime of the refresh token will be renewed'); ${profile.citations.expiry}`,
    applies: whenRefresh((p, i) => (p.expiry === 'sliding' ? true : `policy ${i.client.policy} declares fixed expiry`)),
    waits: (i) => {
      const p = rp(i);
      return p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { p, L, t1, rt0, r1 } = await refreshAtMidpoint(t);
      const rt1 = p.rotation ? refreshTokenOf(r1, `the refresh after ${days(t1)} (rotation declared)`) : successor(r1, rt0);
      // Probe after the first token's end (L) but before the renewed one's (t1 + L): the slack
      // must stay inside that window, however generous a real clock's margin is.
      const slackInside = Math.max(1, Math.min(margin(t, L), Math.floor(t1 / 2)));
      await t.clock.wait(L + slackInside - t1, `past the first token's ${days(L)} lifetime`);
      const r2 = await t.refresh(rt1);
      t.note({ kind: 'refresh', label: 'after first lifetime' });
      expectSuccess(r2, `the refreshed token after the first ${days(L)} lifetime (sliding: refreshed at ${days(t1)}, so valid until ${days(t1 + L)})`);
    },
  },
  {
    id: 'expiry.idle-gap-kills-token',
    group: 'expiry',
    level: 'MUST',
    title: 'An idle gap longer than the lifetime kills the refresh token',
    clause: ({ profile, policy }) => `${policy.source}; ${profile.citations.expiry}; RFC 6749 §5.2 (the error code: token-endpoint.error-shape)`,
    applies: whenRefresh((p, i) => (p.expiry === 'sliding' ? true : `policy ${i.client.policy} declares fixed expiry (see expiry.fixed-not-extended)`)),
    waits: (i) => {
      const p = rp(i);
      return midpoint(p, i) + p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { L, rt0, r1 } = await refreshAtMidpoint(t);
      const rt1 = successor(r1, rt0);
      await t.clock.wait(L + margin(t, L), `an idle gap longer than ${days(L)}`);
      const late = await t.refresh(rt1);
      t.note({ kind: 'rejected', label: 'expired' });
      expectRefused(late, `the refresh token after ${days(L)} without use`);
    },
  },
];
