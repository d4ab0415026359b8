/**
 * The embedded mock as a target: every check gets its own IdP instance (own clock, own store),
 * so checks that move time can run in parallel. Over msw, one process-wide handler routes by
 * host to the live instances; over HTTP, each instance gets its own loopback server.
 */
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { createMockIdp, type Defect, type MockIdp, type Profile } from '../../mock-idp/index.ts';
import { serveMockIdp } from '../../mock-idp/adapters/node-http.ts';

/** msw: interception of globalThis.fetch; http: a loopback server; direct: the handler called as the fetch. */
export type Transport = 'msw' | 'http' | 'direct';

export interface EmbeddedInstance {
  idp: MockIdp;
  issuer: string;
  /** The fetch to reach it with, when not globalThis.fetch (direct transport). */
  fetch?: typeof globalThis.fetch;
  close(): Promise<void>;
}

const live = new Map<string, MockIdp>();
let server: ReturnType<typeof setupServer> | undefined;
let counter = 0;
const HOST = /^https:\/\/(mock-idp-\d+-[a-z0-9]+\.test)\//;

function ensureMsw(): void {
  if (server) return;
  const s = setupServer(
    http.all(HOST, ({ request }) => {
      const host = new URL(request.url).host;
      const idp = live.get(host);
      return idp ? idp.fetch(request) : new Response(JSON.stringify({ error: 'not_found', error_description: 'no live mock IdP at this host' }), { status: 404, headers: { 'content-type': 'application/json' } });
    }),
  );
  // Other traffic (a real-HTTP target in the same process) passes through untouched.
  s.listen({ onUnhandledRequest: 'bypass' });
  server = s;
}

export interface EmbeddedOptions {
  profile: Profile;
  transport: Transport;
  defects?: readonly Defect[];
}

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedInstance> {
  const common = { profile: options.profile, testMode: true, ...(options.defects && { defects: options.defects }) };
  if (options.transport === 'http') {
    const running = await serveMockIdp(common);
    return { idp: running.idp, issuer: running.url, close: running.close };
  }
  if (options.transport === 'direct') {
    const idp = await createMockIdp({ ...common, issuer: `https://mock-idp-direct-${++counter}.test` });
    const fetch = ((input: RequestInfo | URL, init?: RequestInit) => idp.fetch(new Request(input, init))) as typeof globalThis.fetch;
    return { idp, issuer: idp.issuer, fetch, close: async () => undefined };
  }
  ensureMsw();
  const host = `mock-idp-${++counter}-${process.pid.toString(36)}.test`;
  const idp = await createMockIdp({ ...common, issuer: `https://${host}` });
  live.set(host, idp);
  return {
    idp,
    issuer: idp.issuer,
    close: async () => {
      live.delete(host);
    },
  };
}

/** Stops the process-wide msw server once no instance needs it. */
export function stopEmbeddedMsw(): void {
  if (server && live.size === 0) {
    server.close();
    server = undefined;
  }
}
