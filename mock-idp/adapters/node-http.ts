/**
 * node:http adapter: a real server on 127.0.0.1 (port 0 = any free port), closed cleanly. It reads
 * what the core needs straight from node's request (method, URL, headers, body bytes) and writes the
 * core's PlainResponse straight to the socket: no Request, Response or web stream on this path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { invalidRequest } from '../errors.ts';
import { createMockIdp, type MockIdp, type MockIdpOptions } from '../idp.ts';
import { MAX_BODY_BYTES, errorResponse, type IdpRequest, type PlainResponse, type RequestHeaders } from '../http.ts';
import { CONNECTION_CHECK_INTERVAL_MS } from '../limits.ts';

export interface ServerLimits {
  /** The whole request, headers and body, must arrive within this (default 30 s). */
  requestTimeoutMs?: number;
  /** The headers must arrive within this (default: the smaller of 20 s and requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs?: number;
}

export interface RunningMockIdp {
  idp: MockIdp;
  url: string;
  port: number;
  /** The time limits in force. */
  limits: Required<ServerLimits>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free one. */
  port?: number;
  limits?: ServerLimits;
  /** Serve HTTPS with this certificate (chain) and key, both PEM. */
  tls?: { cert: string; key: string };
  /**
   * The issuer clients use, when it is not `scheme://host:port` (a wildcard bind, a name in DNS);
   * its host is answered, others get 421. `{port}` in it is replaced by the port bound.
   */
  issuer?: string;
}

/** Listens first so the issuer can name the real port, then mounts the IdP. */
export async function serveMockIdp(
  options: Omit<MockIdpOptions, 'issuer'> & { issuerPath?: string },
  listen: ListenOptions = {},
): Promise<RunningMockIdp> {
  const host = listen.host ?? '127.0.0.1';
  const requestTimeoutMs = listen.limits?.requestTimeoutMs ?? 30_000;
  const limits: Required<ServerLimits> = {
    requestTimeoutMs,
    headersTimeoutMs: Math.min(listen.limits?.headersTimeoutMs ?? 20_000, requestTimeoutMs),
    keepAliveTimeoutMs: listen.limits?.keepAliveTimeoutMs ?? 5_000,
  };
  let idp: MockIdp | undefined;
  let make!: (made: Promise<MockIdp>) => void;
  const ready = new Promise<MockIdp>((resolve) => (make = resolve));
  const listener = (req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): void => {
    // A request that arrives while the IdP is still being made (it needs the port) waits for it.
    const answer = idp ? answerWith(idp, req, res, scheme) : ready.then((made) => answerWith(made, req, res, scheme));
    answer.catch(() => res.destroy());
  };
  const scheme = listen.tls ? 'https' : 'http';
  const serverOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node looks for requests over their limits only this often (30 s by default, so a 30 s
    // requestTimeout cut slow bodies after up to ~90 s); checking every second keeps each limit.
    connectionsCheckingInterval: Math.min(CONNECTION_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
  };
  const server: Server = listen.tls
    ? createTlsServer({ ...serverOptions, cert: listen.tls.cert, key: listen.tls.key }, (req, res) => listener(req, res, scheme))
    : createServer(serverOptions, (req, res) => listener(req, res, scheme));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const url = listen.issuer?.replace('{port}', String(port)).replace(/\/$/, '') ?? `${scheme}://${bracketed}:${port}${options.issuerPath ?? ''}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  make(createMockIdp({ ...options, issuer: url }));
  try {
    idp = await ready;
  } catch (e) {
    await close();
    throw e;
  }
  return {
    idp,
    url,
    port,
    limits,
    close,
  };
}

async function answerWith(idp: MockIdp, req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https'): Promise<void> {
  const headers = new RawHeaders(req.rawHeaders);
  const url = requestUrl(req, headers, scheme);
  let body: Promise<Uint8Array> | undefined;
  const plain =
    url === undefined
      ? errorResponse(invalidRequest('malformed request target or Host header'))
      : await idp.handle({ method: req.method ?? 'GET', url, headers, bytes: () => (body ??= readBody(req)) } satisfies IdpRequest);
  write(res, plain);
}

/** host or host:port, a name or an IPv4 or bracketed IPv6 address: nothing a URL could read as a path or credentials. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The URL a request was sent to: origin-form with its one Host header, or absolute-form (RFC 9112
 * §3.2.1, §3.2.2); the core then answers only for its own hosts. Undefined for anything else.
 */
function requestUrl(req: IncomingMessage, headers: RequestHeaders, scheme: 'http' | 'https'): string | undefined {
  const target = req.url ?? '';
  if (target.startsWith('/')) {
    const host = headers.get('host'); // two Host headers read as "a, b" and are refused (RFC 9112 §3.2)
    return host !== null && HOST.test(host) ? `${scheme}://${host}${target}` : undefined;
  }
  return /^https?:\/\//i.test(target) ? target : undefined;
}

/** Request headers as a Fetch-API Headers reads them (a repeated one joined with ", "), from node's raw list. */
class RawHeaders implements RequestHeaders {
  constructor(private readonly raw: readonly string[]) {}

  get(name: string): string | null {
    const want = name.toLowerCase();
    let value: string | null = null;
    for (let i = 0; i < this.raw.length; i += 2) {
      const n = this.raw[i]!;
      if (n.length === want.length && n.toLowerCase() === want) value = value === null ? this.raw[i + 1]! : `${value}, ${this.raw[i + 1]!}`;
    }
    return value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }
}

/** The body, at most MAX_BODY_BYTES: a longer one is refused at its declared length or as soon as it grows past it. */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const tooLarge = () => invalidRequest(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  if (Number(req.headers['content-length'] ?? '0') > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      stop(); // the rest flows on unread; the server's time limits bound how long
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onClose = () => {
      stop();
      reject(invalidRequest('request body could not be read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose); // before 'end': the client went away mid-body
    req.on('error', () => undefined); // reported through 'close'
  });
}

/** Status, headers and body text as they are, with the body's length. */
function write(res: ServerResponse, plain: PlainResponse): void {
  const headers: string[] = [];
  for (const name in plain.headers) headers.push(name, plain.headers[name]!);
  headers.push('content-length', plain.body === null ? '0' : String(Buffer.byteLength(plain.body)));
  res.writeHead(plain.status, headers);
  if (plain.body === null) res.end();
  else res.end(plain.body);
}
