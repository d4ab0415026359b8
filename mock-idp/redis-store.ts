/**
 * A MockStore in Redis, so several mock processes (replicas) share one state: token families,
 * sessions, codes, pending logins, the virtual clock, shared secrets and DPoP jti values.
 *
 * Layout: every key under a prefix (default rc:<issuer hash>:), records as JSON strings:
 * family:<id> (with its refresh tokens, as in memory; its access-token hashes in the list
 * family-at:<id>, so that concurrent refreshes add theirs without undoing each other's
 * compare-and-set), rt:<hash> → family id, at:<hash>, code:<hash>,
 * session:<id>, pending:<id> (+ pending:~index, pending:~seq for the bound), jti:<sha256>, clock,
 * shared:<name>. Listings (sessions(), families(), size(), clear()) SCAN the prefix: they serve the
 * control API and logout, not the token endpoint.
 *
 * Atomic operations read the records, compute the change in TypeScript with the rule functions the
 * in-memory store uses (commitRefresh for refreshes), and write with one Lua script (CAS) that first
 * compares every record read with what it holds (a record's JSON is its own version) and then writes
 * every key, or writes nothing; then the operation reads again and decides again, so a token that
 * changed since `seen` gives false, as in memory.
 *
 * TTLs: each key expires with what it holds, (its last virtual expiry − virtual now) + a margin, so
 * the virtual clock running ahead changes nothing and memory stays bounded. A family's rt keys live
 * one to two times its TTL: written at twice it, renewed together to twice it when the oldest has
 * less than the family left (a sliding family), so a rotated-out token is recognised as long as its
 * family lives, and a write costs one PTTL rather than one PEXPIRE per token of the family.
 * The clock and shared values never expire (one small key each).
 *
 * Unreachable Redis: every operation rejects with StoreUnavailableError within commandTimeoutMs
 * (no offline queue: while disconnected a command fails at once; a command already sent is given
 * up after the timeout), and the client reconnects by itself, so operations work again when Redis is back.
 */
import { createHash } from 'node:crypto';
import type { RedisClientType } from 'redis';
import type { Mutable, RefreshRules } from './profile/model.ts';
import { ADD_PENDING, CAS, READ_FAMILY, READ_REFRESH, REMEMBER_JTI, REMOVE_PENDING, SHARED } from './redis-lua.ts';
import {
  accessTokenAsAdded,
  advancedOffset,
  CODE_KEPT_SECONDS,
  consumeCodeRecord,
  endSessionRecord,
  recordCodeIssueRecord,
  revokeAccessTokenRecord,
  revokeCodeIssueRecord,
  revokeFamilyRecords,
  rotateRecords,
  stillAsSeen,
  StoreUnavailableError,
  useRecords,
  type AccessTokenRecord,
  type AuthorizationCode,
  type Family,
  type HeldFamily,
  type MockStore,
  type PendingAuthorization,
  type RefreshTokenChange,
  type RefreshTokenRecord,
  type SeenRefreshToken,
  type SsoSession,
} from './store.ts';

export interface RedisStoreOptions {
  /** redis://[user:password@]HOST:PORT[/DB] */
  url: string;
  /** Key prefix; default rc:<first 16 hex of SHA-256(issuer)>: (issuer given) or rc:default:. */
  prefix?: string;
  /** The issuer the default prefix is derived from. */
  issuer?: string;
  /**
   * The virtual now (epoch s) for the TTLs of creates, which are given no `now`; default: the wall
   * clock plus the offset this store last read or wrote (clockOffset, advanceClock, resetClock),
   * which is a running Clock's now. A mock on a frozen Clock passes its clock's now. A record that
   * carries its own creation time (issuedAt, createdAt, authTime) is timed from it when earlier.
   */
  now?: () => number;
  /** Added to every record's TTL (s); default 3600. */
  ttlMarginSeconds?: number;
  /** Bound on connecting (also at start) and on each operation (ms); default 2000 each. */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

/** The default prefix of a mock serving `issuer`: several mocks share one Redis without meeting. */
export function redisPrefixFor(issuer: string): string {
  return `rc:${createHash('sha256').update(issuer).digest('hex').slice(0, 16)}:`;
}

/** A CAS that keeps losing to writes that do not decide it (e.g. access tokens added to the family) gives up after this many rounds. */
const MAX_CAS_ROUNDS = 100;
/** How long (ms) and how many family JSONs are kept as the first guess of a compare-and-set (#recentFamily). */
const RECENT_MS = 2000;
const RECENT_MAX = 1024;
/** Keys per SCAN round trip and per MGET/UNLINK batch. */
const BATCH = 500;
/** Errors Redis answers while it cannot serve (loading a dataset, a script running too long, ...): unavailable, not a bug. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/**
 * Connects to Redis and returns its store; rejects with StoreUnavailableError (naming the URL, never
 * its password) when Redis does not answer within connectTimeoutMs.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const { createClient, ErrorReply } = await import('redis'); // loaded only by a mock that uses Redis
  const connectTimeout = options.connectTimeoutMs ?? 2000;
  let started = false;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout,
      // At start a failure is final (the mock exits with its error); later the client keeps trying, 50 ms to 1 s apart.
      reconnectStrategy: (retries, cause) => (started ? Math.min(50 * (retries + 1), 1000) : cause),
    },
  }) as unknown as RedisClientType;
  let lastError: Error | undefined;
  client.on('error', (e: Error) => (lastError = e)); // without a listener an error event would end the process
  try {
    await withTimeout(client.connect(), connectTimeout + 500);
  } catch (e) {
    if (client.isOpen) client.destroy();
    throw new StoreUnavailableError(`Redis at ${redactUrl(options.url)} is unreachable: ${(e as Error).message || lastError?.message || 'no answer'}`, { cause: e });
  }
  started = true;
  return new RedisStore(client, options, (e) => e instanceof ErrorReply);
}

type Held<T> = { json: string; value: T };
type Write = { key: string; expect: string; value: string; ttlMs?: number };

export class RedisStore implements MockStore {
  /** Other mock processes share it: each request reads the clock offset from it. */
  readonly replicated = true;
  readonly prefix: string;
  readonly #client: RedisClientType;
  readonly #margin: number;
  readonly #timeout: number;
  readonly #now: () => number;
  #offset = 0;
  readonly #sha = new Map<string, string>();
  /** Family key → the JSON last read or written here, and when (#recentFamily); refresh token hash → its family id. */
  readonly #recent = new Map<string, { json: string; at: number }>();
  readonly #recentRt = new Map<string, string>();
  readonly #isReply: (e: unknown) => boolean;

  /** Use createRedisStore (it connects first). `isReply`: an error Redis answered (vs. one of the connection). */
  constructor(client: RedisClientType, options: RedisStoreOptions, isReply: (e: unknown) => boolean) {
    this.#client = client;
    this.#isReply = isReply;
    this.prefix = options.prefix ?? (options.issuer !== undefined ? redisPrefixFor(options.issuer) : 'rc:default:');
    this.#margin = options.ttlMarginSeconds ?? 3600;
    this.#timeout = options.commandTimeoutMs ?? 2000;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000) + this.#offset);
  }

  // ------------------------------------------------------------------ reads

  async session(id: string): Promise<SsoSession | undefined> {
    return (await this.#get<SsoSession>(this.#key('session:', id)))?.value;
  }
  async sessions(): Promise<readonly SsoSession[]> {
    return this.#list<SsoSession>('session:');
  }
  async pendingLogin(id: string): Promise<PendingAuthorization | undefined> {
    return (await this.#get<PendingAuthorization>(this.#key('pending:', id)))?.value;
  }
  async code(hash: string): Promise<AuthorizationCode | undefined> {
    return (await this.#get<AuthorizationCode>(this.#key('code:', hash)))?.value;
  }
  async family(id: string): Promise<Family | undefined> {
    return (await this.#readFamily(id))?.held.value;
  }
  async families(): Promise<readonly Family[]> {
    const listed = await this.#list<Family>('family:');
    const read = await Promise.all(listed.map((f) => this.#readFamily(f.id)));
    return read.flatMap((r) => (r ? [r.held.value] : []));
  }
  async refreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    return (await this.#heldRefresh(hash))?.record;
  }
  async accessToken(hash: string): Promise<AccessTokenRecord | undefined> {
    return (await this.#get<AccessTokenRecord>(this.#key('at:', hash)))?.value;
  }
  /** How many codes, access tokens and pending logins are held (a SCAN of the prefix). */
  async size(): Promise<number> {
    let n = 0;
    const counted = ['code:', 'at:', 'pending:'].map((k) => this.prefix + k);
    await this.#scan((keys) => {
      for (const k of keys) if (counted.some((c) => k.startsWith(c)) && !k.startsWith(`${this.prefix}pending:~`)) n++;
    });
    return n;
  }

  // ------------------------------------------------------------------ creates

  async addSession(session: SsoSession): Promise<void> {
    await this.#set(this.#key('session:', session.id), session, session.expiresAt, Math.min(this.#now(), session.authTime));
  }
  async addPendingLogin(pending: PendingAuthorization, max: number): Promise<void> {
    const ttl = this.#ttlMs(pending.expiresAt, this.#now());
    await this.#eval(ADD_PENDING, [`${this.prefix}pending:~index`, `${this.prefix}pending:~seq`, this.#key('pending:', pending.id)], [JSON.stringify(pending), String(ttl), String(Math.max(1, max)), `${this.prefix}pending:`, pending.id]);
  }
  async removePendingLogin(id: string): Promise<boolean> {
    return (await this.#eval(REMOVE_PENDING, [`${this.prefix}pending:~index`, this.#key('pending:', id)], [id])) === 1;
  }
  async addCode(code: AuthorizationCode): Promise<void> {
    await this.#set(this.#key('code:', code.hash), code, code.expiresAt + CODE_KEPT_SECONDS, this.#now());
  }
  async addFamily(family: Family): Promise<void> {
    const now = Math.min(this.#now(), family.createdAt);
    const ttl = this.#ttlMs(lastExpiry(family), now);
    await this.#cas([
      { key: this.#key('family:', family.id), expect: '*', value: `=${storedFamily(family)}`, ttlMs: ttl },
      { key: this.#key('family-at:', family.id), expect: '*', value: '-' },
      ...family.accessTokenHashes.map((h) => ({ key: this.#key('family-at:', family.id), expect: '*', value: `+${h}`, ttlMs: 2 * ttl })),
      ...family.tokens.map((t) => ({ key: this.#key('rt:', t.hash), expect: '*', value: `=${family.id}`, ttlMs: 2 * ttl })),
    ]);
  }
  async addRefreshToken(record: RefreshTokenRecord): Promise<void> {
    const now = Math.min(this.#now(), record.issuedAt);
    const added = await this.#changeFamily(record.familyId, (family) => {
      family.tokens.push(record);
      return [{ key: this.#key('rt:', record.hash), expect: '*', value: `=${record.familyId}` }];
    }, now);
    // A token of no family held: kept as in memory, found by nothing that needs its family.
    if (!added) await this.#cas([{ key: this.#key('rt:', record.hash), expect: '*', value: `=${record.familyId}`, ttlMs: this.#ttlMs(record.expiresAt, now) }]);
  }
  async addAccessToken(record: AccessTokenRecord): Promise<void> {
    const now = Math.min(this.#now(), record.issuedAt);
    const write = (held: AccessTokenRecord): Write => ({ key: this.#key('at:', held.hash), expect: '*', value: `=${JSON.stringify(held)}`, ttlMs: this.#ttlMs(held.expiresAt, now) });
    // With its family in one CAS: a family revoked in between is seen, and the token held revoked
    // (accessTokenAsAdded). The hash goes onto the family's list, not into its JSON: concurrent
    // refreshes of one family add their access tokens without undoing each other's compare-and-set.
    const added =
      record.familyId !== undefined &&
      (await this.#changeFamily(record.familyId, (family) => [write(accessTokenAsAdded(record, family)), { key: this.#key('family-at:', family.id), expect: '*', value: `+${record.hash}` }], now));
    if (!added) await this.#cas([write(record)]);
  }

  // ------------------------------------------------------------------ atomic operations

  async consumeCode(hash: string, now: number): Promise<boolean> {
    return this.#update<Mutable<AuthorizationCode>>(this.#key('code:', hash), (code) => consumeCodeRecord(code, now), (code) => code.expiresAt + CODE_KEPT_SECONDS, now);
  }
  async recordCodeIssue(hash: string, issued: { familyId?: string; accessTokenHash: string }): Promise<void> {
    // One CAS: the code, and when its issue was revoked already, the revocation it is owed (its family, the access token).
    await this.#changeCode(hash, this.#now(), (code) => {
      const owed = recordCodeIssueRecord(code, issued);
      return owed && { familyId: issued.familyId, accessTokenHashes: [issued.accessTokenHash], ...owed };
    });
  }
  async revokeCodeIssue(hash: string, now: number, reason: string): Promise<void> {
    // One CAS: the code marked, its family and every access token of both revoked together.
    await this.#changeCode(hash, now, (code) => {
      revokeCodeIssueRecord(code, now, reason);
      return { familyId: code.familyId, accessTokenHashes: code.accessTokenHashes, at: now, reason };
    });
  }
  async rotateRefreshToken(presented: string, seen: SeenRefreshToken, successor: RefreshTokenRecord, now: number, rules: Pick<RefreshRules, 'retiredByRotation'>): Promise<boolean> {
    return this.#refresh(presented, seen, now, (family, record) => {
      rotateRecords(family, record, successor, now, rules);
      return [{ key: this.#key('rt:', successor.hash), expect: '!', value: `=${family.id}` }];
    });
  }
  async useRefreshToken(presented: string, seen: SeenRefreshToken, change: RefreshTokenChange, now: number): Promise<boolean> {
    return this.#refresh(presented, seen, now, (family, record) => {
      useRecords(family, record, change, now);
      return [];
    });
  }
  async revokeFamily(family: { id: string }, now: number, reason: string): Promise<void> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const read = await this.#readFamily(family.id);
      if (!read) return;
      const writes = this.#revokedFamily(read, now, reason);
      writes.push(...(await this.#revokedAccessTokens(read.held.value.accessTokenHashes, now)));
      if (await this.#cas(writes)) return;
    }
    throw contention('revokeFamily');
  }
  async revokeAccessToken(hash: string, now: number): Promise<void> {
    await this.#update<Mutable<AccessTokenRecord>>(this.#key('at:', hash), (at) => revokeAccessTokenRecord(at, now), (at) => at.expiresAt, now);
  }
  async endSession(id: string, now: number): Promise<boolean> {
    return this.#update<Mutable<SsoSession>>(this.#key('session:', id), (session) => endSessionRecord(session, now), (session) => session.expiresAt, now);
  }

  // ------------------------------------------------------------------ shared state

  async clockOffset(): Promise<number> {
    const held = await this.#call(() => this.#client.get(`${this.prefix}clock`));
    return (this.#offset = held === null ? 0 : Number(held));
  }
  async advanceClock(seconds: number, max: number): Promise<number | undefined> {
    const key = `${this.prefix}clock`;
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const held = await this.#call(() => this.#client.get(key));
      const offset = advancedOffset(held === null ? 0 : Number(held), seconds, max);
      if (offset === undefined) return undefined;
      if (await this.#cas([{ key, expect: held === null ? '!' : `=${held}`, value: `=${offset}` }])) return (this.#offset = offset);
    }
    throw contention('clock');
  }
  async resetClock(): Promise<void> {
    await this.#call(() => this.#client.set(`${this.prefix}clock`, '0'));
    this.#offset = 0;
  }
  async shared(name: string, candidate: string): Promise<string> {
    return String(await this.#eval(SHARED, [`${this.prefix}shared:${name}`], [candidate]));
  }
  async rememberJti(jti: string, now: number, until: number): Promise<boolean> {
    const key = `${this.prefix}jti:${createHash('sha256').update(jti).digest('base64url')}`;
    const ttl = Math.max(1000, (until - now) * 1000);
    return (await this.#eval(REMEMBER_JTI, [key], [String(now), String(until), String(ttl)])) === 1;
  }

  // ------------------------------------------------------------------ housekeeping

  /** Nothing to do: every record key expires by its TTL. */
  sweep(_now: number): void {}
  /** Every record and jti of this mock (its prefix) goes; the clock (resetClock's) and the shared values (the running replicas hold them) stay. */
  async clear(): Promise<void> {
    const shared = `${this.prefix}shared:`;
    const clock = `${this.prefix}clock`;
    await this.#scan(async (keys) => {
      const gone = keys.filter((k) => k !== clock && !k.startsWith(shared));
      if (gone.length) await this.#call(() => this.#client.unlink(gone));
    });
  }
  /** Closes the connection: waits for commands in flight (bounded), then drops it. */
  async close(): Promise<void> {
    try {
      await withTimeout(this.#client.close(), this.#timeout);
    } catch {
      // unreachable or slow: dropped below
    } finally {
      if (this.#client.isOpen) this.#client.destroy();
    }
  }

  // ------------------------------------------------------------------ inside

  #key(kind: string, id: string): string {
    return this.prefix + kind + id;
  }

  /** TTL in ms of a key whose record matters until `until` (virtual epoch s), seen at virtual `now`. */
  #ttlMs(until: number, now: number): number {
    return Math.max(1000, Math.ceil((until - now + this.#margin) * 1000));
  }

  /** One Redis call, bounded in time; a connection failure becomes StoreUnavailableError. */
  async #call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(run(), this.#timeout);
    } catch (e) {
      throw unavailable(e, this.#isReply);
    }
  }

  /** EVALSHA, loading the script when Redis does not hold it (first use, or a restarted Redis). */
  async #eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#sha.get(script);
    if (sha === undefined) this.#sha.set(script, (sha = createHash('sha1').update(script).digest('hex')));
    const argv = [String(keys.length), ...keys, ...args];
    return this.#call(async () => {
      try {
        return await this.#client.sendCommand(['EVALSHA', sha, ...argv]);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        return this.#client.sendCommand(['EVAL', script, ...argv]);
      }
    });
  }

  async #get<T>(key: string): Promise<Held<T> | undefined> {
    const json = await this.#call(() => this.#client.get(key));
    return json === null ? undefined : { json, value: JSON.parse(json) as T };
  }

  async #set(key: string, record: unknown, until: number, now: number): Promise<void> {
    await this.#cas([{ key, expect: '*', value: `=${JSON.stringify(record)}`, ttlMs: this.#ttlMs(until, now) }]);
  }

  /** One CAS script: `writes` compared and written, `renew` (keys, oldest first) renewed to `toMs` when the first has less than `belowMs` left. */
  async #cas(writes: Write[], renew?: { keys: string[]; belowMs: number; toMs: number }): Promise<boolean> {
    const args = [String(writes.length), String(renew?.belowMs ?? 0), String(renew?.toMs ?? 0), ...writes.flatMap((w) => [w.expect, w.value, w.ttlMs === undefined ? '' : String(w.ttlMs)])];
    return (await this.#eval(CAS, [...writes.map((w) => w.key), ...(renew?.keys ?? [])], args)) === 1;
  }

  /**
   * Read, change (false: nothing to change, the answer is false), compare-and-set; again from the
   * read when the record changed in between. `until`: when the record stops mattering (its TTL).
   */
  async #update<T>(key: string, change: (record: T) => boolean, until: (record: T) => number, now: number): Promise<boolean> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const held = await this.#get<T>(key);
      if (!held || !change(held.value)) return false;
      if (await this.#cas([{ key, expect: `=${held.json}`, value: `=${JSON.stringify(held.value)}`, ttlMs: this.#ttlMs(until(held.value), now) }])) return true;
    }
    throw contention(key.slice(this.prefix.length).split(':')[0]!);
  }

  /**
   * Changes a family and writes it with the keys `change` returns, all in one CAS; those without a
   * TTL of their own (a new rt key, the access-token list) live twice the family's. False when there
   * is no such family.
   */
  async #changeFamily(id: string, change: (family: HeldFamily) => Write[], now: number): Promise<boolean> {
    const key = this.#key('family:', id);
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const held = (round === 0 && this.#recentFamily(key)) || (await this.#readFamily(id))?.held;
      if (!held) return false;
      if (await this.#writeFamily(held, change(held.value), now)) return true;
    }
    throw contention('family');
  }

  async #writeFamily(held: Held<HeldFamily>, extra: Write[], now: number): Promise<boolean> {
    const family = held.value;
    const key = this.#key('family:', family.id);
    const json = storedFamily(family);
    const ttlMs = this.#ttlMs(lastExpiry(family), now);
    const added = new Set(extra.map((w) => w.key));
    const renewed = [...family.tokens.map((t) => this.#key('rt:', t.hash)), this.#key('family-at:', family.id)].filter((k) => !added.has(k));
    const written = await this.#cas(
      [{ key, expect: `=${held.json}`, value: `=${json}`, ttlMs }, ...extra.map((w) => ({ ...w, ttlMs: w.ttlMs ?? 2 * ttlMs }))],
      { keys: renewed, belowMs: ttlMs, toMs: 2 * ttlMs },
    );
    if (written) this.#remember(key, json);
    else this.#recent.delete(key);
    return written;
  }

  /**
   * The family JSON this store read or wrote last, within RECENT_MS: the first compare-and-set of a
   * change is tried against it instead of a read (the refresh grant reads the family just before it
   * changes it). Safe at any age: the CAS compares it with what Redis holds, and a stale one costs a
   * failed CAS and the read it saved. Never used to answer a read, nor to refuse a change.
   */
  #recentFamily(key: string): Held<HeldFamily> | undefined {
    const held = this.#recent.get(key);
    if (!held || performance.now() - held.at > RECENT_MS) return undefined;
    return { json: held.json, value: JSON.parse(held.json) as HeldFamily };
  }
  #remember(key: string, json: string): void {
    this.#recent.delete(key);
    this.#recent.set(key, { json, at: performance.now() });
    if (this.#recent.size > RECENT_MAX) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /**
   * A code's change, with the revocation it asks for (`change` returns it: a family and access
   * tokens to revoke at `at`), in one CAS over the code, the family and every access token.
   */
  async #changeCode(hash: string, now: number, change: (code: Mutable<AuthorizationCode>) => { familyId: string | undefined; accessTokenHashes: readonly string[]; at: number; reason: string } | undefined): Promise<void> {
    const key = this.#key('code:', hash);
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const code = await this.#get<Mutable<AuthorizationCode>>(key);
      if (!code) return;
      const revoke = change(code.value);
      const writes: Write[] = [{ key, expect: `=${code.json}`, value: `=${JSON.stringify(code.value)}`, ttlMs: this.#ttlMs(code.value.expiresAt + CODE_KEPT_SECONDS, now) }];
      if (revoke) {
        const atHashes = new Set(revoke.accessTokenHashes);
        const family = revoke.familyId !== undefined ? await this.#readFamily(revoke.familyId) : undefined;
        if (family) {
          writes.push(...this.#revokedFamily(family, now, revoke.reason, revoke.at));
          for (const h of family.held.value.accessTokenHashes) atHashes.add(h);
        }
        writes.push(...(await this.#revokedAccessTokens([...atHashes], revoke.at)));
      }
      if (await this.#cas(writes)) return;
    }
    throw contention('code');
  }

  /** A family with its access-token hashes (its list); `held.json` is its key's value (the JSON without them). */
  async #readFamily(id: string): Promise<{ held: Held<HeldFamily>; atCount: number } | undefined> {
    const key = this.#key('family:', id);
    const reply = (await this.#eval(READ_FAMILY, [key, this.#key('family-at:', id)], [])) as string[] | null;
    if (reply === null) return undefined;
    const [json, ...hashes] = reply as [string, ...string[]];
    this.#remember(key, json);
    const value = JSON.parse(json) as HeldFamily;
    value.accessTokenHashes = hashes;
    return { held: { json, value }, atCount: hashes.length };
  }

  /** The CAS writes of revokeFamilyRecords on a family as read: it, on condition its access-token list did not grow meanwhile. */
  #revokedFamily(read: { held: Held<HeldFamily>; atCount: number }, now: number, reason: string, at = now): Write[] {
    const family = read.held.value;
    revokeFamilyRecords(family, at, reason);
    return [
      { key: this.#key('family:', family.id), expect: `=${read.held.json}`, value: `=${storedFamily(family)}`, ttlMs: this.#ttlMs(lastExpiry(family), now) },
      { key: this.#key('family-at:', family.id), expect: `#${read.atCount}`, value: '' },
    ];
  }

  async #heldRefresh(hash: string): Promise<{ held: Held<HeldFamily>; record: Mutable<RefreshTokenRecord> } | undefined> {
    const json = (await this.#eval(READ_REFRESH, [this.#key('rt:', hash)], [`${this.prefix}family:`])) as string | null;
    if (json === null) return undefined;
    const family = JSON.parse(json) as HeldFamily;
    const record = family.tokens.find((t) => t.hash === hash);
    if (!record) return undefined;
    this.#remember(this.#key('family:', family.id), json);
    this.#recentRt.set(hash, family.id);
    if (this.#recentRt.size > RECENT_MAX) this.#recentRt.delete(this.#recentRt.keys().next().value!);
    return { held: { json, value: family }, record };
  }

  /** The refresh operations: compare-and-set on the presented token as `seen`, in a family not revoked since. */
  async #refresh(presented: string, seen: SeenRefreshToken, now: number, change: (family: HeldFamily, record: Mutable<RefreshTokenRecord>) => Write[]): Promise<boolean> {
    // First against the family as last seen here (no read), when the token is as `seen` in it; a refusal only from a read.
    const familyId = this.#recentRt.get(presented);
    const recent = familyId !== undefined ? this.#recentFamily(this.#key('family:', familyId)) : undefined;
    const record = recent?.value.tokens.find((t) => t.hash === presented);
    if (recent && record && stillAsSeen(record, recent.value, seen) && (await this.#writeFamily(recent, change(recent.value, record), now))) return true;
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const found = await this.#heldRefresh(presented);
      if (!found) return false;
      const { held, record } = found;
      if (!stillAsSeen(record, held.value, seen)) return false;
      if (await this.#writeFamily(held, change(held.value, record), now)) return true;
    }
    throw contention('refresh');
  }

  /** The CAS writes revoking these access tokens (those still held and not revoked yet). */
  async #revokedAccessTokens(hashes: readonly string[], now: number): Promise<Write[]> {
    if (hashes.length === 0) return [];
    const keys = hashes.map((h) => this.#key('at:', h));
    const writes: Write[] = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      const values = await this.#call(() => this.#client.mGet(batch));
      values.forEach((json, j) => {
        if (json === null) return;
        const at = JSON.parse(json) as Mutable<AccessTokenRecord>;
        if (!revokeAccessTokenRecord(at, now)) return;
        writes.push({ key: batch[j]!, expect: `=${json}`, value: `=${JSON.stringify(at)}`, ttlMs: this.#ttlMs(at.expiresAt, now) });
      });
    }
    return writes;
  }

  async #list<T>(kind: string): Promise<T[]> {
    const found: T[] = [];
    await this.#scan(async (keys) => {
      const wanted = keys.filter((k) => k.startsWith(this.prefix + kind));
      if (wanted.length === 0) return;
      const values = await this.#call(() => this.#client.mGet(wanted));
      for (const json of values) if (json !== null) found.push(JSON.parse(json) as T);
    }, kind);
    return found;
  }

  /** Every key under the prefix (or prefix+kind), in batches. */
  async #scan(each: (keys: string[]) => void | Promise<void>, kind = ''): Promise<void> {
    const match = `${globEscape(this.prefix + kind)}*`;
    let cursor = '0';
    do {
      const reply = await this.#call(() => this.#client.scan(cursor, { MATCH: match, COUNT: BATCH }));
      cursor = String(reply.cursor);
      if (reply.keys.length) await each(reply.keys);
    } while (cursor !== '0');
  }
}

/** A family's key value: its JSON without its access tokens (they are its family-at: list). */
function storedFamily(family: Family | HeldFamily): string {
  return JSON.stringify({ ...family, accessTokenHashes: [] });
}

/** The last virtual instant anything of the family matters: its fixed and maximum ends, its tokens' expiries. */
function lastExpiry(family: Family | HeldFamily): number {
  let last = Math.max(family.fixedExpiresAt, family.maxExpiresAt ?? 0);
  for (const t of family.tokens) if (t.expiresAt > last) last = t.expiresAt;
  return last;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`Redis did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a late failure of a command given up on is not an unhandled rejection
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function unavailable(e: unknown, isReply: (e: unknown) => boolean): Error {
  if (e instanceof StoreUnavailableError) return e;
  const message = e instanceof Error ? e.message : String(e);
  // A reply error other than a transient one is a bug of ours (a script, a command): not hidden as an outage.
  if (e instanceof Error && isReply(e) && !TRANSIENT_REPLY.test(message)) return e;
  return new StoreUnavailableError(`Redis is unavailable: ${message}`, { cause: e });
}

function contention(what: string): StoreUnavailableError {
  return new StoreUnavailableError(`Redis: ${what} kept changing under ${MAX_CAS_ROUNDS} compare-and-set rounds`);
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
