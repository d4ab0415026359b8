/**
 * The core's request and response values, request parsing and response helpers. Bad input becomes
 * an OAuthError (invalid_request), never an exception that would surface as a 500.
 */
import { OAuthError, invalidRequest, safeDescription } from './errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * A response as the core builds it: status, headers and body text, no Response object. The hosts
 * turn it into what they speak: `idp.fetch` into a Fetch-API Response, the node adapter straight
 * into status line, headers and body on the socket (no web stream on that path).
 */
export interface PlainResponse {
  readonly status: number;
  /** Lower-case names, one value each (the mock never sends a header twice). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body text; null for none. */
  readonly body: string | null;
}

/** The request headers the core reads; a Fetch-API `Headers` is one. */
export interface RequestHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
}

/**
 * What the core reads of a request. A host makes one from whatever it receives: `idp.fetch` from a
 * Fetch-API Request, the node adapter from node:http's request, without a Request object.
 */
export interface IdpRequest {
  readonly method: string;
  /** The absolute URL the request was sent to. */
  readonly url: string;
  readonly headers: RequestHeaders;
  /**
   * The body, at most MAX_BODY_BYTES: a longer one rejects with invalid_request without being
   * buffered, an unreadable one likewise. Called at most once per request.
   */
  bytes(): Promise<Uint8Array>;
}

function respond(status: number, headers: Record<string, string>, body: string | null): PlainResponse {
  return { status, headers, body };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): PlainResponse {
  return respond(status, { ...JSON_HEADERS, ...headers }, JSON.stringify(body));
}

/** Token-endpoint style response: RFC 6749 §5.1 requires no-store + no-cache. */
export function jsonNoStore(body: unknown, status = 200, headers: Record<string, string> = {}): PlainResponse {
  return json(body, status, { ...NO_STORE, ...headers });
}

export function errorResponse(err: OAuthError, noStore = true): PlainResponse {
  const body = { error: err.code, error_description: safeDescription(err.description) };
  return noStore ? jsonNoStore(body, err.status, err.headers) : json(body, err.status, err.headers);
}

/** Pages ask for credentials or confirmation: never inside another site's frame (clickjacking). */
const NO_FRAMING = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" };

export function html(body: string, status = 200, headers: Record<string, string> = {}): PlainResponse {
  return respond(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...NO_FRAMING, ...headers }, body);
}

export function redirect(location: string, headers: Record<string, string> = {}, status = 303): PlainResponse {
  return respond(status, { ...headers, location, 'cache-control': 'no-store' }, null);
}

/** An empty response (RFC 7009 §2.2: revocation answers 200 with no content needed). */
export function empty(status = 200, headers: Record<string, string> = {}): PlainResponse {
  return respond(status, headers, null);
}

/** A Fetch-API Request's body (idp.fetch): at most MAX_BODY_BYTES; a longer body is refused without buffering it. */
export async function readFetchBody(request: Request): Promise<Uint8Array> {
  const length = request.headers.get('content-length');
  const declared = Number(length ?? '0');
  if (declared > MAX_BODY_BYTES) throw invalidRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (length !== null && /^\d+$/.test(length)) {
    // A declared length within the cap (a real HTTP body is held to it): read it in one go.
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
export async function readForm(request: IdpRequest): Promise<Params> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('content type must be application/x-www-form-urlencoded');
  }
  const body = decodeUtf8(await request.bytes(), 'request body');
  return parseQueryString(body);
}

/** Parameters of a GET query or a POST form (authorize, end-session accept both). */
export async function readParams(request: IdpRequest, url: URL): Promise<Params> {
  if (request.method === 'GET' || request.method === 'HEAD') return parseQueryString(url.search.slice(1));
  if (request.method === 'POST') return readForm(request);
  throw methodNotAllowed(['GET', 'POST']);
}

export async function readJson(request: IdpRequest): Promise<Record<string, unknown>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const bytes = await request.bytes();
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

export function requireMethod(request: IdpRequest, ...allowed: string[]): void {
  if (!allowed.includes(request.method)) throw methodNotAllowed(allowed);
}

export function parseCookies(request: IdpRequest): Map<string, string> {
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
