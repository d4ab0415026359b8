/**
 * One server under test, in its own process (forked by the orchestrator with an IPC channel):
 *   bare           node:http answering a fixed small JSON body (the transport ceiling)
 *   sign           node:http that signs one id_token per request with the mock's signer (the signing floor)
 *   mock           the mock IdP on node:http (serveMockIdp), profile telenorid-plus
 *   mock-redis     the same on a Redis store (argv: store URL, issuer): one replica of several that
 *                  share it, answering for the common issuer and for 127.0.0.1 (the load generator's Host)
 *   oidc-provider  node-oidc-provider 9, a public client (its default: rotation on), in-memory Map adapter
 *
 * Protocol: the child sends { type: 'ready', port, info }. The parent sends { type: 'mint', id, what, n }
 * and gets { type: 'minted', id, items, ms }: single-use material (refresh tokens, codes) created
 * in-process before the measured HTTP phase, so the measured loop only does the one operation.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';

export type ServerKind = 'bare' | 'sign' | 'mock' | 'mock-redis' | 'oidc-provider';
export type MintWhat = 'refresh' | 'code' | 'access';

export interface ReadyMessage {
  type: 'ready';
  port: number;
  info: {
    /** What the refresh request must carry besides the token (client id, path). */
    tokenPath: string;
    introspectionPath?: string;
    publicClientId?: string;
    redirectUri?: string;
    /** Basic authorization of the confidential client (introspection). */
    confidentialAuth?: string;
    alg?: string;
    notes?: string;
  };
}

export interface UsageMessage {
  type: 'usage';
  id: number;
  /** process.cpuUsage() of the server process, microseconds. */
  cpuMicros: number;
  rss: number;
}

export interface MintedMessage {
  type: 'minted';
  id: number;
  /** refresh: tokens; code: "code verifier" pairs; access: tokens. */
  items: string[];
  ms: number;
}

const kind = process.argv[2] as ServerKind;
const alg = (process.argv[3] ?? 'ES256') as 'ES256' | 'RS256';

function send(message: ReadyMessage | MintedMessage | UsageMessage): void {
  process.send!(message);
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.on('data', () => undefined);
    req.on('end', resolve);
  });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer({ keepAliveTimeout: 30_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

let mint: (what: MintWhat, n: number) => Promise<string[]> = async () => {
  throw new Error(`${kind} mints nothing`);
};

if (kind === 'bare') {
  const body = JSON.stringify({ access_token: 'x'.repeat(43), token_type: 'Bearer', expires_in: 300 });
  const port = await listen((req, res) => {
    void drain(req).then(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  send({ type: 'ready', port, info: { tokenPath: '/token' } });
} else if (kind === 'sign') {
  // The floor signs exactly as the mock does (its own signer, the fastest we have): a floor that
  // signed more slowly than the mock would flatter the mock's ratio.
  const { createKeys } = await import('../../mock-idp/keys.ts');
  const keys = await createKeys(alg);
  const port = await listen((req, res) => {
    void drain(req).then(async () => {
      const now = Math.floor(Date.now() / 1000);
      const idToken = await keys.sign({ iss: 'http://127.0.0.1', sub: 'user', aud: 'client', iat: now, exp: now + 300, auth_time: now, sid: 'sid' });
      const body = JSON.stringify({ id_token: idToken });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  send({ type: 'ready', port, info: { tokenPath: '/token', alg } });
} else if (kind === 'mock' || kind === 'mock-redis') {
  // BENCH_MOCK_ROOT: another checkout's mock (e.g. before a change; `npm run bench -- --mock-root DIR`).
  const root = process.env.BENCH_MOCK_ROOT ? pathToFileURL(`${process.env.BENCH_MOCK_ROOT.replace(/\/$/, '')}/`).href : new URL('../../', import.meta.url).href;
  const { serveMockIdp } = (await import(`${root}mock-idp/adapters/node-http.ts`)) as typeof import('../../mock-idp/adapters/node-http.ts');
  const { loadProfile } = (await import(`${root}mock-idp/index.ts`)) as typeof import('../../mock-idp/index.ts');
  const profile = await loadProfile('telenorid-plus');
  let replica = {};
  let listen = {};
  if (kind === 'mock-redis') {
    const [url, issuer] = [process.argv[4]!, process.argv[5]!];
    const { createRedisStore } = (await import(`${root}mock-idp/redis-store.ts`)) as typeof import('../../mock-idp/redis-store.ts');
    const { createClock } = (await import(`${root}mock-idp/clock.ts`)) as typeof import('../../mock-idp/clock.ts');
    // As the service runs a replica: the running clock (each replica reads the shared offset), the common issuer.
    replica = { store: await createRedisStore({ url, issuer }), clock: createClock({ mode: 'running' }), allowedHosts: ['127.0.0.1'] };
    listen = { issuer };
  }
  const running = await serveMockIdp({ profile, testMode: true, signingAlg: alg, ...replica }, listen);
  const { idp } = running;
  const pub = idp.clients.find((c) => c.policy === 'Mobile')!;
  const conf = idp.clients.find((c) => c.policy === 'Confidential')!;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(conf.id)}:${encodeURIComponent(conf.secret!)}`).toString('base64')}`;
  const issuer = idp.issuer;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  // One SSO session; each mint is an authorization (by cookie) and, for tokens, the code exchange.
  const first = await idp.fetch(new Request(`${issuer}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: conf.id, redirect_uri: conf.redirectUris[0]!, scope: 'openid', login_hint: idp.users[0]!.username,
  })}`));
  const cookie = first.headers.get('set-cookie')!.split(';')[0]!;

  const authorizeCode = async (client: typeof pub, scope: string): Promise<{ code: string; verifier: string }> => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const r = await idp.fetch(
      new Request(`${issuer}/authorize?${new URLSearchParams({
        response_type: 'code', client_id: client.id, redirect_uri: client.redirectUris[0]!, scope,
        code_challenge: challenge, code_challenge_method: 'S256',
      })}`, { headers: { cookie } }),
    );
    const code = new URL(r.headers.get('location')!).searchParams.get('code');
    if (!code) throw new Error(`authorize gave no code: ${r.status} ${r.headers.get('location')}`);
    return { code, verifier };
  };
  const exchange = async (client: typeof pub, code: string, verifier: string): Promise<Record<string, string>> => {
    const headers: Record<string, string> = { ...form, ...(client.secret && { authorization: basic }) };
    const r = await idp.fetch(
      new Request(`${issuer}/token`, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirectUris[0]!, ...(!client.secret && { client_id: client.id }) }),
      }),
    );
    const body = (await r.json()) as Record<string, string>;
    if (r.status !== 200) throw new Error(`code exchange failed: ${JSON.stringify(body)}`);
    return body;
  };

  const one = async (what: MintWhat): Promise<string> => {
    if (what === 'code') {
      const { code, verifier } = await authorizeCode(pub, 'openid offline_access');
      return `${code} ${verifier}`;
    }
    if (what === 'refresh') {
      const { code, verifier } = await authorizeCode(pub, 'openid offline_access');
      return (await exchange(pub, code, verifier)).refresh_token!;
    }
    const { code, verifier } = await authorizeCode(conf, 'openid');
    return (await exchange(conf, code, verifier)).access_token!;
  };
  mint = async (what, n) => {
    // 64 logins at a time: the ID token signatures of a batch run on the thread pool side by side.
    const out: string[] = [];
    while (out.length < n) out.push(...(await Promise.all(Array.from({ length: Math.min(64, n - out.length) }, () => one(what)))));
    return out;
  };
  send({
    type: 'ready',
    port: running.port,
    info: {
      tokenPath: '/token',
      introspectionPath: '/introspect',
      publicClientId: pub.id,
      redirectUri: pub.redirectUris[0]!,
      confidentialAuth: basic,
      alg,
      notes: `profile telenorid-plus, client ${pub.id} (policy Mobile: public, rotation, sliding 90 d, reuse revokes the family)`,
    },
  });
} else if (kind === 'oidc-provider') {
  const { default: Provider } = await import('oidc-provider');
  // An unbounded Map adapter: the built-in memory adapter is an LRU of 1000 entries, which would
  // evict the pre-minted tokens. A Map is also the cheapest storage there is: no advantage for the mock.
  const stores = new Map<string, Map<string, unknown>>();
  class MapAdapter {
    store: Map<string, unknown>;
    constructor(name: string) {
      this.store = stores.get(name) ?? new Map();
      stores.set(name, this.store);
    }
    async upsert(id: string, payload: Record<string, unknown>) {
      this.store.set(id, payload);
    }
    async find(id: string) {
      return this.store.get(id);
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const p = this.store.get(id) as Record<string, unknown> | undefined;
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.store.delete(id);
    }
    async revokeByGrantId() {
      return undefined;
    }
  }
  const signing = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(signing.privateKey)), kid: 'bench', alg, use: 'sig' };
  const clientId = 'bench-public';
  const redirectUri = 'https://client.example/cb';
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    adapter: MapAdapter as never,
    jwks: { keys: [jwk as never] },
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        id_token_signed_response_alg: alg,
      },
    ],
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    routes: { token: '/token' },
    features: { devInteractions: { enabled: false } },
    ttl: { RefreshToken: 14 * 24 * 3600, AccessToken: 300, IdToken: 300, Grant: 14 * 24 * 3600 },
  });
  const server = createServer({ keepAliveTimeout: 30_000 }, provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const client = await provider.Client.find(clientId);
  mint = async (what, n) => {
    if (what !== 'refresh') throw new Error('oidc-provider: only refresh tokens are minted');
    const out: string[] = [];
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < n; i++) {
      // What the authorization_code grant stores for a consented offline_access login: a grant and its refresh token.
      const grant = new provider.Grant({ accountId: 'user-1', clientId });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      const rt = new provider.RefreshToken({
        accountId: 'user-1',
        client,
        grantId,
        scope: 'openid offline_access',
        gty: 'authorization_code',
        authTime: now,
        iiat: now,
        expiresWithSession: false,
      } as never);
      out.push(await rt.save());
    }
    return out;
  };
  send({
    type: 'ready',
    port,
    info: {
      tokenPath: '/token',
      publicClientId: clientId,
      alg,
      notes: `oidc-provider ${(JSON.parse(readFileSync(new URL('../../node_modules/oidc-provider/package.json', import.meta.url), 'utf8')) as { version: string }).version}: public client (default rotateRefreshToken: rotates), ${alg} id_token, Map adapter`,
    },
  });
} else {
  process.stderr.write(`unknown server kind ${kind}\n`);
  process.exit(2);
}

// CPU profiles of a measured phase (npm run bench -- --profile DIR): started and stopped over IPC,
// so neither start-up nor minting shows in them.
let profiler: import('node:inspector/promises').Session | undefined;
async function profile(on: boolean, file?: string): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  if (on) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  } else if (profiler) {
    const { profile: p } = await profiler.post('Profiler.stop');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file!, JSON.stringify(p));
    profiler.disconnect();
    profiler = undefined;
  }
}

process.on('message', (m: { type: 'mint' | 'usage' | 'profile'; id: number; what: MintWhat; n: number; on?: boolean; file?: string }) => {
  if (m.type === 'profile') {
    void profile(m.on!, m.file).then(() => send({ type: 'usage', id: m.id, cpuMicros: 0, rss: 0 }));
    return;
  }
  if (m.type === 'usage') {
    const u = process.cpuUsage();
    send({ type: 'usage', id: m.id, cpuMicros: u.user + u.system, rss: process.memoryUsage().rss });
    return;
  }
  if (m.type !== 'mint') return;
  const t0 = performance.now();
  mint(m.what, m.n).then(
    (items) => {
      const ms = performance.now() - t0;
      // The minting's garbage is not the measured phase's to collect (the child runs with --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'minted', id: m.id, items, ms });
    },
    (e: unknown) => {
      process.stderr.write(`mint failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
