/**
 * Request parsing and response helpers for the Fetch-API core. Bad input becomes an
 * OAuthError (invalid_request), never an exception that would surface as a 500.
 */
import { OAuthError, invalidRequest, safeDescription } from './errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** What a response built here says, before any Response object exists. */
export interface PlainResponse {
  status: number;
  headers: Record<string, string> | Headers;
  /** The body text; null for none. */
  body: string | null;
}

const NativeResponse = globalThis.Response;

/**
 * A Response built by these helpers: `instanceof Response`, and every property and method a Response
 * has, but the real (undici) Response, with the web stream it creates for its body, is made only
 * when something reads it as one. A host that knows these (adapters/node-http.ts, through
 * plainResponse) writes status, headers and body text straight to the socket instead: that stream
 * was a good part of the cost of every request over HTTP. Fetch-API hosts (msw, a direct call)
 * see a real Response, made on first use.
 */
class LightResponse {
  readonly #plain: PlainResponse;
  #real: Response | undefined;

  constructor(plain: PlainResponse) {
    this.#plain = plain;
  }

  /** The plain response, unless something already made the real one (which it may have changed). */
  static plain(value: unknown): PlainResponse | undefined {
    return value instanceof LightResponse && value.#real === undefined ? value.#plain : undefined;
  }

  static real(value: LightResponse): Response {
    if (value.#real === undefined) {
      const { body, status, headers } = value.#plain;
      value.#real = new NativeResponse(body, { status, headers });
    }
    return value.#real;
  }

  get status(): number {
    return this.#real?.status ?? this.#plain.status;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
}
for (const key of Object.getOwnPropertyNames(NativeResponse.prototype)) {
  if (key === 'constructor' || key === 'status' || key === 'ok') continue;
  const d = Object.getOwnPropertyDescriptor(NativeResponse.prototype, key)!;
  if (d.get) {
    Object.defineProperty(LightResponse.prototype, key, {
      get(this: LightResponse) {
        return Reflect.get(LightResponse.real(this), key);
      },
      configurable: true,
    });
  } else if (typeof d.value === 'function') {
    Object.defineProperty(LightResponse.prototype, key, {
      value(this: LightResponse, ...args: unknown[]) {
        const real = LightResponse.real(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return real[key]!(...args);
      },
      configurable: true,
      writable: true,
    });
  }
}
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);

/** Status, headers and body text of a response built by these helpers and not yet used as a Response. */
export function plainResponse(response: Response): PlainResponse | undefined {
  return LightResponse.plain(response);
}

function respond(body: string | null, init: { status: number; headers: Record<string, string> | Headers }): Response {
  return new LightResponse({ status: init.status, headers: init.headers, body }) as unknown as Response;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return respond(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** Token-endpoint style response: RFC 6749 §5.1 requires no-store + no-cache. */
export function jsonNoStore(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return json(body, status, { ...NO_STORE, ...headers });
}

export function errorResponse(err: OAuthError, noStore = true): Response {
  const body = { error: err.code, error_description: safeDescription(err.description) };
  return noStore ? jsonNoStore(body, err.status, err.headers) : json(body, err.status, err.headers);
}

/** Pages ask for credentials or confirmation: never inside another site's frame (clickjacking). */
const NO_FRAMING = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" };

export function html(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return respond(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...NO_FRAMING, ...headers },
  });
}

export function redirect(location: string, headers: Record<string, string> | Headers = {}, status = 303): Response {
  const h = new Headers(headers);
  h.set('location', location);
  h.set('cache-control', 'no-store');
  return respond(null, { status, headers: h });
}

/** Reads at most MAX_BODY_BYTES; a longer body is refused without buffering it. */
export async function readBody(request: Request): Promise<Uint8Array> {
  const length = request.headers.get('content-length');
  const declared = Number(length ?? '0');
  if (declared > MAX_BODY_BYTES) throw invalidRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (length !== null && /^\d+$/.test(length)) {
    // A declared length within the cap (over HTTP the parser holds the body to it): read it in one go,
    // which a host's lightweight Request (the node adapter's) serves without a web stream.
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await request.arrayBuffer());
    } catch {
      throw invalidRequest('request body could not be read');
    }
    if (bytes.byteLength > MAX_BODY_BYTES) throw invalidRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    return bytes;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        // Not awaited: a tee'd body (msw clones requests) settles its cancel only when every branch is cancelled.
        void reader.cancel().catch(() => undefined);
        throw invalidRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof OAuthError) throw e;
    throw invalidRequest('request body could not be read');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidRequest(`${what} is not valid UTF-8`);
  }
}

/** Strict application/x-www-form-urlencoded decoding: bad percent-escapes are an error, not guessed at. */
function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('malformed form encoding');
  }
}

/** Parameters as a map; a repeated parameter is invalid_request (RFC 6749 §3.1, §3.2). */
export type Params = Map<string, string>;

export function parseQueryString(text: string): Params {
  const params: Params = new Map();
  const seen = new Set<string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1));
    if (seen.has(name)) throw invalidRequest(`parameter "${safeDescription(name)}" is repeated`);
    seen.add(name);
    // RFC 6749 §3.1: parameters sent without a value are treated as if omitted.
    if (value !== '') params.set(name, value);
  }
  return params;
}

/** A POST body that must be application/x-www-form-urlencoded (RFC 6749 §4.1.3, §6; RFC 7009 §2.1; RFC 7662 §2.1). */
export async function readForm(request: Request): Promise<Params> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('content type must be application/x-www-form-urlencoded');
  }
  const body = decodeUtf8(await readBody(request), 'request body');
  return parseQueryString(body);
}

/** Parameters of a GET query or a POST form (authorize, end-session accept both). */
export async function readParams(request: Request, url: URL): Promise<Params> {
  if (request.method === 'GET' || request.method === 'HEAD') return parseQueryString(url.search.slice(1));
  if (request.method === 'POST') return readForm(request);
  throw methodNotAllowed(['GET', 'POST']);
}

export async function readJson(request: Request): Promise<Record<string, unknown>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const bytes = await readBody(request);
  if (bytes.byteLength === 0) return {};
  if (type !== 'application/json') throw invalidRequest('content type must be application/json');
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(bytes, 'request body'));
  } catch (e) {
    if (e instanceof OAuthError) throw e;
    throw invalidRequest('malformed JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest('JSON body must be an object');
  return value as Record<string, unknown>;
}

export function methodNotAllowed(allowed: string[]): OAuthError {
  return new OAuthError('invalid_request', `method not allowed; use ${allowed.join(' or ')}`, 405, {
    allow: allowed.join(', '),
  });
}

export function requireMethod(request: Request, ...allowed: string[]): void {
  if (!allowed.includes(request.method)) throw methodNotAllowed(allowed);
}

export function parseCookies(request: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Splits a space-delimited scope string (RFC 6749 §3.3). */
export function scopeList(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}
