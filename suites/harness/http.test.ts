import { delay, http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpError } from './errors.ts';
import { createHttp, mayRetry } from './http.ts';
import { Recorder } from './record.ts';

const IDP = 'https://idp.test';

/** A body that sends one byte every `everyMs`, `count` times. */
function drip(everyMs: number, count: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      timer = setInterval(() => {
        controller.enqueue(new TextEncoder().encode('x'));
        if (++sent >= count) {
          clearInterval(timer);
          controller.close();
        }
      }, everyMs);
    },
    cancel() {
      clearInterval(timer);
    },
  });
}

const server = setupServer(
  mock.get(`${IDP}/json`, () => HttpResponse.json({ hello: 'world' }, { headers: { 'x-test': '1' } })),
  mock.post(`${IDP}/form`, async ({ request }) =>
    HttpResponse.json({ contentType: request.headers.get('content-type'), body: await request.text() }),
  ),
  mock.post(`${IDP}/json-body`, async ({ request }) => HttpResponse.json({ got: await request.json() })),
  mock.get(`${IDP}/invalid-json`, () => new HttpResponse('{"access_token": "abc",', { headers: { 'content-type': 'application/json' } })),
  mock.get(`${IDP}/html`, () => HttpResponse.html('<html><body><h1>Sign in</h1></body></html>')),
  mock.get(`${IDP}/redirect`, () => new HttpResponse(null, { status: 302, headers: { location: 'no.example.mobile:/cb?code=abc' } })),
  mock.get(`${IDP}/hang`, async () => {
    await delay('infinite');
    return HttpResponse.text('never');
  }),
  mock.get(`${IDP}/drip`, () => new HttpResponse(drip(40, 1000), { headers: { 'content-type': 'text/plain' } })),
  mock.get(`${IDP}/big-declared`, () => new HttpResponse('x'.repeat(2048), { headers: { 'content-length': '2048' } })),
  mock.get(`${IDP}/big-streamed`, () => {
    const chunk = new Uint8Array(256).fill(120);
    let n = 0;
    return new HttpResponse(
      new ReadableStream({
        pull(c) {
          if (n++ < 100) c.enqueue(chunk);
          else c.close();
        },
      }),
    );
  }),
  mock.post(`${IDP}/network-error`, () => HttpResponse.error()),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.unstubAllGlobals();
});
afterAll(() => server.close());

async function httpError(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return e as HttpError;
  }
  throw new Error('expected an HttpError');
}

describe('http.request', () => {
  it('returns status, headers, text and parsed JSON, and records the exchange', async () => {
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 1000, recorder });
    const r = await http.request('GET', `${IDP}/json`, { headers: { accept: 'application/json' } });
    expect(r.response.status).toBe(200);
    expect(r.response.headers.get('x-test')).toBe('1');
    expect(r.json).toEqual({ hello: 'world' });
    expect(r.text).toBe('{"hello":"world"}');
    expect(recorder.exchanges).toHaveLength(1);
    const ex = recorder.exchanges[0]!;
    expect(ex).toMatchObject({ method: 'GET', url: `${IDP}/json`, status: 200, responseBody: '{"hello":"world"}' });
    expect(ex.requestHeaders).toContainEqual(['accept', 'application/json']);
    expect(ex.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.exchange).toBe(ex);
  });

  it('sends a form urlencoded and JSON with their content types', async () => {
    const http = createHttp({ requestTimeoutMs: 1000 });
    const form = await http.request('POST', `${IDP}/form`, { form: { a: 'x y', b: 'ä&=' } });
    expect(form.json).toEqual({ contentType: 'application/x-www-form-urlencoded', body: 'a=x+y&b=%C3%A4%26%3D' });
    const json = await http.request('POST', `${IDP}/json-body`, { json: { n: 1 } });
    expect(json.json).toEqual({ got: { n: 1 } });
    expect(json.exchange.requestHeaders).toContainEqual(['content-type', 'application/json']);
  });

  it('leaves json undefined for invalid JSON and for HTML, keeping the text', async () => {
    const http = createHttp({ requestTimeoutMs: 1000 });
    const bad = await http.request('GET', `${IDP}/invalid-json`);
    expect(bad.json).toBeUndefined();
    expect(bad.text).toBe('{"access_token": "abc",');
    const html = await http.request('GET', `${IDP}/html`);
    expect(html.json).toBeUndefined();
    expect(html.text).toContain('<h1>Sign in</h1>');
  });

  it('does not follow redirects, even to a private-use scheme', async () => {
    const http = createHttp({ requestTimeoutMs: 1000 });
    const r = await http.request('GET', `${IDP}/redirect`);
    expect(r.response.status).toBe(302);
    expect(r.response.headers.get('location')).toBe('no.example.mobile:/cb?code=abc');
  });

  it('times out a hanging response with HTTP_TIMEOUT naming method and redacted URL, and records it', async () => {
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 200, recorder });
    const t0 = Date.now();
    const err = await httpError(http.request('GET', `${IDP}/hang?code=SECRET-CODE-1`));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.code).toBe('HTTP_TIMEOUT');
    expect(err.message).toMatch(/^GET https:\/\/idp\.test\/hang\?code=\[redacted:code#[0-9a-f]{6}\] timed out after 200 ms$/);
    expect(recorder.exchanges[0]!.error?.code).toBe('HTTP_TIMEOUT');
    expect(recorder.exchanges[0]!.status).toBeUndefined();
  });

  it('bounds a slow-drip body by the same timeout', async () => {
    const http = createHttp({ requestTimeoutMs: 200 });
    const t0 = Date.now();
    const err = await httpError(http.request('GET', `${IDP}/drip`));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.code).toBe('HTTP_TIMEOUT');
    expect(err.message).toBe(`GET ${IDP}/drip timed out after 200 ms while reading the response body`);
  });

  it('caps the body size, declared or streamed', async () => {
    const recorder = new Recorder();
    const http = createHttp({ requestTimeoutMs: 1000, maxBodyBytes: 1024, recorder });
    const declared = await httpError(http.request('GET', `${IDP}/big-declared`));
    expect(declared.code).toBe('HTTP_BODY_TOO_LARGE');
    expect(declared.message).toBe(`GET ${IDP}/big-declared: response body exceeds 1024 bytes`);
    const streamed = await httpError(http.request('GET', `${IDP}/big-streamed`));
    expect(streamed.code).toBe('HTTP_BODY_TOO_LARGE');
    expect(recorder.exchanges.map((e) => [e.status, e.error?.code])).toEqual([
      [200, 'HTTP_BODY_TOO_LARGE'],
      [200, 'HTTP_BODY_TOO_LARGE'],
    ]);
  });

  it('has a 1 MiB default cap', async () => {
    server.use(mock.get(`${IDP}/mib`, () => new HttpResponse(new Uint8Array(1024 * 1024 + 1))));
    const err = await httpError(createHttp({ requestTimeoutMs: 2000 }).request('GET', `${IDP}/mib`));
    expect(err.message).toContain('exceeds 1048576 bytes');
  });

  it('turns a network error into HTTP_NETWORK', async () => {
    const err = await httpError(createHttp({ requestTimeoutMs: 1000 }).request('POST', `${IDP}/network-error`, { form: { a: '1' } }));
    expect(err.code).toBe('HTTP_NETWORK');
    expect(err.message).toMatch(/^POST https:\/\/idp\.test\/network-error failed: /);
  });

  it("rethrows the caller's abort reason as is", async () => {
    const controller = new AbortController();
    const reason = new Error('run deadline');
    setTimeout(() => controller.abort(reason), 20);
    await expect(createHttp({ requestTimeoutMs: 5000 }).request('GET', `${IDP}/hang`, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('uses an injected fetch', async () => {
    const fetch = vi.fn(async () => new Response('injected', { status: 201 }));
    const r = await createHttp({ requestTimeoutMs: 1000, fetch }).request('GET', 'https://elsewhere.test/');
    expect(r.response.status).toBe(201);
    expect(r.text).toBe('injected');
    expect(fetch).toHaveBeenCalledOnce();
  });

  it('looks up globalThis.fetch at call time, not at creation', async () => {
    const http = createHttp({ requestTimeoutMs: 1000 });
    const fetch = vi.fn(async () => new Response('late'));
    vi.stubGlobal('fetch', fetch);
    expect((await http.request('GET', 'https://elsewhere.test/')).text).toBe('late');
    expect(fetch).toHaveBeenCalledOnce();
  });

  it('withRecorder records into another recorder', async () => {
    const a = new Recorder();
    const b = new Recorder();
    const http = createHttp({ requestTimeoutMs: 1000, recorder: a });
    await http.withRecorder(b).request('GET', `${IDP}/json`);
    expect(a.exchanges).toHaveLength(0);
    expect(b.exchanges).toHaveLength(1);
  });

  it('rejects a malformed URL as a caller error (TypeError), not an HttpError', async () => {
    await expect(createHttp({ requestTimeoutMs: 1000 }).request('GET', 'not a url')).rejects.toBeInstanceOf(TypeError);
  });
});

describe('sending again', () => {
  /** What undici's fetch rejects with: a TypeError whose cause carries the socket error code. */
  const failed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

  it('only what cannot have had an effect: no connection made, or a safe method whose connection was lost', () => {
    expect(mayRetry('POST', failed('ECONNREFUSED'))).toBe(true);
    expect(mayRetry('GET', failed('ECONNRESET'))).toBe(true);
    expect(mayRetry('GET', failed('UND_ERR_SOCKET'))).toBe(true);
    expect(mayRetry('POST', failed('ECONNRESET'))).toBe(false);
    expect(mayRetry('POST', failed('UND_ERR_SOCKET'))).toBe(false);
    expect(mayRetry('PUT', failed('EPIPE'))).toBe(false);
    expect(mayRetry('GET', failed('UND_ERR_HEADERS_TIMEOUT'))).toBe(false);
    expect(mayRetry('GET', new TypeError('Failed to fetch'))).toBe(false);
  });

  it('sends a refused POST again, once', async () => {
    const fetch = vi.fn().mockRejectedValueOnce(failed('ECONNREFUSED')).mockResolvedValueOnce(new Response('ok'));
    const recorder = new Recorder();
    const r = await createHttp({ requestTimeoutMs: 1000, fetch, recorder }).request('POST', `${IDP}/token`, { form: { a: '1' } });
    expect(r.text).toBe('ok');
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(recorder.exchanges.map((e) => e.error?.message ?? e.status)).toEqual([`POST ${IDP}/token failed: ECONNREFUSED; sent again`, 200]);
  });

  it('gives up after the second attempt, and never sends again a POST whose connection was lost', async () => {
    const refused = vi.fn(async () => Promise.reject(failed('ECONNREFUSED')));
    expect((await httpError(createHttp({ requestTimeoutMs: 1000, fetch: refused }).request('GET', `${IDP}/a`))).message).toBe(`GET ${IDP}/a failed: ECONNREFUSED`);
    expect(refused).toHaveBeenCalledTimes(2);
    const reset = vi.fn(async () => Promise.reject(failed('ECONNRESET')));
    const err = await httpError(createHttp({ requestTimeoutMs: 1000, fetch: reset }).request('POST', `${IDP}/token`, { form: { refresh_token: 'rt' } }));
    expect(err.code).toBe('HTTP_NETWORK');
    expect(reset).toHaveBeenCalledOnce();
  });
});
