/**
 * Transport-level behaviour against a real socket on 127.0.0.1 (no msw here): the global undici
 * dispatcher's timeouts, connection resets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from './errors.ts';
import { createHttp, installDefaultDispatcher } from './http.ts';

let server: Server;
let base: string;
let previous: Dispatcher;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/reset') {
      req.socket.destroy();
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  previous = getGlobalDispatcher();
});

afterAll(async () => {
  setGlobalDispatcher(previous);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('installDefaultDispatcher', () => {
  it("gives globalThis.fetch a headers timeout that fires before the request's own", async () => {
    const agent = installDefaultDispatcher({ headersTimeoutMs: 150 });
    try {
      const http = createHttp({ requestTimeoutMs: 5000 });
      const t0 = Date.now();
      const err = await http.request('GET', `${base}/hang`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).code).toBe('HTTP_TIMEOUT');
      expect((err as HttpError).message).toBe(`GET ${base}/hang failed: UND_ERR_HEADERS_TIMEOUT`);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await http.request('GET', `${base}/`).then((r) => r.text)).toBe('ok');
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
    }
  });
});

describe('transport errors', () => {
  it('turns a connection reset into HTTP_NETWORK', async () => {
    const err = await createHttp({ requestTimeoutMs: 2000 })
      .request('GET', `${base}/reset`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('HTTP_NETWORK');
    expect((err as HttpError).message).toMatch(new RegExp(`^GET ${base}/reset failed: \\S+`));
  });

  it('turns a refused connection into HTTP_NETWORK', async () => {
    // A port that was just free: listen, note it, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await createHttp({ requestTimeoutMs: 2000 })
      .request('GET', `http://127.0.0.1:${port}/`)
      .catch((e: unknown) => e);
    expect((err as HttpError).code).toBe('HTTP_NETWORK');
    expect((err as HttpError).message).toContain('ECONNREFUSED');
  });
});
