/**
 * The refresh model: what a correct IdP does with refresh tokens, as pure functions of a profile,
 * one of its policies and a history of events. No I/O, no store, no clock: times are numbers.
 * It is the one place the refresh rules are written; everyone who needs them reads them here.
 *
 * Two layers:
 *
 * 1. The step (used by the mock's refresh grant, grants/refresh-token.ts, on its live records):
 *    - `decideRefresh(input, rules?)`: the guards in order, then the profile's outcome. Returns a
 *      Decision as data: `rotate` (a new token expiring at expiresAt), `extend` (the presented token
 *      lives on to expiresAt), `keep`, `consume`, or `refuse` (error code, reason, the guard that
 *      refused, and `revokeFamily` when the refusal also revokes the family: reuse detection).
 *      Guards never change state; the caller applies `revokeFamily`.
 *    - `commitRefresh(rules, family, record, decision, now, successor?)`: the state change of an
 *      accepted decision on plain records (the mock store's, or the model's own copy).
 *    `rules` (RefreshRules) is the part a deliberate defect may replace (mock-idp/defects.ts);
 *    `correctRefreshRules` is the correct one and the model's default.
 *
 * 2. The history (for the checks' applicability, waits and expectations, the report timeline, tests):
 *    - `replay(profile, policyName, events)`: one Step per event (n per concurrent event) with the
 *      outcome, every token's state and expiry after it, and whether the family is revoked.
 *      Events: issue (a login and code exchange: starts a family and an SSO session), refresh
 *      (a reuse is a refresh of a rotated-out token), concurrent (n presentations at one instant),
 *      logout and ssoEnd (end the SSO session), revoke (RFC 7009: the token's family). Issue and
 *      refresh events name the DPoP key their request proved (`key`, RFC 9449): a public client's
 *      family is bound to the key of its code exchange (`senderBinding`, the family's `jkt`), and
 *      the `sender-constraint` guard compares each refresh's key with it.
 *    - `expiryOf(steps, token, t?)`, `aliveAt(steps, token, t)`: a token's expiry and liveness.
 *    - Derived per policy, each computed by replaying a short history (never a copy of the rules):
 *      `refreshOutcomeAt(profile, policy, t)` (one refresh t seconds after login),
 *      `ssoEndOutcome(profile, policy)` (a refresh after the SSO session ended, and the presented
 *      token afterwards), `slidesUntil(profile, policy)` (latest time a refresh still slides the
 *      lifetime), `slidingChain(profile, policy, refreshAt?)` (is a sliding chain observable:
 *      the window between the first expiry and the renewed expiry in which the refreshed token
 *      must still work, given the SSO session's end), `bindingOutcome(profile, policy)` (is the
 *      login's token DPoP-bound, and what a refresh without a proof, with another key, with the
 *      same key, and of its successor with another key gets).
 * Times in derived queries are seconds after the login (the issue at 0).
 */
import { isRefreshPolicy, type Policy, type Profile, type RefreshPolicy } from './schema.ts';

// ---------------------------------------------------------------- records

export type TokenState = 'active' | 'rotated' | 'consumed' | 'revoked';

/**
 * A refresh token as the rules read it; the mock store's records have this shape (hash = identity).
 * Read-only: whoever holds the records changes them (the model's replay, the mock's store, both
 * through commitRefresh); everyone else reads.
 */
export interface TokenRecord {
  readonly hash: string;
  readonly clientId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly state: TokenState;
  /** When it stopped being active (rotation, consumption, revocation). */
  readonly retiredAt?: number;
  /** When it was first presented successfully. */
  readonly usedAt?: number;
  /** The token its last successful presentation produced. */
  readonly successor?: string;
  /** How many grace-window retries it has spent (profile graceReuseCount allows that many). */
  readonly graceUses?: number;
}

/** A refresh-token family (one grant) as the rules read it. */
export interface FamilyRecord {
  readonly scope: readonly string[];
  /** First issue + lifetime: the end for fixed-expiry policies. */
  readonly fixedExpiresAt: number;
  /** First issue + the maximum lifetime: no sliding renewal goes past it (absent: no maximum). */
  readonly maxExpiresAt?: number;
  /** Issued without offline access (profile refreshTokenIssuance "always"): the online-token terms apply. */
  readonly online?: boolean;
  /**
   * The JWK SHA-256 thumbprint (RFC 7638) of the DPoP key the family's refresh tokens are bound to
   * (RFC 9449 §5, the `jkt`); absent: not sender-constrained.
   */
  readonly jkt?: string;
  readonly revokedAt?: number;
  readonly revokedReason?: string;
  readonly tokens: readonly TokenRecord[];
}

/** A record as its holder keeps it: the same fields, changeable. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A family as its holder keeps it, with its tokens (of the holder's record type T). */
export type HeldFamily<T extends Mutable<TokenRecord> = Mutable<TokenRecord>> = Mutable<Omit<FamilyRecord, 'tokens'>> & { tokens: T[] };

// ---------------------------------------------------------------- terms of a family

/** The terms a family's tokens live by: the policy's, or the online-token terms for an online family. */
export interface FamilyTerms {
  online: boolean;
  lifetimeSeconds: number;
  expiry: 'sliding' | 'fixed';
  /** Absolute maximum from the first issue (sliding only). */
  maxLifetimeSeconds?: number;
  /** A refresh once the SSO session has ended. */
  refreshAfterSsoEnd: Profile['refreshAfterSsoEnd'];
}

export function termsOf(profile: Profile, policy: RefreshPolicy, online: boolean): FamilyTerms {
  const o = online ? profile.onlineTokens : undefined;
  const max = o?.maxLifetimeSeconds ?? policy.maxLifetimeSeconds;
  return {
    online,
    lifetimeSeconds: o?.lifetimeSeconds ?? policy.lifetimeSeconds,
    expiry: policy.expiry,
    ...(max !== undefined && policy.expiry === 'sliding' && { maxLifetimeSeconds: max }),
    refreshAfterSsoEnd: o ? o.refreshAfterSsoEnd : profile.refreshAfterSsoEnd,
  };
}

export type IssueDecision =
  | { issue: false; reason: string }
  | { issue: true; online: boolean; expiresAt: number; fixedExpiresAt: number; maxExpiresAt?: number };

/**
 * Does the code exchange issue a refresh token, and on what terms (OIDC Core §11: with offline
 * access; profile refreshTokenIssuance "always": also without it, as an online token)?
 */
export function decideIssue(profile: Profile, policy: Policy, scope: readonly string[], now: number): IssueDecision {
  if (!isRefreshPolicy(policy)) return { issue: false, reason: 'the policy does not refresh' };
  const offline = scope.includes(profile.offlineAccessScope);
  if (!offline && profile.refreshTokenIssuance !== 'always') return { issue: false, reason: 'offline access was not requested' };
  const terms = termsOf(profile, policy, !offline);
  const expiresAt = now + Math.min(terms.lifetimeSeconds, terms.maxLifetimeSeconds ?? Infinity);
  return {
    issue: true,
    online: !offline,
    expiresAt,
    fixedExpiresAt: now + terms.lifetimeSeconds,
    ...(terms.maxLifetimeSeconds !== undefined && { maxExpiresAt: now + terms.maxLifetimeSeconds }),
  };
}

// ---------------------------------------------------------------- sender constraint (RFC 9449)

/** What the code exchange does about DPoP: bind the refresh token to the proof's key, leave it unbound, or refuse. */
export type SenderBinding =
  | { kind: 'bound'; jkt: string }
  | { kind: 'unbound'; reason: string }
  | { kind: 'refuse'; error: 'invalid_dpop_proof'; reason: string };

/** Does the policy need a DPoP proof on every token request (senderConstraint "dpop-required")? */
export function proofRequired(policy: Policy): boolean {
  return policy.senderConstraint === 'dpop-required';
}

/** Does a client of this policy send DPoP proofs (the policy declares a sender constraint)? */
export function usesDpop(policy: Policy): boolean {
  return policy.senderConstraint !== 'none';
}

/**
 * The binding a refresh token gets at the code exchange, from the policy and the thumbprint of the
 * validated DPoP proof's key (undefined: no proof). RFC 9449 §5: a public client's refresh token is
 * bound to the key; a confidential client's is not (it is sender-constrained by its authentication).
 */
export function senderBinding(policy: Policy, proofJkt: string | undefined): SenderBinding {
  if (!usesDpop(policy)) return { kind: 'unbound', reason: 'the policy declares no sender constraint' };
  if (proofJkt === undefined) {
    return proofRequired(policy)
      ? { kind: 'refuse', error: 'invalid_dpop_proof', reason: 'a DPoP proof is required for this client' }
      : { kind: 'unbound', reason: 'no DPoP proof was sent' };
  }
  if (policy.confidential) return { kind: 'unbound', reason: "a confidential client's refresh token is not bound (RFC 9449 §5)" };
  return { kind: 'bound', jkt: proofJkt };
}

// ---------------------------------------------------------------- the step

export type GuardName = 'client-binding' | 'sender-constraint' | 'family-revoked' | 'reuse' | 'state' | 'expiry' | 'scope';

export interface Refusal {
  error: 'invalid_grant' | 'invalid_scope' | 'invalid_dpop_proof';
  reason: string;
  /** The refusal also revokes the family, for this reason (RFC 9700 §4.14.2); the caller applies it. */
  revokeFamily?: string;
}

export interface GuardInput {
  profile: Profile;
  policy: RefreshPolicy;
  /** The authenticated client presenting the token. */
  clientId: string;
  record: TokenRecord;
  family: FamilyRecord;
  now: number;
  requestedScope: string[] | undefined;
  /** The RFC 7638 thumbprint of the key of the request's valid DPoP proof; undefined: no proof. */
  proofJkt?: string | undefined;
}

/** One named precondition of the refresh grant: pure, returns the refusal or nothing. */
export interface RefreshGuard {
  name: GuardName;
  check(input: GuardInput): Refusal | undefined;
}

/** The rule points a deliberate defect may replace (defects.ts); the correct ones below. */
export interface RefreshRules {
  /** The guard clauses, in order. */
  refreshGuards: readonly RefreshGuard[];
  /** The tokens a rotation retires: every active one of the family (RFC 9700 §4.14.2). */
  retiredByRotation<T extends TokenRecord>(family: { readonly tokens: readonly T[] }): T[];
}

const refused = (reason: string, revokeFamily?: string): Refusal => ({
  error: 'invalid_grant',
  reason,
  ...(revokeFamily !== undefined && { revokeFamily }),
});

export const refreshGuards: readonly RefreshGuard[] = [
  {
    // RFC 6749 §6 and §10.4: the refresh token is bound to the client it was issued to.
    name: 'client-binding',
    check: ({ record, clientId }) => (record.clientId !== clientId ? refused('refresh token was issued to another client') : undefined),
  },
  {
    // RFC 9449 §5: a refresh token bound to a DPoP key is refused without a proof of possession of
    // that key (before reuse detection: a thief without the key cannot revoke the family).
    name: 'sender-constraint',
    check: ({ policy, family, proofJkt }) => {
      if (proofJkt === undefined && proofRequired(policy)) return { error: 'invalid_dpop_proof', reason: 'a DPoP proof is required for this client' };
      if (family.jkt === undefined) return undefined;
      if (proofJkt === undefined) return refused('refresh token is bound to a DPoP key: a DPoP proof is required');
      return proofJkt !== family.jkt ? refused('the DPoP proof key does not match the refresh token binding') : undefined;
    },
  },
  {
    name: 'family-revoked',
    check: ({ family }) => (family.revokedAt !== undefined ? refused(`refresh token is revoked (${family.revokedReason ?? 'revoked'})`) : undefined),
  },
  {
    // RFC 9700 §4.14.2: presenting a rotated-out token is a replay; the family is revoked where the
    // profile says so. Grace (FAPI 2.0 §5.3.2.1: a retry when the response was lost): once, within
    // the window, and only if the token this one produced was never presented. A token superseded
    // by such a retry was never received by a legitimate client, so it is never eligible: two
    // holders cannot keep swapping.
    name: 'reuse',
    check: ({ profile, record, family, now }) => {
      if (record.state !== 'rotated') return undefined;
      if (repeatsSuccessor(profile, record, family, now) || inGrace(profile, record, family, now)) return undefined;
      return profile.reuseOfRotatedToken === 'revoke-family'
        ? refused('refresh token was already used; the token family is revoked', 'rotated-out refresh token was reused')
        : refused('refresh token was already used');
    },
  },
  {
    name: 'state',
    check: ({ record }) => (record.state === 'consumed' || record.state === 'revoked' ? refused(`refresh token is ${record.state}`) : undefined),
  },
  {
    name: 'expiry',
    check: ({ record, now }) => (now >= record.expiresAt ? refused('refresh token is expired') : undefined),
  },
  {
    // RFC 6749 §6: the requested scope must not include any scope not originally granted.
    name: 'scope',
    check: ({ requestedScope, family }) => {
      const extra = (requestedScope ?? []).filter((s) => !family.scope.includes(s));
      return extra.length ? { error: 'invalid_scope', reason: `scope exceeds the original grant: ${extra.join(' ')}` } : undefined;
    },
  },
];

/** The token this rotated-out one produced, if it is the family's active token and was never presented. */
function unusedSuccessor(record: TokenRecord, family: FamilyRecord): TokenRecord | undefined {
  const active = family.tokens.findLast((t) => t.state === 'active');
  return active !== undefined && active.hash === record.successor && active.usedAt === undefined ? active : undefined;
}

function inGrace(profile: Profile, record: TokenRecord, family: FamilyRecord, now: number): boolean {
  return (
    profile.graceWindowSeconds > 0 &&
    record.usedAt !== undefined &&
    (record.graceUses ?? 0) < profile.graceReuseCount &&
    unusedSuccessor(record, family) !== undefined &&
    record.retiredAt !== undefined &&
    now - record.retiredAt <= profile.graceWindowSeconds
  );
}

/**
 * profile concurrentRefresh "same-successor": a rotated-out token presented again in the second of
 * its rotation, while its successor is unused, gets that same successor back (an idempotent retry).
 */
export function repeatsSuccessor(profile: Profile, record: TokenRecord, family: FamilyRecord, now: number): boolean {
  return profile.concurrentRefresh === 'same-successor' && record.retiredAt === now && unusedSuccessor(record, family) !== undefined;
}

/** A token its IdP still honours: neither retired nor in a revoked family (its expiry aside). */
export function isAlive(record: TokenRecord, family: FamilyRecord): boolean {
  return record.state === 'active' && family.revokedAt === undefined;
}

export const correctRefreshRules: RefreshRules = {
  refreshGuards,
  retiredByRotation: (family) => family.tokens.filter((t) => t.state === 'active'),
};

export interface StepInput extends GuardInput {
  /** The SSO session of the family's login is active now. */
  ssoActive: boolean;
}

export type Accepted =
  /** Issue a new refresh token expiring at expiresAt; the presented one is rotated out. */
  | { kind: 'rotate'; expiresAt: number }
  /** No rotation, sliding expiry: the presented token lives on with a new expiry. */
  | { kind: 'extend'; expiresAt: number }
  /** No new refresh token; the presented one stays usable until its own expiry. */
  | { kind: 'keep' }
  /** No new refresh token, and the presented one is used up. */
  | { kind: 'consume' }
  /** The rotated-out token's successor again, unchanged (concurrentRefresh "same-successor"). */
  | { kind: 'repeat'; successor: string; expiresAt: number };

export type Decision = Accepted | ({ kind: 'refuse'; by: GuardName | 'sso' } & Refusal);

/** What a correct IdP (or one with the given rules) does with this presentation. Pure. */
export function decideRefresh(input: StepInput, rules: RefreshRules = correctRefreshRules): Decision {
  for (const guard of rules.refreshGuards) {
    const refusal = guard.check(input);
    if (refusal) return { kind: 'refuse', by: guard.name, ...refusal };
  }
  const { profile, policy, record, family, now, ssoActive } = input;
  if (record.state === 'rotated' && repeatsSuccessor(profile, record, family, now)) {
    const successor = family.tokens.find((t) => t.hash === record.successor)!;
    return { kind: 'repeat', successor: successor.hash, expiresAt: successor.expiresAt };
  }
  const terms = termsOf(profile, policy, family.online === true);
  // 000_a8c14fb60ecbbef3.txt: "The client will only get a new refresh token if the SSO session still is active."
  if (!ssoActive && terms.refreshAfterSsoEnd !== 'new-refresh-token') {
    if (terms.refreshAfterSsoEnd === 'invalid_grant') return { kind: 'refuse', by: 'sso', ...refused('SSO session is not active') };
    return profile.presentedTokenAfterSsoEnd === 'consumed' ? { kind: 'consume' } : { kind: 'keep' };
  }
  // Sliding: the lifetime starts again, up to the family's maximum; fixed: the family's first issue + lifetime (000 §Refresh policies).
  const expiresAt = terms.expiry === 'sliding' ? Math.min(now + terms.lifetimeSeconds, family.maxExpiresAt ?? Infinity) : family.fixedExpiresAt;
  if (policy.rotation) return rotationDue(policy, terms, record, now) ? { kind: 'rotate', expiresAt } : { kind: 'keep' };
  return terms.expiry === 'sliding' ? { kind: 'extend', expiresAt } : { kind: 'keep' };
}

/**
 * Does a refresh rotate now? Always where the policy rotates, unless it rotates only once the
 * presented token has lived a percentage of the lifetime (policy rotateAfterLifetimePercent;
 * node-oidc-provider: `ttlPercentagePassed() >= 70`); before that the token is kept as it is.
 */
function rotationDue(policy: RefreshPolicy, terms: FamilyTerms, record: TokenRecord, now: number): boolean {
  const percent = policy.rotateAfterLifetimePercent;
  // A grace retry of a rotated-out token re-issues: it is past its rotation already.
  if (percent === undefined || record.state === 'rotated') return true;
  return (now - record.issuedAt) * 100 >= percent * terms.lifetimeSeconds;
}

/**
 * The state change of an accepted decision, on the records of their holder (the mock store's
 * operations, the model's replay): the one place that change is written. For `rotate`,
 * `successor` is the new token's identity; the holder adds its record to the family after this call.
 */
export function commitRefresh<T extends Mutable<TokenRecord>>(
  rules: Pick<RefreshRules, 'retiredByRotation'>,
  family: HeldFamily<T>,
  record: T,
  decision: Accepted,
  now: number,
  successor?: string,
): void {
  switch (decision.kind) {
    case 'rotate': {
      const retry = record.state === 'rotated';
      for (const t of rules.retiredByRotation(family)) {
        t.state = 'rotated';
        t.retiredAt = now;
      }
      if (retry) record.graceUses = (record.graceUses ?? 0) + 1; // a rotated-out token presented again: a grace retry
      if (successor !== undefined) record.successor = successor;
      break;
    }
    case 'extend':
      record.expiresAt = decision.expiresAt;
      break;
    case 'consume':
      record.state = 'consumed';
      record.retiredAt = now;
      break;
    case 'keep':
    case 'repeat':
      break;
  }
  record.usedAt ??= now;
}

// ---------------------------------------------------------------- the history

export type ModelEvent =
  /**
   * A login and code exchange: a new family (and SSO session) whose first token is `token`. The
   * scope defaults to openid + the offline-access scope, or openid alone with `offline: false`.
   */
  | { kind: 'issue'; at: number; token: string; offline?: boolean; scope?: string[]; key?: DpopKey }
  /** A refresh presenting `token`; a new token is named `as` (default `<first token>.<generation>`). */
  | { kind: 'refresh'; at: number; token: string; as?: string; scope?: string[]; client?: string; key?: DpopKey }
  /** n presentations of one token at one instant: a correct IdP serves them one after the other. */
  | { kind: 'concurrent'; at: number; token: string; n: number; key?: DpopKey }
  /** RP-initiated logout: the SSO session ends. */
  | { kind: 'logout'; at: number }
  /** The SSO session ends otherwise (the control API, an admin); its lifetime ends it by itself. */
  | { kind: 'ssoEnd'; at: number }
  /** RFC 7009 revocation of a refresh token: its whole family (§2.1). */
  | { kind: 'revoke'; at: number; token: string };

/**
 * The DPoP key an event's request proves possession of, by name (its thumbprint, for the harness): a
 * string, or null for a request without a proof. Absent: the client's own key (CLIENT_KEY) where the
 * policy declares a sender constraint (such a client sends proofs), else no proof.
 */
export type DpopKey = string | null;

/** The name of the client's own DPoP key in histories that do not name one. */
export const CLIENT_KEY = 'client-key';

export type Outcome =
  | { kind: 'issued'; token: string; expiresAt: number; online: boolean; jkt?: string }
  | { kind: 'no-refresh-token'; reason: string }
  | { kind: 'rotated'; token: string; expiresAt: number }
  /** The successor of an earlier rotation, again (concurrentRefresh "same-successor"). */
  | { kind: 'repeated'; token: string; expiresAt: number }
  | { kind: 'extended'; expiresAt: number }
  | { kind: 'kept'; expiresAt: number }
  | { kind: 'consumed' }
  | { kind: 'refused'; error: Refusal['error']; reason: string; by: GuardName | 'sso' | 'unknown'; familyRevoked: boolean }
  | { kind: 'session-ended' }
  | { kind: 'revoked' };

export interface TokenView {
  /** `expired`: still active in the records, but its expiry has passed. */
  state: TokenState | 'expired';
  expiresAt: number;
  alive: boolean;
}

export interface Step {
  /** Index of the event in the history (a concurrent event gives n steps with one index). */
  event: number;
  at: number;
  outcome: Outcome;
  /** Every token issued so far, after this step. */
  tokens: Record<string, TokenView>;
  /** The family of the token this step concerns: revoked or not (undefined for session events). */
  familyRevoked?: boolean;
}

export type ModelErrorCode = 'MODEL_EVENT_ORDER' | 'MODEL_DUPLICATE_TOKEN' | 'MODEL_UNKNOWN_POLICY' | 'MODEL_NOT_REFRESH_POLICY';

/** A history the model cannot replay: a bug of its caller. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type ModelFamily = HeldFamily & {
  root: string;
  /** When its SSO session ends by time, and whether it was ended earlier. */
  sessionExpiresAt: number;
  sessionEnded: boolean;
};

/** The model's client id: replay has one client, the policy's. */
const CLIENT = 'client';

export function refreshPolicyOf(profile: Profile, policyName: string): RefreshPolicy {
  const policy = profile.policies[policyName];
  if (!policy) throw new ModelError('MODEL_UNKNOWN_POLICY', `profile ${profile.name} has no policy ${policyName}`);
  if (!isRefreshPolicy(policy)) throw new ModelError('MODEL_NOT_REFRESH_POLICY', `policy ${policyName} of ${profile.name} does not refresh`);
  return policy;
}

/** What a correct IdP does at each event of the history. Pure: the same history, the same steps. */
export function replay(profile: Profile, policyName: string, events: readonly ModelEvent[], rules: RefreshRules = correctRefreshRules): Step[] {
  const policy = profile.policies[policyName];
  if (!policy) throw new ModelError('MODEL_UNKNOWN_POLICY', `profile ${profile.name} has no policy ${policyName}`);
  const families: ModelFamily[] = [];
  const tokens = new Map<string, { record: Mutable<TokenRecord>; family: ModelFamily }>();
  const steps: Step[] = [];
  let last = -Infinity;

  const snapshot = (at: number): Record<string, TokenView> =>
    Object.fromEntries(
      [...tokens].map(([id, { record, family }]) => {
        const expired = record.state === 'active' && at >= record.expiresAt;
        const state = expired ? 'expired' : record.state;
        return [id, { state, expiresAt: record.expiresAt, alive: !expired && isAlive(record, family) }];
      }),
    );
  const push = (event: number, at: number, outcome: Outcome, family?: ModelFamily) =>
    steps.push({ event, at, outcome, tokens: snapshot(at), ...(family && { familyRevoked: family.revokedAt !== undefined }) });

  const keyOf = (key: DpopKey | undefined): string | undefined => (key === undefined ? (usesDpop(policy) ? CLIENT_KEY : undefined) : (key ?? undefined));
  const present = (index: number, at: number, id: string, as?: string, scope?: string[], client = CLIENT, key?: DpopKey) => {
    const found = tokens.get(id);
    if (!found || !isRefreshPolicy(policy)) {
      push(index, at, { kind: 'refused', error: 'invalid_grant', reason: 'unknown refresh token', by: 'unknown', familyRevoked: false });
      return;
    }
    const { record, family } = found;
    const ssoActive = !family.sessionEnded && at < family.sessionExpiresAt;
    const decision = decideRefresh({ profile, policy, clientId: client, record, family, now: at, requestedScope: scope, ssoActive, proofJkt: keyOf(key) }, rules);
    if (decision.kind === 'refuse') {
      if (decision.revokeFamily !== undefined) revokeFamilyRecords(family, at, decision.revokeFamily);
      const familyRevoked = decision.revokeFamily !== undefined;
      push(index, at, { kind: 'refused', error: decision.error, reason: decision.reason, by: decision.by, familyRevoked }, family);
      return;
    }
    let outcome: Outcome;
    if (decision.kind === 'repeat') {
      commitRefresh(rules, family, record, decision, at);
      const [name] = [...tokens].find(([, t]) => t.record.hash === decision.successor)!;
      outcome = { kind: 'repeated', token: name, expiresAt: decision.expiresAt };
    } else if (decision.kind === 'rotate') {
      const next = as ?? `${family.root}.${family.tokens.length}`;
      if (tokens.has(next)) throw new ModelError('MODEL_DUPLICATE_TOKEN', `token ${next} already exists`);
      commitRefresh(rules, family, record, decision, at, next);
      const issued: Mutable<TokenRecord> = { hash: next, clientId: record.clientId, issuedAt: at, expiresAt: decision.expiresAt, state: 'active' };
      family.tokens.push(issued);
      tokens.set(next, { record: issued, family });
      outcome = { kind: 'rotated', token: next, expiresAt: decision.expiresAt };
    } else {
      commitRefresh(rules, family, record, decision, at);
      outcome = decision.kind === 'consume' ? { kind: 'consumed' } : { kind: decision.kind === 'extend' ? 'extended' : 'kept', expiresAt: record.expiresAt };
    }
    push(index, at, outcome, family);
  };

  events.forEach((event, index) => {
    if (event.at < last) throw new ModelError('MODEL_EVENT_ORDER', `event ${index} (${event.kind} at ${event.at}) is earlier than the one before (${last})`);
    last = event.at;
    switch (event.kind) {
      case 'issue': {
        if (tokens.has(event.token)) throw new ModelError('MODEL_DUPLICATE_TOKEN', `token ${event.token} already exists`);
        const scope = event.scope ?? (event.offline === false ? ['openid'] : ['openid', profile.offlineAccessScope]);
        // OIDC Core §11 (or the profile's refreshTokenIssuance), and only for a refreshing policy.
        const binding = senderBinding(policy, keyOf(event.key));
        if (binding.kind === 'refuse') {
          push(index, event.at, { kind: 'refused', error: binding.error, reason: binding.reason, by: 'sender-constraint', familyRevoked: false });
          break;
        }
        const issue = decideIssue(profile, policy, scope, event.at);
        if (!issue.issue) {
          push(index, event.at, { kind: 'no-refresh-token', reason: issue.reason === 'the policy does not refresh' ? `policy ${policyName} does not refresh` : issue.reason });
          break;
        }
        const record: Mutable<TokenRecord> = { hash: event.token, clientId: CLIENT, issuedAt: event.at, expiresAt: issue.expiresAt, state: 'active' };
        const family: ModelFamily = {
          root: event.token,
          scope,
          fixedExpiresAt: issue.fixedExpiresAt,
          ...(issue.maxExpiresAt !== undefined && { maxExpiresAt: issue.maxExpiresAt }),
          online: issue.online,
          ...(binding.kind === 'bound' && { jkt: binding.jkt }),
          tokens: [record],
          sessionExpiresAt: event.at + profile.ssoSessionLifetimeSeconds,
          sessionEnded: false,
        };
        families.push(family);
        tokens.set(event.token, { record, family });
        push(index, event.at, { kind: 'issued', token: event.token, expiresAt: issue.expiresAt, online: issue.online, ...(binding.kind === 'bound' && { jkt: binding.jkt }) }, family);
        break;
      }
      case 'refresh':
        present(index, event.at, event.token, event.as, event.scope, event.client, event.key);
        break;
      case 'concurrent':
        for (let i = 0; i < event.n; i++) present(index, event.at, event.token, undefined, undefined, CLIENT, event.key);
        break;
      case 'logout':
      case 'ssoEnd':
        for (const f of families) f.sessionEnded = true;
        push(index, event.at, { kind: 'session-ended' });
        break;
      case 'revoke': {
        const found = tokens.get(event.token);
        if (found) revokeFamilyRecords(found.family, event.at, 'revoked by the client (RFC 7009)');
        push(index, event.at, { kind: 'revoked' }, found?.family);
        break;
      }
    }
  });
  return steps;
}

/** Revokes every refresh token of a family (the mock's store also revokes the grant's access tokens). */
function revokeFamilyRecords(family: HeldFamily, now: number, reason: string): void {
  family.revokedAt ??= now;
  family.revokedReason ??= reason;
  for (const t of family.tokens) {
    if (t.state === 'active') t.retiredAt = now;
    t.state = 'revoked';
  }
}

// ---------------------------------------------------------------- queries on a history

/** The token's view after the last step at or before t (default: after the last step). */
function viewAt(steps: readonly Step[], token: string, t = Infinity): TokenView | undefined {
  const step = steps.findLast((s) => s.at <= t && token in s.tokens);
  return step?.tokens[token];
}

/** The token's expiry as of time t (default: at the end of the history); undefined if never issued. */
export function expiryOf(steps: readonly Step[], token: string, t?: number): number | undefined {
  return viewAt(steps, token, t)?.expiresAt;
}

/** Would presenting the token at t pass its own state and expiry (the history's events up to t)? */
export function aliveAt(steps: readonly Step[], token: string, t: number): boolean {
  const view = viewAt(steps, token, t);
  return view !== undefined && view.alive && t < view.expiresAt;
}

// ---------------------------------------------------------------- derived per policy

/** The code exchange's outcome: a refresh token (online or not) or none, with or without offline access. */
export function issueOutcome(profile: Profile, policyName: string, offline: boolean): Outcome {
  return replay(profile, policyName, [{ kind: 'issue', at: 0, token: 't0', offline }])[0]!.outcome;
}

/** The outcome of one refresh of the first token, t seconds after the login. */
export function refreshOutcomeAt(profile: Profile, policyName: string, t: number): Outcome {
  refreshPolicyOf(profile, policyName);
  return replay(profile, policyName, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'refresh', at: t, token: 't0' },
  ]).at(-1)!.outcome;
}

export interface BindingOutcome {
  /** The login's refresh token is bound to the client's DPoP key (its jkt). */
  bound: boolean;
  /** A refresh of it without a proof, with a proof of another key, with the client's key. */
  withoutProof: Outcome;
  otherKey: Outcome;
  sameKey: Outcome;
  /** After a refresh with the client's key: the token to present next (rotated or the same) with another key. */
  successorOtherKey: Outcome;
}

/** What the profile declares for a DPoP-bound login's refresh token (RFC 9449 §5), each probe on a fresh history. */
export function bindingOutcome(profile: Profile, policyName: string): BindingOutcome {
  refreshPolicyOf(profile, policyName);
  const issue: ModelEvent = { kind: 'issue', at: 0, token: 't0', key: CLIENT_KEY };
  const probe = (key: DpopKey) => replay(profile, policyName, [issue, { kind: 'refresh', at: 0, token: 't0', as: 't1', key }]).at(-1)!.outcome;
  const first = replay(profile, policyName, [issue])[0]!.outcome;
  const sameKey = probe(CLIENT_KEY);
  const next = sameKey.kind === 'rotated' ? 't1' : 't0';
  const successorOtherKey = replay(profile, policyName, [
    issue,
    { kind: 'refresh', at: 0, token: 't0', as: 't1', key: CLIENT_KEY },
    { kind: 'refresh', at: 0, token: next, as: 't2', key: 'other-key' },
  ]).at(-1)!.outcome;
  return { bound: first.kind === 'issued' && first.jkt !== undefined, withoutProof: probe(null), otherKey: probe('other-key'), sameKey, successorOtherKey };
}

export interface SsoEndOutcome {
  /** The first refresh once the SSO session ended (logout or expiry). */
  first: Outcome;
  /** Presenting the same token again right after. */
  presentedAgain: Outcome;
}

/**
 * A refresh after the SSO session ended, and the presented token afterwards (token alive). `online`:
 * for a token issued without offline access (refreshTokenIssuance "always"); the first step then
 * says whether one is issued at all (`first` is refused as unknown if not).
 */
export function ssoEndOutcome(profile: Profile, policyName: string, options: { online?: boolean } = {}): SsoEndOutcome {
  refreshPolicyOf(profile, policyName);
  const steps = replay(profile, policyName, [
    { kind: 'issue', at: 0, token: 't0', offline: options.online !== true },
    { kind: 'logout', at: 0 },
    { kind: 'refresh', at: 0, token: 't0' },
    { kind: 'refresh', at: 0, token: 't0' },
  ]);
  return { first: steps[2]!.outcome, presentedAgain: steps[3]!.outcome };
}

function slides(outcome: Outcome, at: number, lifetime: number): boolean {
  return (outcome.kind === 'rotated' || outcome.kind === 'extended') && outcome.expiresAt === at + lifetime;
}

/**
 * The time after login until which (exclusive) a refresh still slides the lifetime: Infinity where
 * the SSO session does not matter, the session's end where it does; 0 where nothing ever slides (fixed).
 */
export function slidesUntil(profile: Profile, policyName: string): number {
  const policy = refreshPolicyOf(profile, policyName);
  const L = policy.lifetimeSeconds;
  const S = profile.ssoSessionLifetimeSeconds;
  const early = Math.min(1, L - 1);
  if (!slides(refreshOutcomeAt(profile, policyName, early), early, L)) return 0;
  // After the session ended (by logout, so the token is still alive): does a refresh still slide?
  const after = replay(profile, policyName, [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'ssoEnd', at: early },
    { kind: 'refresh', at: early, token: 't0' },
  ]).at(-1)!.outcome;
  return slides(after, early, L) ? Infinity : S;
}

export type SlidingChain =
  | {
      observable: true;
      /** When to refresh the first token (seconds after login). */
      refreshAt: number;
      /** The first token's expiry: the refreshed one must outlive it. */
      from: number;
      /** End (exclusive) of the window in which a refresh of the refreshed token must succeed. */
      until: number;
    }
  | { observable: false; reason: string };

/**
 * Is "a sliding chain outlives the first lifetime" observable, and where: refresh at `refreshAt`
 * (default: half the time the lifetime can still slide), then a refresh of the refreshed token in
 * [from, until) must succeed. The window ends at the renewed expiry or where refresh is refused
 * (the SSO session's end with refreshAfterSsoEnd invalid_grant), whichever comes first.
 */
export function slidingChain(profile: Profile, policyName: string, refreshAt?: number): SlidingChain {
  const policy = refreshPolicyOf(profile, policyName);
  const L = policy.lifetimeSeconds;
  const slideEnd = slidesUntil(profile, policyName);
  if (slideEnd === 0) {
    // With rotateAfterLifetimePercent an early refresh keeps the token: no renewal to build a chain on.
    const late = policy.rotateAfterLifetimePercent !== undefined ? `; an early refresh keeps the token, rotation only after ${policy.rotateAfterLifetimePercent} % of the lifetime` : '';
    return { observable: false, reason: `policy ${policyName} does not slide (expiry ${policy.expiry}${late})` };
  }
  const t1 = refreshAt ?? Math.floor(Math.min(L, slideEnd) / 2);
  if (t1 <= 0 || t1 >= L) return { observable: false, reason: `a refresh at ${t1} s is not inside the first ${L} s lifetime` };
  const next = successorOf(profile, policyName, t1);
  const history = (...later: ModelEvent[]): ModelEvent[] => [
    { kind: 'issue', at: 0, token: 't0' },
    { kind: 'refresh', at: t1, token: 't0', as: 't1' },
    ...later,
  ];
  const probe = (w: number) => replay(profile, policyName, history({ kind: 'refresh', at: w, token: next })).at(-1)!.outcome;
  const renewed = expiryOf(replay(profile, policyName, history()), next);
  if (renewed === undefined || renewed <= L) return { observable: false, reason: `a refresh at ${t1} s does not renew the lifetime` };
  // Success over [L, renewed) changes only where the SSO session ends: check each piece from L on.
  const bounds = [L, profile.ssoSessionLifetimeSeconds, renewed].filter((b) => b >= L && b <= renewed).sort((a, b) => a - b);
  let until = L;
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (bounds[i] === bounds[i + 1]) continue;
    if (probe(bounds[i]!).kind === 'refused') break;
    until = bounds[i + 1]!;
  }
  if (until <= L) {
    const refusal = probe(L);
    return { observable: false, reason: `after the first ${L} s lifetime a refresh is refused (${refusal.kind === 'refused' ? refusal.reason : refusal.kind})` };
  }
  return { observable: true, refreshAt: t1, from: L, until };
}

/** The token to present after the refresh at t1: the new one where the policy rotates, else the first. */
function successorOf(profile: Profile, policyName: string, t1: number): string {
  return refreshOutcomeAt(profile, policyName, t1).kind === 'rotated' ? 't1' : 't0';
}

// ---------------------------------------------------------------- the token endpoint's v2 terms
// Read by the mock's endpoints and the checks alike: what a response shows, given the profile.

/** HTTP status of a refusal of the refresh grant: RFC 6749 §5.2 says 400; profile invalidGrantStatus for invalid_grant. */
export function refusalStatus(profile: Profile, error: string): 400 | 403 {
  return error === 'invalid_grant' ? profile.invalidGrantStatus : 400;
}

/** Does introspection know tokens of this type (RFC 7662 §2.1; profile introspection)? Unknown ones are active:false. */
export function introspects(profile: Profile, type: 'access_token' | 'refresh_token'): boolean {
  return type === 'access_token' || profile.introspection === 'access-and-refresh-tokens';
}

/** An id_token in a refresh response (OIDC Core §12.2; profile idTokenOnRefresh): owed, never, or either; none without openid. */
export function refreshIdToken(profile: Profile, scope: readonly string[]): 'required' | 'absent' | 'optional' {
  if (!scope.includes('openid')) return 'absent';
  return profile.idTokenOnRefresh === 'always' ? 'required' : profile.idTokenOnRefresh === 'never' ? 'absent' : 'optional';
}

/**
 * refresh_expires_in of the response a step answered with (profile refreshExpiresIn): the remaining
 * lifetime of the refresh token the client holds afterwards (a new one, or the presented one kept or
 * extended); undefined where not declared, or where the client holds no live refresh token.
 */
export function refreshExpiresIn(profile: Profile, step: Pick<Step, 'at' | 'outcome'>): number | undefined {
  if (!profile.refreshExpiresIn) return undefined;
  const o = step.outcome;
  const live = o.kind === 'issued' || o.kind === 'rotated' || o.kind === 'repeated' || o.kind === 'extended' || o.kind === 'kept';
  return live ? Math.max(0, o.expiresAt - step.at) : undefined;
}
