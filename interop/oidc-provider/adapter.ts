/**
 * Storage for the oidc-provider under test: the bundled MemoryAdapter's semantics, minus its size cap.
 *
 * The bundled adapter (lib/adapters/memory_adapter.js) keeps everything in one module-wide LRU of
 * 1000 entries, shared by every Provider in the process. A conformance run logs in ~100 times
 * concurrently and then waits; with interactions, sessions, grants, codes and tokens that is enough
 * inserts to push a waiting refresh token out of the LRU, which would look like an expiry that never
 * happened. This adapter is the same thing over a per-provider Map with real expiry, and nothing more:
 * `consume` marks the token as the bundled one does (it is the grant handler that checks `consumed`),
 * and grant-wide revocation goes through the same grant index.
 */
export type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; jti?: string; consumed?: number };

interface Entry {
  value: unknown;
  /** Epoch milliseconds; undefined = no expiry. */
  expiresAt?: number;
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

class Store {
  readonly #entries = new Map<string, Entry>();

  get<T>(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value as T;
  }

  set(key: string, value: unknown, expiresInSeconds?: number): void {
    this.#entries.set(key, { value, ...(typeof expiresInSeconds === 'number' && { expiresAt: Date.now() + expiresInSeconds * 1000 }) });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** An adapter factory for `new Provider(issuer, { adapter })`: one store per provider. */
export function createMemoryAdapter(): (model: string) => MemoryAdapter {
  const store = new Store();
  return (model: string) => new MemoryAdapter(model, store);
}

const grantKey = (id: string) => `grant:${id}`;
const sessionUidKey = (uid: string) => `sessionUid:${uid}`;
const userCodeKey = (code: string) => `userCode:${code}`;

export class MemoryAdapter {
  constructor(
    readonly model: string,
    private readonly store: Store,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    if (this.model === 'Session' && typeof payload.uid === 'string') this.store.set(sessionUidKey(payload.uid), id, expiresIn);
    if (typeof payload.userCode === 'string') this.store.set(userCodeKey(payload.userCode), id, expiresIn);
    if (GRANTABLE.has(this.model) && typeof payload.grantId === 'string') {
      const members = this.store.get<Set<string>>(grantKey(payload.grantId)) ?? new Set<string>();
      members.add(key);
      this.store.set(grantKey(payload.grantId), members);
    }
    this.store.set(key, payload, expiresIn);
  }

  async find(id: string | undefined): Promise<Payload | undefined> {
    return id === undefined ? undefined : this.store.get<Payload>(this.key(id));
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    return this.find(this.store.get<string>(sessionUidKey(uid)));
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    return this.find(this.store.get<string>(userCodeKey(userCode)));
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get<Payload>(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    const key = this.key(id);
    const payload = this.store.get<Payload>(key);
    this.store.delete(key);
    if (payload && typeof payload.uid === 'string' && this.store.get(sessionUidKey(payload.uid)) === id) this.store.delete(sessionUidKey(payload.uid));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = this.store.get<Set<string>>(grantKey(grantId));
    for (const key of members ?? []) this.store.delete(key);
    this.store.delete(grantKey(grantId));
  }
}
