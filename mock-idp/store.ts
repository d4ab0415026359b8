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

/**
 * The state of one mock IdP as the core uses it. Reads return records as they are now; every change
 * is a named operation, and those that must be atomic say so. The in-memory Store is the default.
 *
 * Atomicity and concurrency. Each operation marked ATOMIC is all-or-nothing: another request sees
 * either none of its effects or all of them. The ones that decide a race are compare-and-set: they
 * are given what the caller saw (`seen`) and apply only if the record is still so, returning whether
 * they did. Of concurrent refreshes of one token exactly one gets true; the others are refused.
 *
 * Why compare-and-set rather than "check, then write without yielding": the in-memory Store is
 * synchronous, and the refresh grant reads, decides and writes with no await in between, so for it
 * the comparison always holds and one winner follows from the event loop alone. A shared store
 * (e.g. Redis, for several mock processes) cannot offer that: its reads and writes are remote, hence
 * asynchronous, and other processes write in between. It would implement each operation as one
 * server-side step (a Lua script, or WATCH/MULTI) and return promises; the compare-and-set contract
 * is what keeps one winner then, because the caller never relies on nothing happening between its
 * read and its write. The methods are synchronous today so that the in-memory path has no await: an
 * await per store call would cost every request, and the refresh grant's check-and-rotate would no
 * longer be one step. A shared store would make them return promises and the core await them; the
 * contracts stay as written here.
 */
export interface MockStore {
  // -- reads
  session(id: string): SsoSession | undefined;
  sessions(): Iterable<SsoSession>;
  pendingLogin(id: string): PendingAuthorization | undefined;
  code(hash: string): AuthorizationCode | undefined;
  family(id: string): Family | undefined;
  families(): Iterable<Family>;
  refreshToken(hash: string): RefreshTokenRecord | undefined;
  accessToken(hash: string): AccessTokenRecord | undefined;
  /** How many codes, access tokens and pending logins are held (what a sweep walks). */
  size(): number;

  // -- creates
  addSession(session: SsoSession): void;
  /** Keeps a pending login; when `max` are held, the oldest are dropped first. */
  addPendingLogin(pending: PendingAuthorization, max: number): void;
  removePendingLogin(id: string): void;
  addCode(code: AuthorizationCode): void;
  addFamily(family: Family): void;
  /** A refresh token of an existing family (its first one, from startFamily). */
  addRefreshToken(record: RefreshTokenRecord): void;
  addAccessToken(record: AccessTokenRecord): void;

  // -- atomic operations
  /**
   * ATOMIC, compare-and-set. Marks an unused code used at `now`; false if it was already used
   * (then nothing changes). Of concurrent exchanges of one code exactly one gets true.
   */
  consumeCode(hash: string, now: number): boolean;
  /** ATOMIC. Records what a code's exchange issued (its family, its access token), for reuse revocation. */
  recordCodeIssue(hash: string, issued: { familyId?: string; accessTokenHash: string }): void;
  /** ATOMIC. A code used twice: revokes the family and every access token issued from it (RFC 6749 §4.1.2). */
  revokeCodeIssue(hash: string, now: number, reason: string): void;
  /**
   * ATOMIC, compare-and-set. If the presented token is still as `seen`: retires (state rotated) the
   * tokens of the family `rules.retiredByRotation` names (correct: every active one), adds `successor`
   * to the family, marks the presented token used (first use), its successor, and its grace retry
   * spent when it was used before. False if the token changed since `seen` (a concurrent refresh
   * won): nothing changes.
   */
  rotateRefreshToken(presented: string, seen: SeenRefreshToken, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): boolean;
  /** ATOMIC, compare-and-set like rotateRefreshToken: a successful refresh that issues no new refresh token. */
  useRefreshToken(presented: string, seen: SeenRefreshToken, change: RefreshTokenChange, now: number): boolean;
  /**
   * ATOMIC. Revokes a family: it is marked revoked (the first reason stays), every refresh token is
   * revoked and every access token of the grant too (RFC 7009 §2.1). Idempotent.
   */
  revokeFamily(family: { id: string }, now: number, reason: string): void;
  /** ATOMIC. Revokes one access token (idempotent: the first time stays). */
  revokeAccessToken(hash: string, now: number): void;
  /** ATOMIC. Ends an SSO session at `now`; false if it had already ended (nothing changes). */
  endSession(id: string, now: number): boolean;

  // -- housekeeping
  /** Drops state that can no longer matter, so long runs keep a bounded footprint. */
  sweep(now: number): void;
  clear(): void;
}

/** A record as the in-memory store holds it: the same object the reads hand out, changed only here. */
type HeldFamily = Omit<Mutable<Family>, 'tokens' | 'accessTokenHashes'> & { tokens: Mutable<RefreshTokenRecord>[]; accessTokenHashes: string[] };

/**
 * The default MockStore: Maps in this process. Every operation is synchronous, so a caller that
 * reads, decides and calls an operation without an await in between is never interleaved with another.
 */
export class Store implements MockStore {
  readonly #sessions = new Map<string, Mutable<SsoSession>>();
  readonly #pending = new Map<string, PendingAuthorization>();
  readonly #codes = new Map<string, Mutable<AuthorizationCode>>();
  readonly #families = new Map<string, HeldFamily>();
  readonly #refreshTokens = new Map<string, Mutable<RefreshTokenRecord>>();
  readonly #accessTokens = new Map<string, Mutable<AccessTokenRecord>>();

  session(id: string): SsoSession | undefined {
    return this.#sessions.get(id);
  }
  sessions(): Iterable<SsoSession> {
    return this.#sessions.values();
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
  families(): Iterable<Family> {
    return this.#families.values();
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
  removePendingLogin(id: string): void {
    this.#pending.delete(id);
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
    this.#accessTokens.set(record.hash, record);
    const family = record.familyId ? this.#families.get(record.familyId) : undefined;
    if (family) family.accessTokenHashes = append(family.accessTokenHashes, record.hash);
  }

  consumeCode(hash: string, now: number): boolean {
    const code = this.#codes.get(hash);
    if (!code || code.usedAt !== undefined) return false;
    code.usedAt = now;
    return true;
  }
  recordCodeIssue(hash: string, issued: { familyId?: string; accessTokenHash: string }): void {
    const code = this.#codes.get(hash);
    if (!code) return;
    if (issued.familyId !== undefined) code.familyId = issued.familyId;
    // A one-element array (a push onto [] reserves 17 slots): the code is kept an hour for reuse detection.
    code.accessTokenHashes = [...code.accessTokenHashes, issued.accessTokenHash];
  }
  revokeCodeIssue(hash: string, now: number, reason: string): void {
    const code = this.#codes.get(hash);
    if (!code) return;
    if (code.familyId !== undefined) this.revokeFamily({ id: code.familyId }, now, reason);
    for (const h of code.accessTokenHashes) this.revokeAccessToken(h, now);
  }
  rotateRefreshToken(presented: string, seen: SeenRefreshToken, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): boolean {
    const held = this.#still(presented, seen);
    if (!held) return false;
    commitRefresh(rules, held.family, held.record, { kind: 'rotate', expiresAt: successor.expiresAt }, now, successor.hash);
    this.addRefreshToken(successor);
    return true;
  }
  useRefreshToken(presented: string, seen: SeenRefreshToken, change: RefreshTokenChange, now: number): boolean {
    const held = this.#still(presented, seen);
    if (!held) return false;
    // A change that issues no token retires no other: the rules' rotation point is not consulted.
    commitRefresh(correctRefreshRules, held.family, held.record, change, now);
    return true;
  }
  revokeFamily(family: { id: string }, now: number, reason: string): void {
    const held = this.#families.get(family.id);
    if (!held) return;
    if (held.revokedAt === undefined) {
      held.revokedAt = now;
      held.revokedReason = reason;
    }
    for (const t of held.tokens) {
      if (t.state === 'active') t.retiredAt = now;
      t.state = 'revoked';
    }
    for (const h of held.accessTokenHashes) this.revokeAccessToken(h, now);
  }
  revokeAccessToken(hash: string, now: number): void {
    const at = this.#accessTokens.get(hash);
    if (at && at.revokedAt === undefined) at.revokedAt = now;
  }
  endSession(id: string, now: number): boolean {
    const session = this.#sessions.get(id);
    if (!session || session.endedAt !== undefined) return false;
    session.endedAt = now;
    return true;
  }

  sweep(now: number): void {
    for (const [k, p] of this.#pending) if (p.expiresAt <= now) this.#pending.delete(k);
    for (const [k, c] of this.#codes) if (c.expiresAt + 3600 <= now) this.#codes.delete(k);
    for (const [k, a] of this.#accessTokens) if (a.expiresAt <= now && !a.familyId) this.#accessTokens.delete(k);
  }
  clear(): void {
    this.#sessions.clear();
    this.#pending.clear();
    this.#codes.clear();
    this.#families.clear();
    this.#refreshTokens.clear();
    this.#accessTokens.clear();
  }

  /** The presented token and its family if the token is still as the caller saw it, in a family not revoked since. */
  #still(hash: string, seen: SeenRefreshToken): { record: Mutable<RefreshTokenRecord>; family: HeldFamily } | undefined {
    const record = this.#refreshTokens.get(hash);
    if (!record || record.state !== seen.state || record.successor !== seen.successor) return undefined;
    const family = this.#families.get(record.familyId);
    return family && family.revokedAt === undefined ? { record, family } : undefined;
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
