/**
 * The mock's state: the records it keeps (tokens only as hashes), the interface the core uses
 * (MockStore) and its default implementation, kept in memory (Store). Records handed out are
 * read-only: every change goes through a named operation of the interface. The refresh operations
 * change records by the refresh model's commitRefresh (profile/model.ts), the one place that rule is written.
 */
import { commitRefresh, correctRefreshRules, type Accepted, type FamilyRecord, type Mutable, type RefreshRules, type TokenRecord, type TokenState } from './profile/model.ts';

export interface SsoSession {
  readonly id: string;
  readonly sub: string;
  readonly authTime: number;
  readonly expiresAt: number;
  readonly endedAt?: number;
}

export interface PendingAuthorization {
  readonly id: string;
  readonly params: Record<string, string>;
  /** The login-binding cookie value of the browser that was shown the page. */
  readonly browser: string;
  readonly expiresAt: number;
}

export interface AuthorizationCode {
  readonly hash: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string[];
  readonly nonce?: string;
  readonly codeChallenge?: string;
  readonly sub: string;
  readonly sid: string;
  readonly authTime: number;
  readonly expiresAt: number;
  readonly usedAt?: number;
  readonly familyId?: string;
  readonly accessTokenHashes: readonly string[];
  /** When a reuse of this code revoked what it issued (revokeCodeIssue), and why. */
  readonly issueRevokedAt?: number;
  readonly issueRevokedReason?: string;
}

export type RefreshTokenState = TokenState;

/** A refresh token: the refresh model's record (profile/model.ts), with its family and place in it. */
export interface RefreshTokenRecord extends TokenRecord {
  readonly familyId: string;
  /** Position in the family: 0 for the token from the code exchange. */
  readonly generation: number;
}

/** A grant: everything issued from one authorization code (a refresh-token family). */
export interface Family extends FamilyRecord {
  readonly id: string;
  readonly clientId: string;
  readonly policy: string;
  readonly sub: string;
  readonly sid: string;
  readonly scope: string[];
  readonly authTime: number;
  readonly createdAt: number;
  readonly tokens: readonly RefreshTokenRecord[];
  /** Hashes of the access tokens issued in this grant (an array: a Set per family costs memory). */
  readonly accessTokenHashes: readonly string[];
}

export interface AccessTokenRecord {
  readonly hash: string;
  readonly clientId: string;
  readonly sub?: string;
  readonly scope: string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly familyId?: string;
  readonly sid?: string;
  readonly revokedAt?: number;
  /** RFC 9449 §6: the thumbprint of the DPoP key the access token is bound to (cnf.jkt); absent: a bearer token. */
  readonly jkt?: string;
}

/** A refresh token as the guards of the refresh grant saw it: what a change is conditional on. */
export interface SeenRefreshToken {
  state: RefreshTokenState;
  successor: string | undefined;
}

/** What a successful refresh that issues no new refresh token does to the presented token (the model's decision). */
export type RefreshTokenChange = Exclude<Accepted, { kind: 'rotate' }>;

/** A value, or a promise of it: the in-memory Store answers at once, a remote store (Redis) later. */
export type Awaitable<T> = T | Promise<T>;

/**
 * A store operation failed because the backing service (Redis) is unreachable. The mock answers it
 * 503 / temporarily_unavailable (idp.ts), never a 500; nothing of the operation happened.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
}

/**
 * The state of one mock IdP as the core uses it. Reads return records as they are now; every change
 * is a named operation, and those that must be atomic say so. The in-memory Store is the default; a
 * shared store (Redis) lets several mock processes (replicas) serve one IdP.
 *
 * Atomicity and concurrency. Each operation marked ATOMIC is all-or-nothing: another request sees
 * either none of its effects or all of them. The ones that decide a race are compare-and-set: they
 * are given what the caller saw (`seen`) and apply only if the record is still so, returning whether
 * they did. Of concurrent refreshes of one token exactly one gets true; the others are refused (or
 * read again and decide again: grants/refresh-token.ts).
 *
 * The core awaits every call, and other requests run at each await (of this process or, on a shared
 * store, of another): correctness under interleaving comes from these contracts alone, never from
 * "nothing happens between my read and my write". A remote store implements each atomic operation
 * as one server-side step (a Lua script comparing versions, or WATCH/MULTI), computing the change
 * with the same pure functions as the in-memory Store (below: `rotateRecords`, `revokeFamilyRecords`,
 * ...), so the refresh rule stays the model's commitRefresh. Reads hand out read-only records: the
 * in-memory Store's are the held objects (no copy on the hot path), a remote store's fresh copies.
 */
export interface MockStore {
  /**
   * True when other mock instances (replicas) use this store too: each request then reads the clock
   * offset from it (clockOffset) and the control API moves the clock through it. The in-memory Store
   * of one mock leaves it unset and the mock's own Clock is the time.
   */
  readonly replicated?: boolean;

  // -- reads (plain read-only records; a remote store returns fresh copies)
  session(id: string): Awaitable<SsoSession | undefined>;
  sessions(): Awaitable<readonly SsoSession[]>;
  pendingLogin(id: string): Awaitable<PendingAuthorization | undefined>;
  code(hash: string): Awaitable<AuthorizationCode | undefined>;
  family(id: string): Awaitable<Family | undefined>;
  families(): Awaitable<readonly Family[]>;
  refreshToken(hash: string): Awaitable<RefreshTokenRecord | undefined>;
  accessToken(hash: string): Awaitable<AccessTokenRecord | undefined>;
  /** How many codes, access tokens and pending logins are held (what a sweep walks). */
  size(): Awaitable<number>;

  // -- creates
  addSession(session: SsoSession): Awaitable<void>;
  /** Keeps a pending login; when `max` are held, the oldest are dropped first. */
  addPendingLogin(pending: PendingAuthorization, max: number): Awaitable<void>;
  /** ATOMIC. Removes a pending login; false if it was gone already (a login form is completed once). */
  removePendingLogin(id: string): Awaitable<boolean>;
  addCode(code: AuthorizationCode): Awaitable<void>;
  addFamily(family: Family): Awaitable<void>;
  /** A refresh token of an existing family (its first one, from startFamily). */
  addRefreshToken(record: RefreshTokenRecord): Awaitable<void>;
  /**
   * ATOMIC with revokeFamily: adds an access token to its family's list; one added to a family
   * revoked already is held revoked at once (`accessTokenAsAdded`), so a refresh that loses its
   * access token's race against a reuse revocation does not leave a live one behind.
   */
  addAccessToken(record: AccessTokenRecord): Awaitable<void>;

  // -- atomic operations
  /**
   * ATOMIC, compare-and-set. Marks an unused code used at `now`; false if it was already used
   * (then nothing changes). Of concurrent exchanges of one code exactly one gets true.
   */
  consumeCode(hash: string, now: number): Awaitable<boolean>;
  /**
   * ATOMIC. Records what a code's exchange issued (its family, its access token), for reuse
   * revocation. If the code's issue was revoked already (a reuse came between the exchange's
   * consumeCode and this), what is recorded here is revoked at once, with the reuse's time and reason.
   */
  recordCodeIssue(hash: string, issued: { familyId?: string; accessTokenHash: string }): Awaitable<void>;
  /**
   * ATOMIC. A code used twice: revokes the family and every access token issued from it (RFC 6749
   * §4.1.2), and marks the code's issue revoked (`issueRevokedAt`) for a recordCodeIssue still to come.
   */
  revokeCodeIssue(hash: string, now: number, reason: string): Awaitable<void>;
  /**
   * ATOMIC, compare-and-set. If the presented token is still as `seen`: retires (state rotated) the
   * tokens of the family `rules.retiredByRotation` names (correct: every active one), adds `successor`
   * to the family, marks the presented token used (first use), its successor, and its grace retry
   * spent when it was used before. False if the token changed since `seen` (a concurrent refresh
   * won) or its family was revoked: nothing changes.
   */
  rotateRefreshToken(presented: string, seen: SeenRefreshToken, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): Awaitable<boolean>;
  /** ATOMIC, compare-and-set like rotateRefreshToken: a successful refresh that issues no new refresh token. */
  useRefreshToken(presented: string, seen: SeenRefreshToken, change: RefreshTokenChange, now: number): Awaitable<boolean>;
  /**
   * ATOMIC. Revokes a family: it is marked revoked (the first reason stays), every refresh token is
   * revoked and every access token of the grant too (RFC 7009 §2.1). Idempotent.
   */
  revokeFamily(family: { id: string }, now: number, reason: string): Awaitable<void>;
  /** ATOMIC. Revokes one access token (idempotent: the first time stays). */
  revokeAccessToken(hash: string, now: number): Awaitable<void>;
  /** ATOMIC. Ends an SSO session at `now`; false if it had already ended (nothing changes). */
  endSession(id: string, now: number): Awaitable<boolean>;

  // -- shared state that several replicas must agree on
  /** Seconds the virtual clock runs ahead of its base (clock.ts). */
  clockOffset(): Awaitable<number>;
  /** ATOMIC. Adds `seconds` to the offset unless the result would pass `max`; returns the new offset, or undefined (nothing changed). */
  advanceClock(seconds: number, max: number): Awaitable<number | undefined>;
  /** ATOMIC. The offset back to 0. */
  resetClock(): Awaitable<void>;
  /** ATOMIC get-or-create: the value kept under `name`; stores `candidate` when there is none (first writer wins). Never expires. */
  shared(name: string, candidate: string): Awaitable<string>;
  /** ATOMIC. Records a DPoP proof's jti until `until` (epoch s, virtual); false when it is recorded and `now < until` of the record. */
  rememberJti(jti: string, now: number, until: number): Awaitable<boolean>;

  // -- housekeeping
  /** Drops state that can no longer matter, so long runs keep a bounded footprint (a store with TTLs may do nothing). */
  sweep(now: number): Awaitable<void>;
  /**
   * The control API's reset: every record and remembered jti goes. The clock is reset by resetClock;
   * the `shared` values stay (running replicas hold the keys they read: new ones would split them).
   */
  clear(): Awaitable<void>;
  /** Releases connections (Redis); the in-memory store has nothing to release. */
  close?(): Promise<void>;
}

// ---------------------------------------------------------------- record changes (pure, shared by every store)
// Each takes the records as their holder keeps them (changeable plain objects) and changes them in
// place; the in-memory Store calls them on the held objects, a remote store on the copies it read,
// then writes them back under its compare-and-set.

/** A family as a store holds it: its tokens and access-token hashes changeable. */
export type HeldFamily = Omit<Mutable<Family>, 'tokens' | 'accessTokenHashes'> & { tokens: Mutable<RefreshTokenRecord>[]; accessTokenHashes: string[] };

/** Is the presented token still as the caller saw it, in a family not revoked since? */
export function stillAsSeen(record: RefreshTokenRecord | undefined, family: Family | HeldFamily | undefined, seen: SeenRefreshToken): boolean {
  return record !== undefined && record.state === seen.state && record.successor === seen.successor && family !== undefined && family.revokedAt === undefined;
}

/** rotateRefreshToken's change, after stillAsSeen: the model's commitRefresh, then the successor joins the family. */
export function rotateRecords(family: HeldFamily, record: Mutable<RefreshTokenRecord>, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): void {
  commitRefresh(rules, family, record, { kind: 'rotate', expiresAt: successor.expiresAt }, now, successor.hash);
  family.tokens = append(family.tokens, successor);
}

/** useRefreshToken's change, after stillAsSeen. A change that issues no token retires no other: the rules' rotation point is not consulted. */
export function useRecords(family: HeldFamily, record: Mutable<RefreshTokenRecord>, change: RefreshTokenChange, now: number): void {
  commitRefresh(correctRefreshRules, family, record, change, now);
}

/** revokeFamily's change to the family and its refresh tokens (the first revocation's time and reason stay); the caller revokes `family.accessTokenHashes`. */
export function revokeFamilyRecords(family: HeldFamily, now: number, reason: string): void {
  if (family.revokedAt === undefined) {
    family.revokedAt = now;
    family.revokedReason = reason;
  }
  for (const t of family.tokens) {
    if (t.state === 'active') t.retiredAt = now;
    t.state = 'revoked';
  }
}

/** revokeAccessToken's change (the first time stays); false if it was revoked already. */
export function revokeAccessTokenRecord(record: Mutable<AccessTokenRecord>, now: number): boolean {
  if (record.revokedAt !== undefined) return false;
  record.revokedAt = now;
  return true;
}

/** An access token as addAccessToken holds it: revoked at once in a family revoked already. Returns the record itself when nothing changes. */
export function accessTokenAsAdded(record: AccessTokenRecord, family: Family | HeldFamily | undefined): AccessTokenRecord {
  return family?.revokedAt !== undefined && record.revokedAt === undefined ? { ...record, revokedAt: family.revokedAt } : record;
}

/** consumeCode's change; false (nothing changed) if the code was used already. */
export function consumeCodeRecord(code: Mutable<AuthorizationCode>, now: number): boolean {
  if (code.usedAt !== undefined) return false;
  code.usedAt = now;
  return true;
}

/**
 * recordCodeIssue's change. Returns the revocation the issue is owed when the code's issue was
 * revoked already (the caller revokes the family and the access token with it), else undefined.
 */
export function recordCodeIssueRecord(code: Mutable<AuthorizationCode>, issued: { familyId?: string; accessTokenHash: string }): { at: number; reason: string } | undefined {
  if (issued.familyId !== undefined) code.familyId = issued.familyId;
  // A one-element array (a push onto [] reserves 17 slots): the code is kept an hour for reuse detection.
  code.accessTokenHashes = [...code.accessTokenHashes, issued.accessTokenHash];
  return code.issueRevokedAt === undefined ? undefined : { at: code.issueRevokedAt, reason: code.issueRevokedReason ?? 'authorization code was reused' };
}

/** revokeCodeIssue's mark on the code (the first stays); the caller revokes `code.familyId` and `code.accessTokenHashes`. */
export function revokeCodeIssueRecord(code: Mutable<AuthorizationCode>, now: number, reason: string): void {
  if (code.issueRevokedAt !== undefined) return;
  code.issueRevokedAt = now;
  code.issueRevokedReason = reason;
}

/** endSession's change; false if the session had ended already. */
export function endSessionRecord(session: Mutable<SsoSession>, now: number): boolean {
  if (session.endedAt !== undefined) return false;
  session.endedAt = now;
  return true;
}

/** advanceClock's arithmetic: the new offset, or undefined when it would pass `max`. */
export function advancedOffset(offset: number, seconds: number, max: number): number | undefined {
  const next = offset + seconds;
  return next > max ? undefined : next;
}

/** What a sweep may drop: a pending login past its expiry, a code an hour after its expiry (reuse detection), a grantless access token past its expiry. */
export const sweepable = {
  pendingLogin: (p: PendingAuthorization, now: number) => p.expiresAt <= now,
  code: (c: AuthorizationCode, now: number) => c.expiresAt + CODE_KEPT_SECONDS <= now,
  accessToken: (a: AccessTokenRecord, now: number) => a.expiresAt <= now && !a.familyId,
};

/** How long a code is kept after its expiry, so that a late reuse still revokes what it issued. */
export const CODE_KEPT_SECONDS = 3600;

/** How many DPoP jti values the in-memory Store holds at most (each for at most the proof window). */
export const JTI_CACHE_MAX = 10_000;

// ---------------------------------------------------------------- the in-memory store

export interface StoreOptions {
  /** Several mock instances of this process use this one Store (replicas in a test): see MockStore.replicated. */
  replicated?: boolean;
  /** Bound of the DPoP jti cache (tests of the bound). */
  maxJtis?: number;
}

/**
 * The default MockStore: Maps in this process. Every operation is synchronous and changes the held
 * records through the functions above; reads hand out the held objects themselves.
 */
export class Store implements MockStore {
  readonly replicated: boolean;
  readonly #sessions = new Map<string, Mutable<SsoSession>>();
  readonly #pending = new Map<string, PendingAuthorization>();
  readonly #codes = new Map<string, Mutable<AuthorizationCode>>();
  readonly #families = new Map<string, HeldFamily>();
  readonly #refreshTokens = new Map<string, Mutable<RefreshTokenRecord>>();
  readonly #accessTokens = new Map<string, Mutable<AccessTokenRecord>>();
  readonly #shared = new Map<string, string>();
  /** jti → until (the Map keeps insertion order: the oldest go first). */
  readonly #jtis = new Map<string, number>();
  readonly #maxJtis: number;
  #clockOffset = 0;

  constructor(options: StoreOptions = {}) {
    this.replicated = options.replicated ?? false;
    this.#maxJtis = options.maxJtis ?? JTI_CACHE_MAX;
  }

  session(id: string): SsoSession | undefined {
    return this.#sessions.get(id);
  }
  sessions(): readonly SsoSession[] {
    return [...this.#sessions.values()];
  }
  pendingLogin(id: string): PendingAuthorization | undefined {
    return this.#pending.get(id);
  }
  code(hash: string): AuthorizationCode | undefined {
    return this.#codes.get(hash);
  }
  family(id: string): Family | undefined {
    return this.#families.get(id);
  }
  families(): readonly Family[] {
    return [...this.#families.values()];
  }
  refreshToken(hash: string): RefreshTokenRecord | undefined {
    return this.#refreshTokens.get(hash);
  }
  accessToken(hash: string): AccessTokenRecord | undefined {
    return this.#accessTokens.get(hash);
  }
  size(): number {
    return this.#codes.size + this.#accessTokens.size + this.#pending.size;
  }

  addSession(session: SsoSession): void {
    this.#sessions.set(session.id, session);
  }
  addPendingLogin(pending: PendingAuthorization, max: number): void {
    while (this.#pending.size >= max) this.#pending.delete(this.#pending.keys().next().value!);
    this.#pending.set(pending.id, pending);
  }
  removePendingLogin(id: string): boolean {
    return this.#pending.delete(id);
  }
  addCode(code: AuthorizationCode): void {
    this.#codes.set(code.hash, { ...code, accessTokenHashes: [...code.accessTokenHashes] });
  }
  addFamily(family: Family): void {
    this.#families.set(family.id, { ...family, tokens: [], accessTokenHashes: [...family.accessTokenHashes] });
    for (const t of family.tokens) this.addRefreshToken(t);
  }
  addRefreshToken(record: RefreshTokenRecord): void {
    this.#refreshTokens.set(record.hash, record);
    const family = this.#families.get(record.familyId);
    if (family) family.tokens = append(family.tokens, record);
  }
  addAccessToken(record: AccessTokenRecord): void {
    const family = record.familyId !== undefined ? this.#families.get(record.familyId) : undefined;
    this.#accessTokens.set(record.hash, accessTokenAsAdded(record, family));
    if (family) family.accessTokenHashes = append(family.accessTokenHashes, record.hash);
  }

  consumeCode(hash: string, now: number): boolean {
    const code = this.#codes.get(hash);
    return code !== undefined && consumeCodeRecord(code, now);
  }
  recordCodeIssue(hash: string, issued: { familyId?: string; accessTokenHash: string }): void {
    const code = this.#codes.get(hash);
    if (!code) return;
    const owed = recordCodeIssueRecord(code, issued);
    if (!owed) return;
    if (issued.familyId !== undefined) this.revokeFamily({ id: issued.familyId }, owed.at, owed.reason);
    this.revokeAccessToken(issued.accessTokenHash, owed.at);
  }
  revokeCodeIssue(hash: string, now: number, reason: string): void {
    const code = this.#codes.get(hash);
    if (!code) return;
    revokeCodeIssueRecord(code, now, reason);
    if (code.familyId !== undefined) this.revokeFamily({ id: code.familyId }, now, reason);
    for (const h of code.accessTokenHashes) this.revokeAccessToken(h, now);
  }
  rotateRefreshToken(presented: string, seen: SeenRefreshToken, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): boolean {
    const record = this.#refreshTokens.get(presented);
    const family = record && this.#families.get(record.familyId);
    if (!stillAsSeen(record, family, seen)) return false;
    rotateRecords(family!, record!, successor, now, rules);
    this.#refreshTokens.set(successor.hash, successor);
    return true;
  }
  useRefreshToken(presented: string, seen: SeenRefreshToken, change: RefreshTokenChange, now: number): boolean {
    const record = this.#refreshTokens.get(presented);
    const family = record && this.#families.get(record.familyId);
    if (!stillAsSeen(record, family, seen)) return false;
    useRecords(family!, record!, change, now);
    return true;
  }
  revokeFamily(family: { id: string }, now: number, reason: string): void {
    const held = this.#families.get(family.id);
    if (!held) return;
    revokeFamilyRecords(held, now, reason);
    for (const h of held.accessTokenHashes) this.revokeAccessToken(h, now);
  }
  revokeAccessToken(hash: string, now: number): void {
    const at = this.#accessTokens.get(hash);
    if (at) revokeAccessTokenRecord(at, now);
  }
  endSession(id: string, now: number): boolean {
    const session = this.#sessions.get(id);
    return session !== undefined && endSessionRecord(session, now);
  }

  clockOffset(): number {
    return this.#clockOffset;
  }
  advanceClock(seconds: number, max: number): number | undefined {
    const next = advancedOffset(this.#clockOffset, seconds, max);
    if (next !== undefined) this.#clockOffset = next;
    return next;
  }
  resetClock(): void {
    this.#clockOffset = 0;
  }
  shared(name: string, candidate: string): string {
    const held = this.#shared.get(name);
    if (held !== undefined) return held;
    this.#shared.set(name, candidate);
    return candidate;
  }
  rememberJti(jti: string, now: number, until: number): boolean {
    const held = this.#jtis.get(jti);
    if (held !== undefined && now < held) return false;
    // Bounded in time: entries past their `until` can never match a proof still accepted.
    // Bounded in size: the oldest go first.
    for (const [k, v] of this.#jtis) {
      if (v > now && this.#jtis.size < this.#maxJtis) break;
      this.#jtis.delete(k);
    }
    this.#jtis.delete(jti);
    this.#jtis.set(jti, until);
    return true;
  }
  /** How many jti values are held (tests of the bound). */
  jtiCount(): number {
    return this.#jtis.size;
  }

  sweep(now: number): void {
    for (const [k, p] of this.#pending) if (sweepable.pendingLogin(p, now)) this.#pending.delete(k);
    for (const [k, c] of this.#codes) if (sweepable.code(c, now)) this.#codes.delete(k);
    for (const [k, a] of this.#accessTokens) if (sweepable.accessToken(a, now)) this.#accessTokens.delete(k);
  }
  clear(): void {
    this.#sessions.clear();
    this.#pending.clear();
    this.#codes.clear();
    this.#families.clear();
    this.#refreshTokens.clear();
    this.#accessTokens.clear();
    this.#jtis.clear();
  }
}

/**
 * Appends to a family's list. The first element goes into a one-element literal: a push onto an
 * empty array reserves 17 slots, and most families never hold more than one or two entries.
 */
function append<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  list.push(item);
  return list;
}

export function sessionActive(session: SsoSession | undefined, now: number): boolean {
  return session !== undefined && session.endedAt === undefined && now < session.expiresAt;
}
