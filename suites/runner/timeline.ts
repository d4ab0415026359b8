/**
 * The token timeline of one check (report/timeline.ts): what the harness records (`record`), what the
 * check notes (`note`), and the book of tokens seen: every refresh token by fingerprint, with its issue
 * time and its declared expiry (the refresh model's), so the report can draw sliding against fixed.
 */
import type { TimelineEvent, Tokens } from '../checks/types.ts';
import { fingerprint } from '../harness/redact.ts';
import type { TimelineDetails, TokenMark } from '../harness/report/timeline.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import { isRefreshPolicy } from '../../mock-idp/profile/index.ts';
import { expiryOf, replay, type ModelEvent, type Step } from '../../mock-idp/profile/model.ts';
import type { ProofSent } from './token-endpoint.ts';

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

/**
 * The book of refresh tokens seen, and their declared expiries: the refresh model's answer
 * (mock-idp/profile/model.ts `replay`) for the history the harness observed (logins, refreshes, logouts,
 * revocations), so the report draws what the profile declares for exactly what happened, without a
 * copy of the rules here. A token the IdP issued where the profile declares none has no declared expiry.
 */
export function createTokenBook(target: Target, client: TargetClient, now: () => number) {
  const policy = isRefreshPolicy(client.policyRules) ? client.policyRules : undefined;
  const events: ModelEvent[] = [];
  const issuedAt = new Map<string, number>();
  /** The DPoP key thumbprint each token is bound to, as the model declares it for the proofs sent (RFC 9449 §5). */
  const boundTo = new Map<string, string>();
  let steps: Step[] = [];

  /** Adds an observed event and replays the history (a few events per check: cheap). */
  const observe = (event: ModelEvent): void => {
    if (!policy) return;
    events.push(event);
    steps = replay(target.profile, client.policy, events);
  };
  const mark = (id: string): TokenMark => {
    const expiresAt = policy ? expiryOf(steps, id) : undefined;
    const jkt = boundTo.get(id);
    return { id, issuedAt: issuedAt.get(id) ?? now(), ...(policy && expiresAt !== undefined && { expiry: policy.expiry, expiresAt }), ...(jkt !== undefined && { jkt }) };
  };
  /** The model's event key for a proof: the key's thumbprint, or null for none; an invalid proof is no event of the grant. */
  const keyOf = (sent: ProofSent): { key: string | null } | undefined => (sent === 'invalid' ? undefined : { key: sent });

  return {
    /** `sent`: the DPoP proof key the code exchange used; `offline`: the login asked for offline access (without it a token is an online one, refreshTokenIssuance "always", on its own terms). */
    loggedIn(t: Tokens, sent: ProofSent = null, offline = true): Omit<TimelineEntry, 'at'> {
      if (!t.refresh_token) return { kind: 'login', label: 'no refresh token' };
      const id = fingerprint(t.refresh_token);
      if (!issuedAt.has(id)) {
        issuedAt.set(id, now());
        observe({ kind: 'issue', at: now(), token: id, offline, ...keyOf(sent) });
        const issued = steps.at(-1)?.outcome;
        if (issued?.kind === 'issued' && issued.token === id && issued.jkt !== undefined) boundTo.set(id, issued.jkt);
      }
      return { kind: 'login', token: mark(id), ...(!offline && { label: 'online token' }) };
    },
    refreshed(presented: string, t: Tokens, sent: ProofSent = null): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(presented);
      const fresh = t.status === 200 && t.refresh_token && t.refresh_token !== presented ? fingerprint(t.refresh_token) : undefined;
      const isNew = fresh !== undefined && !issuedAt.has(fresh);
      if (isNew) issuedAt.set(fresh, now());
      // A rotation keeps the family, so its binding: the successor is bound to the same key.
      const jkt = boundTo.get(id);
      if (isNew && jkt !== undefined) boundTo.set(fresh, jkt);
      // What the IdP was asked; the model says what the profile declares it does (a refusal included:
      // a refused reuse may revoke the family). A request with an invalid DPoP proof never reached the grant.
      const key = keyOf(sent);
      if (issuedAt.has(id) && key) observe({ kind: 'refresh', at: now(), token: id, ...(isNew && { as: fresh }), ...key });
      if (t.status !== 200) {
        const error = typeof t.body?.error === 'string' ? t.body.error : undefined;
        return { kind: 'rejected', presented: id, status: t.status, ...(error !== undefined && { error }) };
      }
      // The same successor handed out again (concurrentRefresh "same-successor": a repeat), drawn on its lane.
      if (fresh !== undefined && !isNew) return { kind: 'rotation', presented: id, token: mark(fresh), label: 'same successor again' };
      if (fresh !== undefined) return { kind: 'rotation', presented: id, token: mark(fresh) };
      return { kind: 'refresh', presented: id, ...(issuedAt.has(id) && { token: mark(id) }) };
    },
    revoked(token: string, hint: string | undefined, status: number): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(token);
      const isRefresh = issuedAt.has(id) || hint === 'refresh_token';
      if (issuedAt.has(id) && status === 200) observe({ kind: 'revoke', at: now(), token: id });
      return { kind: 'revocation', status, ...(isRefresh ? { presented: id } : { label: hint === 'access_token' ? 'access token' : 'token' }) };
    },
    loggedOut(): Omit<TimelineEntry, 'at'> {
      observe({ kind: 'logout', at: now() });
      return { kind: 'logout' };
    },
  };
}
