/**
 * A small round-robin HTTP proxy on 127.0.0.1 (a free port), for tests that put several mock
 * replicas behind one address, as a load balancer would. Each request goes to the next upstream in
 * turn, over a keep-alive connection of that upstream, with its Host header unchanged (the replicas
 * answer for the issuer, which is the proxy's address). It records which upstream served what, so a
 * test can show that every replica took part; an upstream that cannot be reached gets a JSON 502.
 */
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they belong to one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface ProxiedRequest {
  /** Index of the upstream that served it. */
  upstream: number;
  method: string;
  /** Path without the query (the query may hold secrets). */
  path: string;
  status: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Origins (http://127.0.0.1:PORT) the requests go to, in turn; may be set after the proxy started. */
  setUpstreams(origins: readonly string[]): void;
  /** Every request answered so far, in order. */
  readonly log: readonly ProxiedRequest[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(origins: readonly string[] = []): Promise<RoundRobinProxy> {
  let upstreams: { url: URL; agent: Agent }[] = [];
  const setUpstreams = (list: readonly string[]) => {
    for (const u of upstreams) u.agent.destroy();
    upstreams = list.map((o) => ({ url: new URL(o), agent: new Agent({ keepAlive: true, maxSockets: 64 }) }));
  };
  setUpstreams(origins);
  let turn = 0;
  const log: ProxiedRequest[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (upstreams.length === 0) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'proxy: no upstreams' }));
      return;
    }
    const index = turn++ % upstreams.length;
    const { url, agent } = upstreams[index]!;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstream = request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      const raw: string[] = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) raw.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
      }
      log.push({ upstream: index, method: req.method ?? 'GET', path, status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, raw);
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      log.push({ upstream: index, method: req.method ?? 'GET', path, status: 502 });
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad_gateway', error_description: `proxy: upstream ${index}: ${e.message}` }));
    });
    req.pipe(upstream);
  };

  const server = createServer({ keepAliveTimeout: 5_000 }, forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setUpstreams,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const u of upstreams) u.agent.destroy();
      }),
  };
}
