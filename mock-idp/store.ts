/**
 * In-memory state of one mock IdP. Tokens are kept only as hashes. All mutations are
 * synchronous so a caller can check-and-rotate without yielding (atomic refresh).
 */

export interface SsoSession {
  id: string;
  sub: string;
  authTime: number;
  expiresAt: number;
  endedAt?: number;
}

export interface PendingAuthorization {
  id: string;
  params: Record<string, string>;
  /** The login-binding cookie value of the browser that was shown the page. */
  browser: string;
  expiresAt: number;
}

export interface AuthorizationCode {
  hash: string;
  clientId: string;
  redirectUri: string;
  scope: string[];
  nonce?: string;
  codeChallenge?: string;
  sub: string;
  sid: string;
  authTime: number;
  expiresAt: number;
  usedAt?: number;
  familyId?: string;
  accessTokenHashes: string[];
}

export type RefreshTokenState = 'active' | 'rotated' | 'consumed' | 'revoked';

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  clientId: string;
  /** Position in the family: 0 for the token from the code exchange. */
  generation: number;
  issuedAt: number;
  expiresAt: number;
  state: RefreshTokenState;
  /** When it stopped being active (rotation, consumption, revocation). */
  retiredAt?: number;
  /** When it was first presented successfully. */
  usedAt?: number;
  /** The token its last successful presentation produced (hash). */
  successor?: string;
  /** Its one grace-window retry has been spent. */
  graceUsed?: boolean;
}

/** A grant: everything issued from one authorization code (a refresh-token family). */
export interface Family {
  id: string;
  clientId: string;
  policy: string;
  sub: string;
  sid: string;
  scope: string[];
  authTime: number;
  createdAt: number;
  /** First issue + lifetime: the end for fixed-expiry policies. */
  fixedExpiresAt: number;
  revokedAt?: number;
  revokedReason?: string;
  tokens: RefreshTokenRecord[];
  /** Hashes of the access tokens issued in this grant (an array: a Set per family costs memory). */
  accessTokenHashes: string[];
}

export interface AccessTokenRecord {
  hash: string;
  clientId: string;
  sub?: string;
  scope: string[];
  issuedAt: number;
  expiresAt: number;
  familyId?: string;
  sid?: string;
  revokedAt?: number;
}

export class Store {
  readonly sessions = new Map<string, SsoSession>();
  readonly pending = new Map<string, PendingAuthorization>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly families = new Map<string, Family>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();

  clear(): void {
    this.sessions.clear();
    this.pending.clear();
    this.codes.clear();
    this.families.clear();
    this.refreshTokens.clear();
    this.accessTokens.clear();
  }

  addRefreshToken(record: RefreshTokenRecord): void {
    this.refreshTokens.set(record.hash, record);
    const family = this.families.get(record.familyId);
    if (family) family.tokens = append(family.tokens, record);
  }

  addAccessToken(record: AccessTokenRecord): void {
    this.accessTokens.set(record.hash, record);
    const family = record.familyId ? this.families.get(record.familyId) : undefined;
    if (family) family.accessTokenHashes = append(family.accessTokenHashes, record.hash);
  }

  /** Revokes a family: every refresh token and every access token of the grant (RFC 7009 §2.1). */
  revokeFamily(family: Family, now: number, reason: string): void {
    if (family.revokedAt === undefined) {
      family.revokedAt = now;
      family.revokedReason = reason;
    }
    for (const t of family.tokens) {
      if (t.state === 'active') t.retiredAt = now;
      t.state = 'revoked';
    }
    for (const h of family.accessTokenHashes) {
      const at = this.accessTokens.get(h);
      if (at && at.revokedAt === undefined) at.revokedAt = now;
    }
  }

  /** Drops state that can no longer matter, so long runs keep a bounded footprint. */
  sweep(now: number): void {
    for (const [k, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(k);
    for (const [k, c] of this.codes) if (c.expiresAt + 3600 <= now) this.codes.delete(k);
    for (const [k, a] of this.accessTokens) if (a.expiresAt <= now && !a.familyId) this.accessTokens.delete(k);
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
