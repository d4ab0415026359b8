/**
 * HTTP client of the replica tests: keep-alive connections per origin (undici Pools, pipelining 1,
 * so concurrent requests really travel side by side), the login_hint shortcut with PKCE, the code
 * exchange and the refresh grant of the telenorid-plus fixture clients.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
  ms: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export class ReplicaClient {
  readonly #pools = new Map<string, Pool>();
  constructor(private readonly connections = 20) {}

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) this.#pools.set(origin, (pool = new Pool(origin, { connections: this.connections, pipelining: 1, keepAliveTimeout: 60_000 })));
    return pool;
  }

  /** One request; never follows redirects. `timeoutMs` bounds it (an answer that never comes is an error). */
  async send(origin: string, method: 'GET' | 'POST', path: string, options: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
    const t0 = performance.now();
    const r = await this.#pool(origin).request({
      method,
      path,
      headers: options.headers ?? {},
      ...(options.body !== undefined && { body: options.body }),
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
    });
    const text = await r.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, headers: r.headers, text, json, ms: performance.now() - t0 };
  }

  form(origin: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Answer> {
    return this.send(origin, 'POST', path, { headers: { ...FORM, ...headers }, body: new URLSearchParams(params).toString(), ...(timeoutMs !== undefined && { timeoutMs }) });
  }

  /** The authorization request with the test-mode login_hint: the redirect it answers. */
  authorize(origin: string, params: Record<string, string>, timeoutMs?: number): Promise<Answer> {
    return this.send(origin, 'GET', `/authorize?${new URLSearchParams(params)}`, timeoutMs !== undefined ? { timeoutMs } : {});
  }

  /**
   * A login of `username` with the public client `clientId` (PKCE) through `authorizeAt`, and the code
   * exchanged at `exchangeAt` (another replica, as a load balancer may send it): the token response.
   */
  async login(authorizeAt: string, exchangeAt: string, o: { clientId: string; redirectUri: string; username: string; scope?: string }): Promise<Record<string, string>> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');
    const a = await this.authorize(authorizeAt, {
      response_type: 'code',
      client_id: o.clientId,
      redirect_uri: o.redirectUri,
      scope: o.scope ?? 'openid offline_access',
      state,
      login_hint: o.username,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const location = a.headers.location;
    const code = typeof location === 'string' ? new URL(location).searchParams.get('code') : null;
    if (a.status !== 302 || !code) throw new Error(`authorize at ${authorizeAt}: ${a.status} ${String(location)} ${a.text.slice(0, 200)}`);
    const t = await this.form(exchangeAt, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: o.redirectUri, client_id: o.clientId });
    if (t.status !== 200) throw new Error(`code exchange at ${exchangeAt}: ${t.status} ${t.text.slice(0, 300)}`);
    return t.json as Record<string, string>;
  }

  refresh(origin: string, token: string, clientId: string, timeoutMs?: number): Promise<Answer> {
    return this.form(origin, '/token', { grant_type: 'refresh_token', refresh_token: token, client_id: clientId }, {}, timeoutMs);
  }

  /** The control API of one replica (admin token as Bearer). */
  control(origin: string, adminToken: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    return this.send(origin, method, `/__control${path}`, {
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }
}
