/**
 * What only a real server shows: which Host it answers for (DNS rebinding), and that its time
 * limits hold within a few seconds. Small limits keep every case to a few seconds.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { serveMockIdp, type RunningMockIdp, type ServerLimits } from '../adapters/node-http.ts';
import { loadProfile } from '../profile/index.ts';
import { createMockIdp } from '../idp.ts';

const profile = await loadProfile('telenorid-plus');
const open: RunningMockIdp[] = [];
afterEach(() => Promise.all(open.splice(0).map((r) => r.close())));

async function serve(extra: { allowedHosts?: string[]; limits?: ServerLimits } = {}): Promise<RunningMockIdp> {
  const { limits, ...options } = extra;
  const running = await serveMockIdp({ profile, testMode: true, ...options }, { host: '127.0.0.1', port: 0, ...(limits && { limits }) });
  open.push(running);
  return running;
}

/** GET with a chosen Host header (fetch cannot set one). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends `data` and then nothing; resolves with how long until the server answered or closed, and what it sent. */
function stall(port: number, data: string, giveUpMs: number): Promise<{ ms: number; reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(data));
    let reply = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ms: performance.now() - t0, reply, closed });
    };
    const timer = setTimeout(() => done(false), giveUpMs);
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

describe('Host header (DNS rebinding)', () => {
  it('answers only for the issuer host and hosts the operator allowed; any other gets 421', async () => {
    const r = await serve({ allowedHosts: ['mock.localhost'] });
    const own = await getWithHost(r.port, '/.well-known/openid-configuration', `127.0.0.1:${r.port}`);
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body).issuer).toBe(r.url);
    for (const host of ['rebind.attacker.example', `rebind.attacker.example:${r.port}`, `localhost:${r.port}`, '127.0.0.1', `127.0.0.1:${r.port + 1}`]) {
      const foreign = await getWithHost(r.port, '/.well-known/openid-configuration', host);
      expect({ host, status: foreign.status }).toEqual({ host, status: 421 });
      expect(JSON.parse(foreign.body)).toMatchObject({ error: 'invalid_request' });
    }
    for (const path of ['/authorize?client_id=public-web', '/__control/clock', '/token']) {
      expect((await getWithHost(r.port, path, 'rebind.attacker.example')).status).toBe(421);
    }
    for (const host of ['mock.localhost', `mock.localhost:${r.port}`, `MOCK.localhost:${r.port}`]) {
      expect((await getWithHost(r.port, '/.well-known/openid-configuration', host)).status).toBe(200);
    }
  });

  it('the Fetch-API core refuses another host too (msw and in-process hosts use the issuer URL)', async () => {
    const idp = await createMockIdp({ profile, issuer: 'https://mock-idp.test' });
    expect((await idp.fetch(new Request('https://mock-idp.test/jwks'))).status).toBe(200);
    const other = await idp.fetch(new Request('https://evil.example/jwks'));
    expect(other.status).toBe(421);
    expect(await other.json()).toMatchObject({ error: 'invalid_request' });
  });
});

/** Sends raw bytes on a fresh connection (Connection: close) and resolves with the status and body sent back. */
function raw(port: number, head: string, body: Buffer | string = ''): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head);
      socket.end(body);
    });
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const at = reply.indexOf('\r\n\r\n');
      resolve({ status: Number(reply.slice(9, 12)), headers: reply.slice(0, at), body: reply.slice(at + 4) });
    });
  });
}

describe('requests read straight from node:http', () => {
  it('two Host headers are refused with an RFC-shaped 400 (RFC 9112 §3.2), not answered for the first', async () => {
    const r = await serve();
    const host = `127.0.0.1:${r.port}`;
    const one = await raw(r.port, `GET /jwks HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(one.status).toBe(200);
    const two = await raw(r.port, `GET /jwks HTTP/1.1\r\nHost: ${host}\r\nHost: rebind.attacker.example\r\nConnection: close\r\n\r\n`);
    expect(two.status).toBe(400);
    expect(JSON.parse(two.body)).toMatchObject({ error: 'invalid_request' });
    const path = await raw(r.port, `GET /clock HTTP/1.1\r\nHost: ${host}/__control\r\nConnection: close\r\n\r\n`);
    expect(path.status).toBe(400);
  });

  it('an absolute-form target is answered for its own host (RFC 9112 §3.2.2)', async () => {
    const r = await serve();
    const own = await raw(r.port, `GET ${r.url}/jwks HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
    expect(own.status).toBe(200);
    const foreign = await raw(r.port, `GET http://rebind.attacker.example/jwks HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
    expect(foreign.status).toBe(421);
  });

  it('a body over 64 KiB is refused as invalid_request, declared or chunked', async () => {
    const r = await serve();
    const form = 'content-type: application/x-www-form-urlencoded\r\nConnection: close';
    const big = Buffer.alloc(70 * 1024, 'a');
    const declared = await raw(r.port, `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\n${form}\r\ncontent-length: ${big.length}\r\n\r\n`, big);
    expect(declared.status).toBe(400);
    expect(JSON.parse(declared.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/exceeds/) });
    const chunked = await raw(r.port, `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\n${form}\r\ntransfer-encoding: chunked\r\n\r\n`, `${big.length.toString(16)}\r\n${big.toString()}\r\n0\r\n\r\n`);
    expect(chunked.status).toBe(400);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/exceeds/) });
  });

  it('HEAD gets the headers and length of GET without a body', async () => {
    const r = await serve();
    const get = await raw(r.port, `GET /jwks HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
    const head = await raw(r.port, `HEAD /jwks HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers).toMatch(new RegExp(`content-length: ${Buffer.byteLength(get.body)}\r?$`, 'im'));
  });
});

describe('whatever well-framed request reaches the server, the answer is RFC-shaped', () => {
  const NQSCHAR = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
  const name = fc.constantFrom('authorization', 'content-type', 'cookie', 'origin', 'sec-fetch-site', 'host', 'x-other', 'Authorization', 'CONTENT-TYPE');
  const value = fc.oneof(
    fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'Basic Y29uZmlkZW50aWFsOng=', 'Bearer abc', 'same-origin', 'cross-site', 'mock_idp_sso=x'),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019 =;:,./_-%'.split('')), maxLength: 40 }),
  );
  const body = fc.oneof(
    fc.constant(''),
    fc.constantFrom('grant_type=refresh_token&refresh_token=x&client_id=mobile', 'grant_type=client_credentials', '{"seconds":5}', 'token=%zz', 'a=1&a=2'),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  );

  it('over 150 raw requests: never a 5xx, every error { error, error_description } JSON, the server stays up', async () => {
    const r = await serve({ allowedHosts: ['mock.localhost'] });
    const own = `127.0.0.1:${r.port}`;
    const hostLines = fc.constantFrom([own], ['mock.localhost'], [own, own], [own, 'evil.example'], [`${own}/x`], ['user@evil.example'], ['[::1]'], []);
    const target = fc.constantFrom('/token', '/revoke', '/introspect', '/jwks', '/authorize?client_id=public-web', '/end-session', '/__control/clock', '/nope', '//token', `http://${own}/jwks`, 'http://evil.example/jwks');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'),
        target,
        hostLines,
        fc.array(fc.tuple(name, value), { maxLength: 6 }),
        body,
        fc.boolean(),
        async (method, path, hosts, headers, text, chunked) => {
          const payload = Buffer.from(text, 'latin1');
          const lines = [
            `${method} ${path} HTTP/1.1`,
            ...hosts.map((h) => `Host: ${h}`),
            ...headers.filter(([n]) => n.toLowerCase() !== 'host').map(([n, v]) => `${n}: ${v}`),
            chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${payload.length}`,
            'Connection: close',
          ];
          const last = Buffer.from('0\r\n\r\n');
          const framed = !chunked ? payload : payload.length === 0 ? last : Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n'), last]);
          const reply = await raw(r.port, `${lines.join('\r\n')}\r\n\r\n`, framed);
          // Node itself answers a request without Host (400, no body); everything else is the mock's.
          if (hosts.length === 0) {
            expect(reply.status).toBe(400);
            return;
          }
          expect(reply.status, reply.headers).toBeLessThan(500);
          if (reply.status >= 400 && method !== 'HEAD') {
            expect(reply.headers).toMatch(/^content-type: application\/json/im);
            const parsed = JSON.parse(reply.body) as Record<string, unknown>;
            expect(Object.keys(parsed).every((k) => k === 'error' || k === 'error_description')).toBe(true);
            expect(typeof parsed.error === 'string' && NQSCHAR.test(parsed.error)).toBe(true);
            expect(typeof parsed.error_description === 'string' && NQSCHAR.test(parsed.error_description)).toBe(true);
          }
        },
      ),
      { numRuns: 150, seed: 20261201 },
    );
    const after = await raw(r.port, `GET /jwks HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect(after.status).toBe(200);
  }, 60_000);
});

describe('time limits hold within a few seconds', () => {
  const limits: ServerLimits = { requestTimeoutMs: 1500, headersTimeoutMs: 1000 };

  it('a request whose body never arrives is cut at requestTimeout (+ the check interval)', async () => {
    const r = await serve({ limits });
    const s = await stall(r.port, `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant_type=`, 8000);
    expect(s.closed, `still open after ${Math.round(s.ms)} ms`).toBe(true);
    expect(s.ms).toBeGreaterThanOrEqual(1400);
    expect(s.ms).toBeLessThan(1500 + 2500);
    expect(s.reply).toMatch(/^HTTP\/1\.1 408/);
  }, 15_000);

  it('headers that never end are cut at headersTimeout (+ the check interval)', async () => {
    const r = await serve({ limits });
    const s = await stall(r.port, `GET /jwks HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nx-slow: a`, 8000);
    expect(s.closed, `still open after ${Math.round(s.ms)} ms`).toBe(true);
    expect(s.ms).toBeGreaterThanOrEqual(900);
    expect(s.ms).toBeLessThan(1000 + 2500);
  }, 15_000);

  it('the defaults are sane: headersTimeout <= requestTimeout, both set', async () => {
    const r = await serve();
    expect(r.limits.headersTimeoutMs).toBeLessThanOrEqual(r.limits.requestTimeoutMs);
    expect(r.limits.requestTimeoutMs).toBe(30_000);
  });
});
