/**
 * The token timeline of one check (report/timeline.ts): what the harness records (`record`), what the
 * check notes (`note`), and the book of tokens seen: every refresh token by fingerprint, with its issue
 * time and its declared expiry by the client's policy, so the report can draw sliding against fixed.
 */
import type { TimelineEvent, Tokens } from '../checks/types.ts';
import { fingerprint } from '../harness/redact.ts';
import type { TimelineDetails, TokenMark } from '../harness/report/timeline.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import { isRefreshPolicy } from '../../mock-idp/profile/index.ts';

/** A timeline event with what the harness saw: token fingerprints, declared expiries, error codes (report/timeline.ts). */
export interface TimelineEntry extends TimelineEvent, TimelineDetails {
  /** Seconds since the check started, on the target's clock (mock time moves with advances). */
  at: number;
}

export type Timeline = ReturnType<typeof createTimeline>;
export type TokenBook = ReturnType<typeof createTokenBook>;

/** What the harness records (`record`), what a check notes (`note`), and the book of tokens seen. */
export function createTimeline(target: Target, client: TargetClient, now: () => number) {
  const timeline: TimelineEntry[] = [];
  const book = createTokenBook(target, client, now);
  const record = (e: Omit<TimelineEntry, 'at'>): void => {
    timeline.push({ ...e, at: now() });
  };
  /**
   * A check's note usually names a step the harness just recorded (a refresh it then judged): it is merged
   * into that entry, adding its label, and `noted` when the check called it something else (`rejected` for
   * a refresh that succeeded). Anything else becomes an entry of its own.
   */
  const merged = new WeakSet<TimelineEntry>();
  const note = (e: TimelineEvent): void => {
    const last = timeline.at(-1);
    const refreshLike = (k: string) => k === 'refresh' || k === 'rotation' || k === 'rejected';
    if (last && !last.byCheck && last.at === now() && !merged.has(last) && (last.kind === e.kind || (refreshLike(last.kind) && refreshLike(e.kind)))) {
      merged.add(last);
      if (e.label !== undefined) last.label = e.label;
      // A rotation is a refresh; anything else the check calls differently is worth showing.
      if (e.kind !== last.kind && !(e.kind === 'refresh' && last.kind === 'rotation')) last.noted = e.kind;
      return;
    }
    timeline.push({ ...e, at: now(), byCheck: true });
  };
  return { timeline, record, note, book };
}

interface Family {
  /** First issue of the login: the fixed expiry counts from here. */
  start: number;
  ssoEnded: boolean;
}

export function createTokenBook(target: Target, client: TargetClient, now: () => number) {
  const policy = isRefreshPolicy(client.policyRules) ? client.policyRules : undefined;
  const profile = target.profile;
  const known = new Map<string, { mark: TokenMark; family: Family }>();
  const families: Family[] = [];

  const declared = (issuedAt: number, family: Family): Pick<TokenMark, 'expiresAt' | 'expiry'> =>
    policy ? { expiry: policy.expiry, expiresAt: (policy.expiry === 'sliding' ? issuedAt : family.start) + policy.lifetimeSeconds } : {};
  const issue = (token: string, family: Family): TokenMark => {
    const mark: TokenMark = { id: fingerprint(token), issuedAt: now(), ...declared(now(), family) };
    known.set(mark.id, { mark, family });
    return mark;
  };
  /** The SSO session of the login is active: no logout since, and within the profile's session lifetime. */
  const ssoActive = (f: Family) => !f.ssoEnded && now() < f.start + profile.ssoSessionLifetimeSeconds;

  return {
    loggedIn(t: Tokens): Omit<TimelineEntry, 'at'> {
      if (!t.refresh_token) return { kind: 'login', label: 'no refresh token' };
      const family: Family = { start: now(), ssoEnded: false };
      families.push(family);
      return { kind: 'login', token: issue(t.refresh_token, family) };
    },
    refreshed(presented: string, t: Tokens): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(presented);
      const seen = known.get(id);
      if (t.status !== 200) {
        const error = typeof t.body?.error === 'string' ? t.body.error : undefined;
        return { kind: 'rejected', presented: id, status: t.status, ...(error !== undefined && { error }) };
      }
      if (t.refresh_token && t.refresh_token !== presented) {
        const family = seen?.family ?? { start: now(), ssoEnded: false };
        return { kind: 'rotation', presented: id, token: issue(t.refresh_token, family) };
      }
      // No new token: a sliding policy without rotation renews the presented one (while the SSO rule allows new lifetimes).
      if (seen && policy?.expiry === 'sliding' && !policy.rotation && (profile.refreshAfterSsoEnd === 'new-refresh-token' || ssoActive(seen.family))) {
        seen.mark = { ...seen.mark, expiresAt: now() + policy.lifetimeSeconds };
      }
      return { kind: 'refresh', presented: id, ...(seen && { token: seen.mark }) };
    },
    revoked(token: string, hint: string | undefined, status: number): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(token);
      const isRefresh = known.has(id) || hint === 'refresh_token';
      return { kind: 'revocation', status, ...(isRefresh ? { presented: id } : { label: hint === 'access_token' ? 'access token' : 'token' }) };
    },
    loggedOut(): Omit<TimelineEntry, 'at'> {
      for (const f of families) f.ssoEnded = true;
      return { kind: 'logout' };
    },
  };
}
