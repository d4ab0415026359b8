/** node:http adapter: a real server on 127.0.0.1 (port 0 = any free port), closed cleanly. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createMockIdp, type MockIdp, type MockIdpOptions } from '../idp.ts';

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
  const listener = getRequestListener((req) => handler!(req), { overrideGlobalObjects: false });
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
