/**
 * The round-robin proxy of the replica tests (round-robin-proxy.ts): requests go to the upstreams in
 * turn with their Host header, method and body unchanged, every Set-Cookie comes back, hop-by-hop
 * headers stay behind, and an upstream that cannot be reached is a JSON 502, logged.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';

/** An upstream that answers what it received, as JSON, with two cookies. */
async function echo(name: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.setHeader('set-cookie', [`a=${name}; Path=/`, `b=${name}; Path=/`]);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, method: req.method, url: req.url, host: req.headers.host, body, connection: req.headers.connection ?? null, te: req.headers.te ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('round-robin proxy', () => {
  let upstreams: { server: Server; origin: string }[];
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    upstreams = await Promise.all(['one', 'two', 'three'].map(echo));
    proxy = await startRoundRobinProxy(upstreams.map((u) => u.origin));
  });
  afterAll(async () => {
    await proxy.close();
    for (const u of upstreams) u.server.closeAllConnections();
    await Promise.all(upstreams.map((u) => new Promise((r) => u.server.close(r))));
  });

  test('each request to the next upstream, as sent: Host, method, path and body; both cookies back', async () => {
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${proxy.url}/token?x=${i}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', te: 'trailers' }, body: `n=${i}` });
      expect(r.headers.getSetCookie()).toHaveLength(2);
      seen.push(await r.json());
    }
    expect(seen.map((s) => s.name)).toEqual(['one', 'two', 'three', 'one', 'two', 'three']);
    for (const [i, s] of seen.entries()) {
      expect(s).toMatchObject({ method: 'POST', url: `/token?x=${i}`, host: `127.0.0.1:${proxy.port}`, body: `n=${i}` });
      // The upstream connection is the proxy's own (keep-alive), not the client's TE.
      expect(s.te).toBeNull();
    }
    expect(proxy.log.slice(-6).map((e) => [e.upstream, e.path, e.status])).toEqual([0, 1, 2, 0, 1, 2].map((u) => [u, '/token', 200]));
  });

  test('an upstream that cannot be reached: a JSON 502, logged, and the next request goes on to the next one', async () => {
    const dead = await echo('dead');
    await new Promise((r) => dead.server.close(r));
    proxy.setUpstreams([dead.origin, upstreams[0]!.origin]);
    const first = await fetch(`${proxy.url}/jwks`);
    expect(first.status).toBe(502);
    expect(await first.json()).toMatchObject({ error: 'bad_gateway' });
    const second = await fetch(`${proxy.url}/jwks`);
    expect((await second.json()).name).toBe('one');
    expect(proxy.log.slice(-2).map((e) => e.status)).toEqual([502, 200]);
  });
});
