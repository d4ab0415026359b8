/** node:http adapter: a real server on 127.0.0.1 (port 0 = any free port), closed cleanly. */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createMockIdp, type MockIdp, type MockIdpOptions } from '../idp.ts';
import { plainResponse } from '../http.ts';

export interface RunningMockIdp {
  idp: MockIdp;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens first so the issuer can name the real port, then mounts the IdP. */
export async function serveMockIdp(
  options: Omit<MockIdpOptions, 'issuer'> & { issuerPath?: string },
  listen: { host?: string; port?: number } = {},
): Promise<RunningMockIdp> {
  const host = listen.host ?? '127.0.0.1';
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
  const server: Server = createServer(listener);
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
