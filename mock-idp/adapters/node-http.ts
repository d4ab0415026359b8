/** node:http adapter: a real server on 127.0.0.1 (port 0 = any free port), closed cleanly. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createMockIdp, type MockIdp, type MockIdpOptions } from '../idp.ts';
import { plainResponse } from '../http.ts';
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

/** Listens first so the issuer can name the real port, then mounts the IdP. */
export async function serveMockIdp(
  options: Omit<MockIdpOptions, 'issuer'> & { issuerPath?: string },
  listen: { host?: string; port?: number; limits?: ServerLimits } = {},
): Promise<RunningMockIdp> {
  const host = listen.host ?? '127.0.0.1';
  const requestTimeoutMs = listen.limits?.requestTimeoutMs ?? 30_000;
  const limits: Required<ServerLimits> = {
    requestTimeoutMs,
    headersTimeoutMs: Math.min(listen.limits?.headersTimeoutMs ?? 20_000, requestTimeoutMs),
    keepAliveTimeoutMs: listen.limits?.keepAliveTimeoutMs ?? 5_000,
  };
  let handler: ((req: Request) => Promise<Response>) | undefined;
  // overrideGlobalObjects: false keeps the global Request/Response untouched (msw, undici rely on them).
  const listener = getRequestListener(
    async (req, { outgoing }) => {
      const response = await handler!(req);
      const plain = plainResponse(response);
      if (plain === undefined) return response;
      // A response built by the core's helpers: status, headers and body text are written directly,
      // without a web stream in between (the hot path of every endpoint).
      const headers: string[] = [];
      if (plain.headers instanceof Headers) {
        plain.headers.forEach((value, name) => {
          if (name !== 'set-cookie') headers.push(name, value);
        });
        for (const cookie of plain.headers.getSetCookie()) headers.push('set-cookie', cookie);
      } else {
        for (const name in plain.headers) headers.push(name, plain.headers[name]!);
      }
      headers.push('content-length', plain.body === null ? '0' : String(Buffer.byteLength(plain.body)));
      const out = outgoing as ServerResponse;
      out.writeHead(plain.status, headers);
      if (plain.body === null) out.end();
      else out.end(plain.body);
      return RESPONSE_ALREADY_SENT;
    },
    { overrideGlobalObjects: false },
  );
  const server: Server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node looks for requests over their limits only this often (30 s by default, so a 30 s
      // requestTimeout cut slow bodies after up to ~90 s); checking every second keeps each limit.
      connectionsCheckingInterval: Math.min(CONNECTION_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
    },
    listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}${options.issuerPath ?? ''}`;
  const idp = await createMockIdp({ ...options, issuer: url });
  handler = idp.fetch;
  return {
    idp,
    url,
    port,
    limits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
