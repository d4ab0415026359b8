/**
 * The probes of one client (one policy): small experiments, each a fresh login and a few requests,
 * whose answers say what the IdP does. Every observation names the profile field it speaks to.
 * The probes never judge: they record what happened; diff.ts compares with a declared profile.
 *
 * A refresh is "accepted" when it answers 200 with an access token, "refused" when it answers an
 * OAuth error (4xx with `error`); anything else (5xx, a non-JSON body, transport) is no answer, and
 * the field it would have shown is unobservable.
 */
import { decodeJwt } from 'jose';
import type { CheckContext, Tokens } from '../checks/types.ts';
import type { Exchange } from '../harness/record.ts';
import { findBoundary, type BoundarySample } from './boundary.ts';
import type { Trial } from './trial.ts';
import { bounded, observed, unobservable, type Finding, type Observation } from './types.ts';

export type Verdict = 'accepted' | 'refused' | 'other';

export function verdictOf(r: Tokens): Verdict {
  if (r.status === 200 && typeof r.access_token === 'string') return 'accepted';
  if (r.status >= 400 && r.status < 500 && typeof r.body?.error === 'string') return 'refused';
  return 'other';
}

export interface ProbeSettings {
  clock: 'mock' | 'real';
  /** The longest single wait (seconds): the target's clock.maxWaitSeconds on a real clock, years on the mock's. */
  maxWait: number;
  /** Concurrent refreshes in the concurrency probe. */
  concurrent: number;
  /** The target can log out (true), or why not (connection.ts capabilitiesOf). */
  logout: true | string;
}

export const MOCK_HORIZON = 10 * 366 * 86_400;
/** Refreshes in a sliding chain before we stop looking for a maximum. */
const CHAIN_STEPS = 60;

class NoAnswer extends Error {
  constructor(
    readonly what: string,
    readonly answer: Tokens,
  ) {
    super(`${what}: no OAuth answer (HTTP ${answer.status})`);
  }
}

function must(r: Tokens, what: string): Verdict {
  const v = verdictOf(r);
  if (v === 'other') throw new NoAnswer(what, r);
  return v;
}

const ex = (...answers: (Tokens | undefined)[]): Exchange[] => answers.filter((a): a is Tokens => a !== undefined).map((a) => a.exchange);

export interface PolicyObservation {
  observations: Observation[];
  findings: Finding[];
}

/** Everything observable about one client's policy; `policy` is the client's policy name in the profile. */
export async function observePolicy(trial: Trial, client: string, policy: string, s: ProbeSettings): Promise<PolicyObservation> {
  const out: Observation[] = [];
  const findings: Finding[] = [];
  const P = `policies.${policy}`;
  const add = (o: Observation) => out.push({ ...o, client });
  const failed = (fields: string[], reason: string) => fields.forEach((f) => add(unobservable(f, reason)));

  // 1. Issuance, with and without offline access; the first refresh and what its response carries.
  const first = await trial('first-refresh', async (t) => {
    const withOffline = (await t.login({ offline: true })).tokens;
    const rt0 = withOffline.refresh_token;
    if (rt0 === undefined) return { withOffline };
    const r1 = await t.refresh(rt0);
    return { withOffline, rt0, r1 };
  });
  const online = await trial('issuance-without-offline-access', async (t) => (await t.login({ offline: false })).tokens);
  if (!first.ok) {
    failed([`${P}.refresh`, `${P}.rotation`, 'refreshTokenIssuance'], first.reason);
    return { observations: out, findings };
  }
  const { withOffline, rt0, r1 } = first.value;
  if (typeof withOffline.expires_in === 'number') {
    add(observed('accessTokenLifetimeSeconds', withOffline.expires_in, 'expires_in of the code exchange', ex(withOffline)));
  }
  if (withOffline.id_token !== undefined) {
    const { iat, exp } = decodeJwt(withOffline.id_token);
    if (typeof iat === 'number' && typeof exp === 'number') add(observed('idTokenLifetimeSeconds', exp - iat, 'exp − iat of the ID token from the code exchange', ex(withOffline)));
  }
  const onlineRt = online.ok ? online.value.refresh_token : undefined;
  if (rt0 === undefined && onlineRt === undefined) {
    add(observed(`${P}.refresh`, false, 'no refresh token from the code exchange, with offline access or without', ex(withOffline, online.ok ? online.value : undefined)));
    return { observations: out, findings };
  }
  add(observed(`${P}.refresh`, true, 'the code exchange issued a refresh token', ex(withOffline)));
  if (online.ok) {
    add(
      observed(
        'refreshTokenIssuance',
        onlineRt !== undefined ? 'always' : 'offline-access',
        onlineRt !== undefined ? 'a code exchange without offline access also issued a refresh token' : 'no refresh token without offline access',
        ex(online.value),
      ),
    );
  } else add(unobservable('refreshTokenIssuance', online.reason));
  if (rt0 === undefined || r1 === undefined) {
    failed([`${P}.rotation`], 'no refresh token with offline access to probe');
    return { observations: out, findings };
  }
  add(
    observed('refreshExpiresIn', typeof withOffline.body?.refresh_expires_in === 'number', 'refresh_expires_in in the code exchange response', ex(withOffline)),
  );
  const v1 = verdictOf(r1);
  if (v1 !== 'accepted') {
    failed([`${P}.rotation`], `the first refresh was not accepted (HTTP ${r1.status})`);
    return { observations: out, findings };
  }
  const rotation = r1.refresh_token !== undefined && r1.refresh_token !== rt0;
  add(observed(`${P}.rotation`, rotation, rotation ? 'the refresh returned a new refresh token' : 'the refresh returned no new refresh token', ex(r1)));
  add(
    observed(
      'idTokenOnRefresh',
      r1.id_token !== undefined ? 'always' : 'never',
      r1.id_token !== undefined ? 'the refresh response carried an id_token (openid scope)' : 'no id_token in the refresh response (openid scope)',
      ex(r1),
    ),
  );

  // 2. Reuse of the rotated-out token right away; then the newest one.
  if (rotation) await observeReuse(trial, s, add, findings, client);

  // 3. After logout (the SSO session ended), for offline and online tokens: it says whether the
  // session's end can hide a lifetime's (a refusal at the session's end looks like an expiry).
  const offlineEnd = await observeAfterLogout(trial, s, add, { offline: true, rotation });
  const onlineEnd = onlineRt !== undefined ? await observeAfterLogout(trial, s, add, { offline: false, rotation }) : undefined;

  // 4. Lifetimes: the first token's, sliding or fixed, and a maximum.
  await observeLifetimes(trial, P, s, add, { offline: true, prefix: P, ssoEnd: offlineEnd, rotation });
  if (onlineRt !== undefined) await observeLifetimes(trial, P, s, add, { offline: false, prefix: `${P}.online`, ssoEnd: onlineEnd, rotation });

  // 5. Introspection coverage.
  const intro = await trial('introspection', async (t) => {
    if (!t.has('introspection')) return undefined;
    const { tokens } = await t.login({ offline: true });
    if (tokens.access_token === undefined || tokens.refresh_token === undefined) return undefined;
    const at = await t.introspect(tokens.access_token, 'access_token');
    const rt = await t.introspect(tokens.refresh_token, 'refresh_token');
    return at && rt ? { at, rt } : undefined;
  });
  if (!intro.ok) add(unobservable('introspection', intro.reason));
  else if (!intro.value) add(unobservable('introspection', 'no introspection endpoint, or no confidential client to introspect with'));
  else {
    const { at, rt } = intro.value;
    const atActive = at.status === 200 && at.body?.active === true;
    const rtActive = rt.status === 200 && rt.body?.active === true;
    if (!atActive) add(unobservable('introspection', `a live access token did not introspect as active (HTTP ${at.status})`, [at.exchange]));
    else add(observed('introspection', rtActive ? 'access-and-refresh-tokens' : 'access-tokens', rtActive ? 'a live refresh token introspected as active' : 'a live refresh token introspected as inactive, a live access token as active', [at.exchange, rt.exchange]));
  }
  return { observations: out, findings };
}

type Add = (o: Observation) => void;

async function observeReuse(trial: Trial, s: ProbeSettings, add: Add, findings: Finding[], client: string): Promise<void> {
  const reuse = await trial('reuse', async (t) => {
    const { tokens } = await t.login({ offline: true });
    const rt0 = tokens.refresh_token!;
    const r1 = await t.refresh(rt0);
    const again = await t.refresh(rt0);
    const newest = r1.refresh_token !== undefined ? await t.refresh(r1.refresh_token) : undefined;
    return { r1, again, newest };
  });
  if (!reuse.ok) {
    for (const f of ['reuseOfRotatedToken', 'graceWindowSeconds', 'invalidGrantStatus', 'concurrentRefresh']) add(unobservable(f, reuse.reason));
    return;
  }
  const { r1, again, newest } = reuse.value;
  const vAgain = verdictOf(again);
  let retry: 'refused' | 'same' | 'new' = 'refused';
  let graceCount = 0;
  if (vAgain === 'refused') {
    judgeReuse(add, r1, again, newest, 'at once');
    add(observed('graceWindowSeconds', 0, 'the rotated-out token was refused at once', ex(again)));
  } else if (vAgain === 'accepted') {
    retry = again.refresh_token !== undefined && again.refresh_token === r1.refresh_token ? 'same' : 'new';
  } else add(unobservable('reuseOfRotatedToken', `the reused token got no OAuth answer (HTTP ${again.status})`, ex(again)));

  if (retry !== 'refused') {
    // Accepted again: the same successor (at once) and/or a grace window (a new token each time).
    if (retry === 'same') add(observed('concurrentRefresh', 'same-successor', 'the rotated-out token presented again at once returned the same new refresh token', ex(r1, again)));
    // accepted ⇔ elapsed ≤ G ⇔ elapsed < G + 1 (whole seconds): the boundary found is G + 1.
    const window = await findBoundary(
      async (w): Promise<BoundarySample | { error: string }> => {
        const r = await trial(`grace-${w}`, async (t) => {
          const { tokens } = await t.login({ offline: true });
          const a = await t.refresh(tokens.refresh_token!);
          if (w > 0) await t.clock.wait(w, 'the rotated-out token to be presented again');
          const b = await t.refresh(tokens.refresh_token!);
          return { a, b, v: must(b, 'the retry') };
        });
        if (!r.ok) return { error: r.reason };
        const { a, b, v } = r.value;
        return { accepted: v === 'accepted', min: b.sentAt - a.receivedAt, max: b.receivedAt - a.sentAt };
      },
      { exact: s.clock === 'mock', cap: s.maxWait },
    );
    let after: number | undefined;
    if ('error' in window) add(unobservable('graceWindowSeconds', window.error));
    else if (window.high === Infinity) add(bounded('graceWindowSeconds', undefined, window.low, Infinity, `a retry still worked ${window.low} s after the rotation (the wait budget)`));
    else if (s.clock === 'mock') {
      add(observed('graceWindowSeconds', window.high - 1, `a retry worked ${window.high - 1} s after the rotation, not ${window.high} s after`));
      after = window.high;
    } else {
      add(bounded('graceWindowSeconds', Math.max(0, Math.round((window.low + window.high) / 2) - 1), Math.max(0, window.low - 1), window.high, `retries accepted up to ${window.low.toFixed(1)} s and refused from ${window.high.toFixed(1)} s after the rotation`));
      after = window.high + 1;
    }

    // How many retries within the window (right after the rotation's second when the same successor answers in it).
    const count = await trial('grace-count', async (t) => {
      const { tokens } = await t.login({ offline: true });
      await t.refresh(tokens.refresh_token!);
      if (retry === 'same') await t.clock.wait(1, 'past the second of the rotation');
      let n = 0;
      let last: Tokens | undefined;
      while (n < 20) {
        last = await t.refresh(tokens.refresh_token!);
        if (must(last, `retry ${n + 1}`) !== 'accepted') break;
        n++;
      }
      return { n, last };
    });
    if (!count.ok) add(unobservable('graceReuseCount', count.reason));
    else if (count.value.n >= 20) {
      graceCount = Infinity;
      add(bounded('graceReuseCount', undefined, 20, Infinity, 'more than 20 retries of one rotated-out token worked'));
    }
    else if (count.value.n > 0) {
      graceCount = count.value.n;
      add(observed('graceReuseCount', count.value.n, `${count.value.n} retries of one rotated-out token worked, the next was refused`, ex(count.value.last)));
    }

    // Reuse once no retry is allowed any more: refused, and the family?
    if (after !== undefined) {
      const wait = after;
      const late = await trial('reuse-after-window', async (t) => {
        const { tokens } = await t.login({ offline: true });
        const a = await t.refresh(tokens.refresh_token!);
        await t.clock.wait(wait, 'the grace window to pass');
        const b = await t.refresh(tokens.refresh_token!);
        const c = a.refresh_token !== undefined ? await t.refresh(a.refresh_token) : undefined;
        return { a, b, c };
      });
      if (late.ok && verdictOf(late.value.b) === 'refused') judgeReuse(add, late.value.a, late.value.b, late.value.c, 'after the grace window');
      else add(unobservable('reuseOfRotatedToken', late.ok ? `the rotated-out token still worked ${wait} s after the rotation` : late.reason));
    }
  }

  // Concurrent presentations of one token.
  const conc = await trial('concurrent', async (t) => {
    const { tokens } = await t.login({ offline: true });
    return t.refreshConcurrently(tokens.refresh_token!, s.concurrent);
  });
  if (!conc.ok) {
    add(unobservable('concurrentRefresh', conc.reason));
    return;
  }
  const winners = conc.value.filter((a) => verdictOf(a) === 'accepted');
  const distinct = new Set(winners.map((w) => w.refresh_token));
  const evidence = ex(...conc.value.slice(0, 3));
  const n = s.concurrent;
  if (winners.length === 0) add(unobservable('concurrentRefresh', `none of ${n} concurrent refreshes succeeded`, evidence));
  else if (retry === 'same' || (winners.length > 1 && distinct.size === 1)) {
    add(observed('concurrentRefresh', 'same-successor', `${winners.length} of ${n} concurrent refreshes succeeded, with ${distinct.size} new refresh token(s)`, evidence));
  } else {
    const several = winners.length - 1 > graceCount;
    // Several different winners beyond what grace retries explain: no profile value says that (a finding).
    add(
      observed(
        'concurrentRefresh',
        several ? 'several-winners' : 'single-winner',
        `${winners.length} of ${n} concurrent refreshes succeeded${winners.length > 1 ? ` with ${distinct.size} different new refresh tokens; grace retries explain ${graceCount}` : ''}`,
        evidence,
      ),
    );
    if (several) {
      findings.push({
        client,
        title: 'several different concurrent winners',
        detail: `${winners.length} of ${n} concurrent refreshes of one token succeeded with ${distinct.size} different new refresh tokens; grace retries explain at most ${graceCount}`,
        evidence,
      });
    }
  }
}

/** The reused token was refused: its status, and whether the newest token still works (the family). */
function judgeReuse(add: Add, r1: Tokens, reused: Tokens, newest: Tokens | undefined, when: string): void {
  add(observed('invalidGrantStatus', reused.status, `the reused token was refused ${when} with HTTP ${reused.status}`, ex(reused)));
  if (!newest) return;
  const v = verdictOf(newest);
  if (v === 'other') return;
  add(
    observed(
      'reuseOfRotatedToken',
      v === 'refused' ? 'revoke-family' : 'reject',
      v === 'refused' ? `after the reuse (${when}), the newest refresh token was refused too` : `after the reuse (${when}), the newest refresh token still worked`,
      ex(r1, reused, newest),
    ),
  );
}

/** What a refresh after the SSO session's end does (observeAfterLogout), if seen. */
type SsoEnd = 'new-refresh-token' | 'no-new-refresh-token' | 'invalid_grant' | undefined;

/** Lifetime (first expiry), sliding or fixed, and a maximum, of an offline (or online) token. */
async function observeLifetimes(trial: Trial, P: string, s: ProbeSettings, add: Add, o: { offline: boolean; prefix: string; ssoEnd: SsoEnd; rotation: boolean }): Promise<void> {
  const kind = o.offline ? 'offline' : 'online';
  const lifeField = `${o.prefix}.lifetimeSeconds`;
  const cap = s.clock === 'mock' ? MOCK_HORIZON : s.maxWait;
  const life = await findBoundary(
    async (w): Promise<BoundarySample | { error: string }> => {
      const r = await trial(`${kind}-lifetime-${w}`, async (t) => {
        const { tokens } = await t.login({ offline: o.offline });
        if (tokens.refresh_token === undefined) throw new Error('no refresh token to probe');
        if (w > 0) await t.clock.wait(w, 'the refresh token to age');
        const r = await t.refresh(tokens.refresh_token);
        return { tokens, r, v: must(r, 'the refresh') };
      });
      if (!r.ok) return { error: r.reason };
      return { accepted: r.value.v === 'accepted', min: r.value.r.sentAt - r.value.tokens.receivedAt, max: r.value.r.receivedAt - r.value.tokens.sentAt };
    },
    { exact: s.clock === 'mock', cap },
  );
  if ('error' in life) {
    add(unobservable(lifeField, life.error));
    return;
  }
  if (life.high === Infinity) {
    add(bounded(lifeField, undefined, life.low, Infinity, `a refresh still worked ${life.low} s after issue (the wait budget)`));
    return;
  }
  // Where refresh ends with the SSO session, a refusal at T is the first of the expiry and the session's end.
  const hidden = o.ssoEnd === 'invalid_grant';
  const L = s.clock === 'mock' ? life.high : Math.round((life.low + life.high) / 2);
  const lifeSeen = (confirmed: boolean) => {
    if (hidden && !confirmed) {
      add(bounded(lifeField, L, L, Infinity, `refreshes were refused from ${L} s after issue; refresh also ends with the SSO session, so the lifetime is ${L} s or longer`));
    } else if (s.clock === 'mock') {
      add(observed(lifeField, L, `a refresh worked ${L - 1} s after issue and was refused at ${L} s`));
    } else {
      // Whole-second exp on the server: one more second of doubt either way.
      add(bounded(lifeField, L, Math.max(0, life.low - 1), life.high + 1, `refreshes accepted up to ${life.low.toFixed(1)} s and refused from ${life.high.toFixed(1)} s after issue`));
    }
  };
  if (L < 2) {
    lifeSeen(false);
    return;
  }
  // Sliding or fixed: refresh while the token surely lives, then present the token the refresh leaves
  // when the first expiry has surely passed but a renewed one surely has not. On the mock's exact
  // clock: refresh 1 s after issue (the SSO session has not ended), present at the lifetime. On a real
  // clock the lifetime is known to ±1 s: refresh as late as surely alive, present just past the first
  // expiry; a window too narrow for the measured jitter leaves the field unobservable (with the numbers).
  const u = s.clock === 'mock' ? 0 : 1;
  const expiry = await trial(`${kind}-sliding`, async (t) => {
    const { tokens } = await t.login({ offline: o.offline });
    const issued = tokens.receivedAt;
    const refreshAt = s.clock === 'mock' ? issued + 1 : issued + (L - u) - (1 + t.clock.jitter());
    if (refreshAt <= t.clock.now()) return { narrow: `no time to refresh before a ${L} s lifetime surely ends` };
    await t.clock.wait(refreshAt - t.clock.now(), 'a refresh while the token surely lives');
    const a = await t.refresh(tokens.refresh_token!);
    if (must(a, 'the refresh while the token lives') !== 'accepted') return { refused: a };
    const next = a.refresh_token ?? tokens.refresh_token!;
    const presentAt = s.clock === 'mock' ? issued + L : issued + L + u + t.clock.jitter();
    const renewedFrom = a.sentAt + L - u;
    if (s.clock === 'real' && presentAt + t.clock.jitter() >= renewedFrom) {
      return { narrow: `the first expiry surely passes at ${presentAt.toFixed(1)} s but a renewed one may come from ${renewedFrom.toFixed(1)} s (lifetime ${L} ± ${u} s, jitter ${t.clock.jitter().toFixed(1)} s)` };
    }
    await t.clock.wait(Math.max(0, presentAt - t.clock.now()), 'past the first lifetime');
    const b = await t.refresh(next);
    return { a, b, presented: tokens.refresh_token!, v: must(b, 'the refresh past the first lifetime') };
  });
  if (!expiry.ok || !('v' in expiry.value)) {
    lifeSeen(false);
    const why = !expiry.ok ? expiry.reason : 'narrow' in expiry.value ? `window too narrow: ${expiry.value.narrow}` : 'the refresh while the token lived was refused';
    if (o.offline) add(unobservable(`${P}.expiry`, why));
    return;
  }
  const seen = expiry.value as { a: Tokens; b: Tokens; presented: string; v: Verdict };
  const sliding = seen.v === 'accepted';
  // "fixed" needs a refresh that surely came while the SSO session lasted where its end stops renewal:
  // on the mock (1 s after issue), where the session does not matter, or a rotation that still renewed.
  const renewedByRotation = o.rotation && seen.a.refresh_token !== undefined && seen.a.refresh_token !== seen.presented;
  const fixedCertain = s.clock === 'mock' || o.ssoEnd === 'new-refresh-token' || renewedByRotation;
  if (!sliding && !fixedCertain) {
    lifeSeen(false);
    if (o.offline) add(unobservable(`${P}.expiry`, 'the refresh may have come after the SSO session ended, which stops renewal: a token that was not renewed says nothing of sliding', ex(seen.a, seen.b)));
    return;
  }
  // A token that outlived T after a refresh: T was the lifetime, not the session's end.
  lifeSeen(sliding);
  if (o.offline) {
    if (sliding || !hidden) {
      add(observed(`${P}.expiry`, sliding ? 'sliding' : 'fixed', sliding ? 'a refreshed token worked past the first expiry' : 'a refresh did not let the token live past the first expiry', ex(seen.a, seen.b)));
    } else add(unobservable(`${P}.expiry`, 'the refreshed token died at the first refusal time, which may be the SSO session\'s end'));
  }
  if (sliding) await observeMaximum(trial, s, add, { ...o, L, field: `${o.prefix}.maxLifetimeSeconds` });
}

/** A sliding chain refreshed every (L − 1) s until refused: where it dies is the maximum (or the SSO session's end). */
async function observeMaximum(trial: Trial, s: ProbeSettings, add: Add, o: { offline: boolean; L: number; field: string; ssoEnd: SsoEnd }): Promise<void> {
  const step = Math.max(1, o.L - (s.clock === 'mock' ? 1 : Math.max(2, Math.ceil(o.L * 0.3))));
  const steps = s.clock === 'mock' ? CHAIN_STEPS : Math.max(1, Math.floor(s.maxWait / step));
  const chain = await trial(`${o.offline ? 'offline' : 'online'}-maximum`, async (t) => {
    const { tokens } = await t.login({ offline: o.offline });
    let rt = tokens.refresh_token!;
    let diedAt: number | undefined;
    let lastOk = 0;
    let last: Tokens = tokens;
    for (let i = 1; i <= steps; i++) {
      await t.clock.wait(step, 'the next refresh of the chain');
      last = await t.refresh(rt);
      if (must(last, `chain refresh ${i}`) !== 'accepted') {
        diedAt = t.clock.now() - tokens.sentAt;
        break;
      }
      lastOk = t.clock.now() - tokens.sentAt;
      rt = last.refresh_token ?? rt;
    }
    return { diedAt, lastOk, last };
  });
  if (!chain.ok) {
    add(unobservable(o.field, chain.reason));
    return;
  }
  const { diedAt, lastOk, last } = chain.value;
  if (diedAt === undefined) {
    add(bounded(o.field, null, lastOk, Infinity, `a sliding chain refreshed every ${step} s still worked after ${Math.round(lastOk)} s: no maximum within that`));
    return;
  }
  if (o.ssoEnd !== 'new-refresh-token') {
    // The session's end stops renewal (or refresh) by itself: the chain's end may be it, not a maximum.
    add(bounded(o.field, null, Math.floor(lastOk), Infinity, `a sliding chain died ${Math.round(diedAt)} s after issue; refresh depends on the SSO session${o.ssoEnd ? ` (after it: ${o.ssoEnd})` : ' (not observed)'}, so a maximum, if any, is not shorter than ${Math.floor(lastOk)} s`, ex(last)));
    return;
  }
  if (s.clock !== 'mock') {
    add(bounded(o.field, Math.round(diedAt), lastOk, diedAt + 1, `a sliding chain died between ${lastOk.toFixed(1)} s and ${diedAt.toFixed(1)} s after issue`, ex(last)));
    return;
  }
  // Exact on the mock: the chain up to lastOk, then one refresh at lastOk + d, bisected over d.
  const exact = await findBoundary(
    async (d) => {
      const r = await trial(`maximum-${d}`, async (t) => {
        const { tokens } = await t.login({ offline: o.offline });
        let rt = tokens.refresh_token!;
        for (let at = step; at <= lastOk; at += step) {
          await t.clock.wait(step, 'the next refresh of the chain');
          const a = await t.refresh(rt);
          if (must(a, 'chain refresh') !== 'accepted') throw new Error('the chain died earlier than before');
          rt = a.refresh_token ?? rt;
        }
        if (d > 0) await t.clock.wait(d, 'towards the maximum');
        return must(await t.refresh(rt), 'the last refresh');
      });
      return r.ok ? { accepted: r.value === 'accepted', min: lastOk + d, max: lastOk + d } : { error: r.reason };
    },
    { exact: true, cap: step },
  );
  if ('error' in exact || exact.high === Infinity) {
    add(bounded(o.field, diedAt, lastOk + 1, diedAt, `a sliding chain died between ${lastOk} s and ${diedAt} s after issue`, ex(last)));
    return;
  }
  add(observed(o.field, exact.high, `a sliding chain refreshed every ${step} s was refused from ${exact.high} s after the first issue`, ex(last)));
}

/** A refresh after logout: refused, a new refresh token, or none (and is the presented token used up?). */
async function observeAfterLogout(trial: Trial, s: ProbeSettings, add: Add, o: { offline: boolean; rotation: boolean }): Promise<SsoEnd> {
  const field = o.offline ? 'refreshAfterSsoEnd' : 'onlineTokens.refreshAfterSsoEnd';
  if (s.logout !== true) {
    add(unobservable(field, `no logout to observe it: ${s.logout}`));
    return undefined;
  }
  const r = await trial(`after-logout-${o.offline ? 'offline' : 'online'}`, async (t: CheckContext) => {
    const session = await t.login({ offline: o.offline });
    const rt = session.tokens.refresh_token;
    if (rt === undefined) return undefined;
    await t.logout(session);
    const a = await t.refresh(rt);
    const va = must(a, 'the refresh after logout');
    // A response may echo the presented token (oidc-provider does): that is no new refresh token.
    const renewed = a.refresh_token !== undefined && a.refresh_token !== rt;
    const again = va === 'accepted' && !renewed ? await t.refresh(rt) : undefined;
    return { a, va, again, renewed };
  });
  if (!r.ok) {
    add(unobservable(field, `no logout to observe it: ${r.reason}`));
    return undefined;
  }
  if (!r.value) return undefined;
  const { a, va, again, renewed } = r.value;
  if (va === 'refused') {
    add(observed(field, 'invalid_grant', 'the refresh after logout was refused', ex(a)));
    return 'invalid_grant';
  }
  if (!o.rotation) {
    add(unobservable(field, 'the policy does not rotate: a refresh after logout returns no new refresh token either way', ex(a)));
    return undefined;
  }
  if (renewed) {
    add(observed(field, 'new-refresh-token', 'the refresh after logout returned a new refresh token', ex(a)));
    return 'new-refresh-token';
  }
  add(observed(field, 'no-new-refresh-token', 'the refresh after logout returned an access token and no new refresh token', ex(a)));
  if (o.offline && again) {
    const v = verdictOf(again);
    if (v !== 'other') add(observed('presentedTokenAfterSsoEnd', v === 'accepted' ? 'usable-until-expiry' : 'consumed', v === 'accepted' ? 'the presented token worked again' : 'the presented token was refused the second time', ex(a, again)));
  }
  return 'no-new-refresh-token';
}
