/**
 * The one HTTP client of the harness. Every request:
 * - goes through an injectable fetch, looked up at call time (default: globalThis.fetch, which msw
 *   can intercept; never undici's own fetch, which msw cannot);
 * - never follows redirects by itself, so every hop is seen and recorded;
 * - is bounded: headers and body together within `requestTimeoutMs`, the body to `maxBodyBytes`;
 * - is recorded, redacted, in the recorder, if one is given;
 * - fails only with an HttpError (HTTP_TIMEOUT, HTTP_NETWORK, HTTP_BODY_TOO_LARGE) naming method and URL,
 *   or with the caller's own abort reason. Any HTTP status is a result, not an error: judging is the caller's job;
 * - is sent again, once, only when the first attempt cannot have had an effect (see `mayRetry`).
 */
import { Agent, setGlobalDispatcher } from 'undici';
import { HarnessError, HttpError, type HttpErrorCode } from './errors.ts';
import { Recorder, redactExchange, secretsShared, type Exchange, type HeaderList } from './record.ts';
import { redact } from './redact.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpOptions {
  /** Default: globalThis.fetch at the time of each request. */
  fetch?: typeof globalThis.fetch;
  /** Bound on one request, from sending to the last byte of the body. */
  requestTimeoutMs: number;
  recorder?: Recorder;
  maxBodyBytes?: number;
}

export interface RequestOptions {
  headers?: HeadersInit;
  /** Sent as application/x-www-form-urlencoded (a URLSearchParams keeps repeated names). */
  form?: Record<string, string> | URLSearchParams;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is; set content-type in `headers`. */
  body?: string;
  /** The only mode: redirects are returned, not followed. */
  redirect?: 'manual';
  /** Aborts the request early (e.g. the run's deadline); the abort reason is rethrown as is. */
  signal?: AbortSignal;
}

/** Status line and headers; the body was read already (see HttpResult.text). */
export interface ResponseHead {
  status: number;
  statusText: string;
  headers: Headers;
  /** The requested URL (redirects are not followed). */
  url: string;
}

export interface HttpResult {
  response: ResponseHead;
  /** The body, decoded as UTF-8. */
  text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON (whatever the content-type says). */
  json: unknown;
  /** What was recorded (redacted). */
  exchange: Exchange;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface Http {
  readonly requestTimeoutMs: number;
  readonly recorder: Recorder | undefined;
  request(method: HttpMethod, url: string | URL, options?: RequestOptions): Promise<HttpResult>;
  /** The same client recording into another recorder (one per check). */
  withRecorder(recorder: Recorder): Http;
}

export function createHttp(options: HttpOptions): Http {
  const { requestTimeoutMs, recorder } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(requestTimeoutMs > 0)) throw new TypeError('createHttp: requestTimeoutMs must be a positive number');
  return {
    requestTimeoutMs,
    recorder,
    withRecorder: (r) => createHttp({ ...options, recorder: r }),
    request: (method, url, req = {}) =>
      send({ fetch: options.fetch ?? globalThis.fetch, requestTimeoutMs, maxBodyBytes, recorder }, method, String(url), req),
  };
}

interface SendContext {
  fetch: typeof globalThis.fetch;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  recorder: Recorder | undefined;
}

async function send(ctx: SendContext, method: HttpMethod, url: string, req: RequestOptions): Promise<HttpResult> {
  new URL(url); // a malformed URL is the caller's bug: let its TypeError through
  const headers = new Headers(req.headers);
  const body = encodeBody(req, headers);
  const timeout = AbortSignal.timeout(ctx.requestTimeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const startedAt = new Date();
  const t0 = performance.now();
  const base: Exchange = {
    method,
    url,
    requestHeaders: [...headers] as HeaderList,
    ...(body !== undefined && { requestBody: body }),
    startedAt: startedAt.toISOString(),
    durationMs: 0,
  };
  await shareSecretsFirst(ctx, method, url, signal, req.signal);
  let response: Response | undefined;
  let retried = false;
  try {
    for (;;) {
      try {
        // Raced against the signal as well: not every fetch (e.g. a mocked one) honours it.
        response = await untilAborted(ctx.fetch(url, { method, headers, body, redirect: 'manual', signal }), signal);
        break;
      } catch (e) {
        if (retried || signal.aborted || !mayRetry(method, e)) throw e;
        retried = true;
        // The failed attempt stays in the evidence.
        const err = toHttpError(e, false, false, ctx, method, url);
        store(ctx, { ...base, durationMs: Math.round(performance.now() - t0), error: { code: err.code, message: `${err.message}; sent again` } });
      }
    }
    const bytes = await readBody(response, signal, ctx.maxBodyBytes, () => describe(ctx, method, url));
    const text = new TextDecoder('utf-8').decode(bytes);
    const exchange = store(ctx, {
      ...base,
      ...responseParts(response),
      responseBody: text,
      durationMs: Math.round(performance.now() - t0),
    });
    return {
      response: { status: response.status, statusText: response.statusText, headers: response.headers, url },
      text,
      json: parseJson(text),
      exchange,
    };
  } catch (e) {
    if (req.signal?.aborted && !timeout.aborted) throw req.signal.reason;
    const err = toHttpError(e, timeout.aborted, response !== undefined, ctx, method, url);
    store(ctx, {
      ...base,
      ...(response && responseParts(response)),
      durationMs: Math.round(performance.now() - t0),
      error: { code: err.code, message: err.message },
    });
    throw err;
  }
}

function encodeBody(req: RequestOptions, headers: Headers): string | undefined {
  if (req.form !== undefined) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    return new URLSearchParams(req.form).toString();
  }
  if (req.json !== undefined) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify(req.json);
  }
  return req.body;
}

function responseParts(response: Response): Pick<Exchange, 'status' | 'statusText' | 'responseHeaders'> {
  return { status: response.status, statusText: response.statusText, responseHeaders: [...response.headers] as HeaderList };
}

function store(ctx: SendContext, ex: Exchange): Exchange {
  return ctx.recorder ? ctx.recorder.record(ex) : redactExchange(ex).exchange;
}

/** `METHOD url`, the URL redacted (it may carry a code or an id_token_hint). */
function describe(ctx: SendContext, method: string, url: string): string {
  return `${method} ${ctx.recorder ? ctx.recorder.redact(url) : redact(url)}`;
}

/** Failures that prove nothing was sent: no connection was made. */
const NOTHING_SENT = new Set(['ECONNREFUSED']);
/** The connection died before any response: the request may or may not have reached the server. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
/** Safe methods (RFC 9110 §9.2.1); a GET here may issue a code or end a session, but doing so twice does no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request whose fetch failed before any response may be sent again (once). RFC 9112 §9.3.1:
 * never automatically retry a non-idempotent request unless it is known that it was never applied. So a
 * POST (a refresh consumes its token) is sent again only when no connection was made; a safe method also
 * after the connection was lost (RFC 9110 §9.2.2), e.g. a kept-alive socket the server closed as it was reused.
 */
export function mayRetry(method: string, error: unknown): boolean {
  const code = causeCode(error);
  if (code === undefined) return false;
  return NOTHING_SENT.has(code) || (CONNECTION_LOST.has(code) && SAFE_METHODS.has(method));
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

const TIMEOUT_CAUSES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function toHttpError(e: unknown, timedOut: boolean, gotHeaders: boolean, ctx: SendContext, method: string, url: string): HttpError {
  if (e instanceof HttpError) return e;
  const what = describe(ctx, method, url);
  const during = gotHeaders ? ' while reading the response body' : '';
  if (timedOut) {
    return new HttpError('HTTP_TIMEOUT', `${what} timed out after ${ctx.requestTimeoutMs} ms${during}`, { cause: e });
  }
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const kind: HttpErrorCode = code && TIMEOUT_CAUSES.has(code) ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK';
  const reason = code ?? (typeof cause?.message === 'string' ? cause.message : e instanceof Error ? e.message : String(e));
  return new HttpError(kind, `${what} failed${during}: ${reason}`, { cause: e });
}

/**
 * Every secret this process learnt reaches the CLI's sealing before the target is sent anything, so an echo
 * of one in another worker's answer arrives after it (secret-channel.ts). Nothing is sent when that fails:
 * the channel's own error (ours, the check errors), or the request's time running out while waiting.
 */
async function shareSecretsFirst(ctx: SendContext, method: string, url: string, signal: AbortSignal, callerSignal: AbortSignal | undefined): Promise<void> {
  try {
    await untilAborted(secretsShared(), signal);
  } catch (e) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (e instanceof HarnessError) throw e;
    throw new HttpError('HTTP_TIMEOUT', `${describe(ctx, method, url)} was not sent: the run's secret channel did not answer within ${ctx.requestTimeoutMs} ms`, { cause: e });
  }
}

/** Rejects with the signal's reason as soon as it aborts, whatever `promise` does. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Reads the whole body within the signal and the size cap; a slow-drip body cannot hang the run. */
async function readBody(response: Response, signal: AbortSignal, max: number, what: () => string): Promise<Uint8Array> {
  const tooLarge = (): HttpError => new HttpError('HTTP_BODY_TOO_LARGE', `${what()}: response body exceeds ${max} bytes`);
  const declared = Number(response.headers.get('content-length'));
  if (declared > max) {
    // Not awaited: a cancel may wait for the source, which is what we refuse to do.
    response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await untilAborted(reader.read(), signal);
      if (done) break;
      size += value.byteLength;
      if (size > max) throw tooLarge();
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface DispatcherOptions {
  connectTimeoutMs?: number;
  /** Time to wait for the response headers. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyTimeoutMs?: number;
  /** Longest idle time after which a kept-alive connection is still reused (default SAFE_IDLE_MS). */
  maxIdleMs?: number;
}

/**
 * How long an idle kept-alive connection may be reused. Servers close idle connections on their own
 * clock, often without saying when (gunicorn: 2 s, no Keep-Alive header); a request written as the
 * server closes is lost, and a POST cannot be sent again. 1 s stays clear of the shortest common
 * keep-alive; a server's `Keep-Alive: timeout=N` hint is honoured less the same margin (N ≤ 1: no reuse).
 */
export const SAFE_IDLE_MS = 1000;

/**
 * Installs an undici Agent with transport timeouts and a safe keep-alive as the global dispatcher,
 * which Node's globalThis.fetch uses. A second net under the per-request timeout of `createHttp`;
 * msw still intercepts globalThis.fetch. Returns the agent (close it at the end of the run).
 */
export function installDefaultDispatcher(options: DispatcherOptions = {}): Agent {
  const idle = options.maxIdleMs ?? SAFE_IDLE_MS;
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    bodyTimeout: options.bodyTimeoutMs ?? 30_000,
    // No hint: `idle`; a hint of N s: min(N s - margin, idle).
    keepAliveTimeout: idle,
    keepAliveMaxTimeout: idle,
    keepAliveTimeoutThreshold: idle,
  });
  setGlobalDispatcher(agent);
  return agent;
}
