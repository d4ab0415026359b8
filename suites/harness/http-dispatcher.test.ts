/**
 * Transport-level behaviour against a real socket on 127.0.0.1 (no msw here): the global undici
 * dispatcher's timeouts, connection resets, kept-alive connections the server closes.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from './errors.ts';
import { createHttp, installDefaultDispatcher, SAFE_IDLE_MS } from './http.ts';
import { Recorder } from './record.ts';

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

/**
 * A minimal HTTP/1.1 server that keeps connections alive without a Keep-Alive hint (as gunicorn does)
 * and answers every request with "ok". `drop(idleMs, n)` decides whether a request is lost instead:
 * the connection is reset as the request arrives, what a server closing an idle socket does to a
 * request written at that moment. Deterministic, unlike waiting for the two clocks to meet.
 */
interface RawServer {
  base: string;
  /** Requests the server read, by method. */
  received: string[];
  close(): Promise<void>;
}

async function rawServer(drop: (idleMs: number, nth: number) => boolean): Promise<RawServer> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    let lastResponse = Date.now();
    let nth = 0;
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/^content-length:\s*(\d+)/im.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const method = buffer.slice(0, buffer.indexOf(' '));
        buffer = buffer.slice(end + 4 + length);
        received.push(method);
        if (drop(Date.now() - lastResponse, ++nth)) {
          socket.resetAndDestroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
        lastResponse = Date.now();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** 2.0 to 2.2 s: just past a 2 s server keep-alive. */
const gap = (i: number) => 2000 + ((i * 70) % 200);

/** `count` requests spaced by `gap`, each one's outcome (the text or the HttpError code and message). */
async function spaced(base: string, method: 'GET' | 'POST', count: number): Promise<string[]> {
  const http = createHttp({ requestTimeoutMs: 5000 });
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await pause(gap(i));
    out.push(
      await http.request(method, `${base}/token`, method === 'POST' ? { form: { grant_type: 'refresh_token', refresh_token: `rt-${i}` } } : {}).then(
        (r) => r.text,
        (e: HttpError) => `${e.code}: ${e.message}`,
      ),
    );
  }
  return out;
}

describe('kept-alive connections the server closes while idle', () => {
  it(`reuses an idle connection for at most ${SAFE_IDLE_MS} ms: refreshes 2.0-2.2 s apart against a 2 s keep-alive all succeed`, async () => {
    // A request arriving on a connection idle for 1.9 s or more meets the server's close (gunicorn: 2 s).
    const gunicorn = await rawServer((idle, nth) => nth > 1 && idle >= 1900);
    // node:http with a 2 s keep-alive, which says so (Keep-Alive: timeout=2) and closes idle sockets itself.
    const node = createServer((_req, res) => res.end('ok'));
    node.keepAliveTimeout = 2000;
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    const nodeBase = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
    const agent = installDefaultDispatcher();
    try {
      const [raw, viaNode] = await Promise.all([spaced(gunicorn.base, 'POST', 4), spaced(nodeBase, 'POST', 4)]);
      expect(raw).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(viaNode).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(gunicorn.received).toEqual(['POST', 'POST', 'POST', 'POST']); // each sent once
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
      await gunicorn.close();
      node.closeAllConnections();
      await new Promise((resolve) => node.close(resolve));
    }
  }, 20_000);

  it("the same server breaks a dispatcher that reuses an idle connection after 2 s (undici's default of 4 s, the settings before)", async () => {
    const gunicorn = await rawServer((idle, nth) => nth > 1 && idle >= 1900);
    const agent = installDefaultDispatcher({ maxIdleMs: 4000 });
    try {
      const [first, second] = await spaced(gunicorn.base, 'POST', 2);
      expect(first).toBe('ok');
      // Our side's failure, with its cause; the POST is not sent again (it may have been received).
      expect(second).toBe(`HTTP_NETWORK: POST ${gunicorn.base}/token failed: ECONNRESET`);
      expect(gunicorn.received).toEqual(['POST', 'POST']);
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
      await gunicorn.close();
    }
  }, 20_000);
});

describe('sending again', () => {
  // The second request on a connection is lost, however soon it comes.
  const secondLost = (_idle: number, nth: number) => nth === 2;

  it('sends a GET again, once, on a new connection when the reused one was reset, and records the lost attempt', async () => {
    const server = await rawServer(secondLost);
    const agent = installDefaultDispatcher();
    try {
      const recorder = new Recorder();
      const http = createHttp({ requestTimeoutMs: 5000, recorder });
      expect((await http.request('GET', `${server.base}/a`)).text).toBe('ok');
      await pause(50); // the connection is idle again, and reused
      expect((await http.request('GET', `${server.base}/b`)).text).toBe('ok');
      expect(server.received).toEqual(['GET', 'GET', 'GET']);
      expect(recorder.exchanges.map((e) => e.error?.message ?? e.status)).toEqual([200, `GET ${server.base}/b failed: ECONNRESET; sent again`, 200]);
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
      await server.close();
    }
  });

  it('never sends a POST again once it may have reached the server: HTTP_NETWORK with the cause', async () => {
    const server = await rawServer(secondLost);
    const agent = installDefaultDispatcher();
    try {
      const http = createHttp({ requestTimeoutMs: 5000 });
      expect((await http.request('POST', `${server.base}/token`, { form: { a: '1' } })).text).toBe('ok');
      await pause(50);
      const err = await http.request('POST', `${server.base}/token`, { form: { a: '2' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).code).toBe('HTTP_NETWORK');
      expect(((err as HttpError).cause as { cause?: { code?: string } }).cause?.code).toBe('ECONNRESET');
      expect(server.received).toEqual(['POST', 'POST']);
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
      await server.close();
    }
  });
});
