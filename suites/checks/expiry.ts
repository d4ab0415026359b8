/** Lifetimes: fixed versus sliding refresh-token expiry, expired tokens, access-token expires_in. */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, fail, givenRefreshToken, inconclusive, refreshTokenOf } from './expect.ts';
import type { Check, CheckContext, LoginSession, Tokens } from './types.ts';
import { aimInside, aliveUntil, deadFrom, secs, ssoActiveUntil, unlessPast, waitUntil } from './timing.ts';
import { absoluteCap, asSliding, days, interactive, realMargin, refreshAcceptedAt, renewsUntil, rotatesAt, rp, whenRefresh } from './util.ts';
import { slidingChain, termsOf } from '../../mock-idp/profile/model.ts';

/** When to refresh inside the first lifetime: halfway into the time the model says a refresh renews it. */
function midpoint(i: Parameters<typeof renewsUntil>[0]): number {
  return Math.floor(renewsUntil(i) / 2);
}

/** The token to use after a refresh: the new one if issued, else the presented one. */
function successor(r: { refresh_token?: string }, presented: string): string {
  return typeof r.refresh_token === 'string' && r.refresh_token !== '' ? r.refresh_token : presented;
}

/**
 * The last moment the first refresh surely renews the login's token (measured): inside its life, and
 * inside the SSO session where the model says renewal ends with it (the only earlier end it knows).
 */
function renewableUntil(t: CheckContext, session: LoginSession, L: number): number {
  const alive = aliveUntil(session.tokens, L);
  return renewsUntil(t) < L ? Math.min(alive, ssoActiveUntil(t, session)) : alive;
}

/** Whole seconds as days(), measured ones to a tenth. */
const shown = (seconds: number): string => (Number.isInteger(seconds) ? days(seconds) : secs(seconds));

/**
 * Log in, wait and refresh: the common start of the expiry checks. `midpoint`: halfway into the
 * lifetime; `window`: for a probe between the first token's end and the renewed one's, as late as the
 * token surely renews (less the clock's jitter) on a real clock, so the window is as wide as the
 * lifetime allows, and checked wide enough before any wait.
 */
async function refreshAt(t: CheckContext, when: 'midpoint' | 'window') {
  const p = rp(t);
  const L = p.lifetimeSeconds;
  const session = await t.login({ offline: true });
  const { tokens } = session;
  const rt0 = givenRefreshToken(tokens, 'the code exchange');
  const until = renewableUntil(t, session, L);
  const latest = until - t.clock.jitter();
  const mid = tokens.receivedAt + midpoint(t);
  // Windowed probes on a real clock refresh as late as the token surely renews: the widest window
  // absorbs late timers. The mock's clock is exact: halfway (as the report draws it), or later if
  // halfway leaves no window (the probe needs the renewed end 2 s past the first).
  const windowed = t.clock.kind === 'real' ? latest : Math.max(mid, tokens.receivedAt + 2);
  const at = Math.min(latest, when === 'window' ? windowed : mid);
  // Windowed probes: after the first token surely died, before the renewed one may (its request leaves at `at`).
  if (when === 'window') aimInside(t, deadFrom(tokens, L), at + L - 1, `lifetime ${secs(L)}`);
  const t1 = Math.max(0, at - tokens.receivedAt);
  await waitUntil(t, at, `${shown(t1)} into the ${days(L)} lifetime`);
  const r1 = await t.refresh(rt0);
  if (r1.status !== 200) unlessPast(r1, until, `the refresh after ${secs(t1)}`);
  expectSuccess(r1, `the refresh after ${shown(t1)}`);
  t.note({ kind: 'refresh' });
  return { p, L, t1, session, tokens, rt0, r1 };
}

/** Probe inside the window between the first token's end and the renewed one's (measured): the moment, and its bounds. */
async function waitIntoWindow(t: CheckContext, tokens: Tokens, r1: Tokens, L: number, why: string, endsBy = Infinity): Promise<number> {
  const renewedAlive = Math.min(aliveUntil(r1, L), endsBy);
  const aim = aimInside(t, deadFrom(tokens, L), renewedAlive, `lifetime ${secs(L)}`);
  await waitUntil(t, aim, why);
  return renewedAlive;
}

export const expiryChecks: Check[] = [
  {
    id: 'expiry.access-token-expires-in',
    group: 'expiry',
    level: 'MUST',
    title: 'Access-token expires_in is the declared lifetime',
    clause: ({ profile }) => [profileField(profile, 'accessTokenLifetimeSeconds'), ...profile.citations.expiry, cite.spec('RFC 6749', '5.1')],
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
    clause: (i) => [...i.policy.source, policyField(i, 'lifetimeSeconds'), ...i.profile.citations.expiry],
    // The model decides whether a refresh just before the lifetime ends is owed (the SSO session may end refresh first).
    applies: whenRefresh((p, i) => refreshAcceptedAt(i, p.lifetimeSeconds - 1)),
    waits: (i) => rp(i).lifetimeSeconds,
    async run(t) {
      const p = rp(t);
      const { tokens } = await t.login({ offline: true });
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const until = aliveUntil(tokens, p.lifetimeSeconds);
      await waitUntil(t, until - t.clock.jitter(), `until just before the ${days(p.lifetimeSeconds)} lifetime ends`);
      const r = await t.refresh(rt);
      t.note({ kind: 'refresh', label: 'just before expiry' });
      if (r.status !== 200) unlessPast(r, until, 'the refresh just before expiry');
      expectSuccess(r, `the refresh just before the ${days(p.lifetimeSeconds)} lifetime ends (${p.expiry})`);
    },
  },
  {
    id: 'expiry.fixed-not-extended',
    group: 'expiry',
    level: 'MUST',
    title: 'Fixed expiry: a token refreshed in between still dies at first issue + lifetime',
    clause: (i) => [...i.policy.source, policyField(i, 'expiry'), policyField(i, 'lifetimeSeconds'), ...i.profile.citations.expiry],
    // Observable only where a sliding token refreshed halfway would still refresh after the first
    // lifetime (the model): else a refusal there cannot tell fixed from sliding.
    applies: whenRefresh((p, i) => {
      if (p.expiry !== 'fixed') return `policy ${i.client.policy} declares sliding expiry`;
      const contrast = slidingChain(asSliding(i), i.client.policy);
      return contrast.observable ? true : `a sliding token could not be told apart either: ${contrast.reason}`;
    }),
    waits: (i) => {
      const p = rp(i);
      return p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { L, t1, tokens, rt0, r1 } = await refreshAt(t, 'window');
      const rt1 = successor(r1, rt0);
      // Probe while a token the refresh had renewed would still live: a refusal there tells fixed from sliding.
      const renewedAlive = await waitIntoWindow(t, tokens, r1, L, `until ${days(L)} after the first issue`);
      const late = await t.refresh(rt1);
      t.note({ kind: 'rejected', label: 'fixed expiry' });
      if (late.status !== 200) unlessPast(late, renewedAlive, 'the probe after the first lifetime');
      expectRefused(late, `the refresh token ${days(L)} after first issue (fixed expiry: refreshing at ${shown(t1)} must not extend it)`, r1);
    },
  },
  {
    id: 'expiry.sliding-chain-outlives-lifetime',
    group: 'expiry',
    level: 'MUST',
    title: 'Sliding expiry: a chain of refreshes, each inside the lifetime, outlives the first lifetime',
    clause: (i) => [...i.policy.source, policyField(i, 'expiry'), ...i.profile.citations.expiry],
    // The model says whether the chain is observable: a sliding policy, and a refresh after the first
    // lifetime that is not refused (with refreshAfterSsoEnd invalid_grant the SSO session may end first).
    applies: whenRefresh((_p, i) => {
      const chain = slidingChain(i.profile, i.client.policy);
      return chain.observable ? true : chain.reason;
    }),
    waits: (i) => {
      const p = rp(i);
      return p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { p, L, t1, session, tokens, rt0, r1 } = await refreshAt(t, 'window');
      const rt1 = rotatesAt(t, t1) === true ? refreshTokenOf(r1, `the refresh after ${shown(t1)} (rotation declared)`) : successor(r1, rt0);
      // Probe after the first token surely died, before the renewed one may (both measured), and
      // before the SSO session ends where the model's window ends with it.
      const chain = slidingChain(t.profile, t.client.policy);
      const endsWithSso = chain.observable && chain.until < chain.refreshAt + L;
      // A sliding maximum (policies.*.maxLifetimeSeconds) ends the renewed token at the family's first issue + max.
      const max = termsOf(t.profile, p, false).maxLifetimeSeconds;
      const endsBy = Math.min(endsWithSso ? ssoActiveUntil(t, session) : Infinity, max !== undefined ? aliveUntil(tokens, max) : Infinity);
      const renewedAlive = await waitIntoWindow(t, tokens, r1, L, `past the first token's ${days(L)} lifetime`, endsBy);
      const r2 = await t.refresh(rt1);
      t.note({ kind: 'refresh', label: 'after first lifetime' });
      if (r2.status !== 200) unlessPast(r2, renewedAlive, 'the refresh after the first lifetime');
      expectSuccess(r2, `the refreshed token after the first ${days(L)} lifetime (sliding: refreshed at ${shown(t1)}, so valid until ${shown(t1 + L)})`);
    },
  },
  {
    id: 'expiry.idle-gap-kills-token',
    group: 'expiry',
    level: 'MUST',
    title: 'An idle gap longer than the lifetime kills the refresh token',
    clause: (i) => [...i.policy.source, policyField(i, 'lifetimeSeconds'), ...i.profile.citations.expiry, cite.spec('RFC 6749', '5.2', 'the error code: token-endpoint.error-shape')],
    applies: whenRefresh((p, i) => (p.expiry === 'sliding' ? true : `policy ${i.client.policy} declares fixed expiry (see expiry.fixed-not-extended)`)),
    waits: (i) => {
      const p = rp(i);
      return midpoint(i) + p.lifetimeSeconds + realMargin(p.lifetimeSeconds);
    },
    async run(t) {
      const { L, rt0, r1 } = await refreshAt(t, 'midpoint');
      const rt1 = successor(r1, rt0);
      await waitUntil(t, deadFrom(r1, L), `an idle gap longer than ${days(L)}`);
      const late = await t.refresh(rt1);
      t.note({ kind: 'rejected', label: 'expired' });
      expectRefused(late, `the refresh token after ${days(L)} without use`);
    },
  },
  {
    id: 'expiry.absolute-max-caps-sliding',
    group: 'expiry',
    level: 'MUST',
    title: 'Sliding with an absolute maximum: refreshed within the idle lifetime again and again, the token is refused at the maximum though used recently',
    clause: (i) => [...i.policy.source, policyField(i, 'expiry'), policyField(i, 'lifetimeSeconds'), cite.field(`policies.${i.client.policy}.maxLifetimeSeconds`, i.policy.maxLifetimeSeconds), ...i.profile.citations.expiry],
    // The model says whether the cap shows: every refresh of the schedule renews, the probe at the
    // maximum is refused for its expiry, and the same IdP without the maximum would accept it.
    applies: whenRefresh((_p, i) => {
      const cap = absoluteCap(i);
      return cap.observable ? true : cap.reason;
    }),
    waits: (i) => {
      const cap = absoluteCap(i);
      return cap.observable ? cap.max + realMargin(cap.max) : 0;
    },
    async run(t) {
      const cap = absoluteCap(t);
      if (!cap.observable) return inconclusive(cap.reason);
      const { refreshes, max: M, lifetime: L } = cap;
      const { tokens } = await t.login({ offline: true });
      let current = givenRefreshToken(tokens, 'the code exchange');
      let last: Tokens = tokens;
      for (const at of refreshes) {
        // Each refresh inside the current token's idle lifetime and before the maximum (both surely, measured).
        const until = Math.min(aliveUntil(last, L), aliveUntil(tokens, M));
        await waitUntil(t, Math.min(tokens.receivedAt + at, until - t.clock.jitter()), `${days(at)} after login (idle lifetime ${days(L)})`);
        const r = await t.refresh(current);
        if (r.status !== 200) unlessPast(r, until, `the refresh ${days(at)} after login`);
        expectSuccess(r, `the refresh ${shown(at)} after login (sliding: within the ${days(L)} idle lifetime, before the ${days(M)} maximum)`);
        current = successor(r, current);
        last = r;
      }
      t.note({ kind: 'refresh', label: 'last before the maximum' });
      // At the maximum (surely past it), while the last refresh would keep an uncapped token alive (surely).
      const aim = aimInside(t, deadFrom(tokens, M), aliveUntil(last, L), `maximum ${secs(M)}, idle lifetime ${secs(L)}`);
      await waitUntil(t, aim, `the family's ${days(M)} maximum`);
      const late = await t.refresh(current);
      t.note({ kind: 'rejected', label: 'absolute maximum' });
      expectRefused(late, `the refresh token at the ${days(M)} maximum after login, though last refreshed ${shown(aim - last.receivedAt)} before (idle lifetime ${days(L)})`, last);
    },
  },
];
