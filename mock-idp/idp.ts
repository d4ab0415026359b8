/**
 * createMockIdp: one handler over explicit state. Its core takes an IdpRequest and returns a
 * PlainResponse (http.ts); `fetch` is the Fetch-API face, `handle` the one a host that writes the
 * response itself uses (adapters/node-http.ts). It never imports node:http or msw.
 */
import { correctBehaviour, type Behaviour } from './behaviour.ts';
import { withDefects, type Defect } from './defects.ts';
import { createClock, type Clock } from './clock.ts';
import { createDpopState } from './dpop.ts';
import { createControl, controlEndpoint, type MockIdpControl } from './control.ts';
import { endpointsFor, PATHS, type IdpContext } from './context.ts';
import { randomToken } from './crypto.ts';
import { OAuthError, safeDescription } from './errors.ts';
import { fixtureClients, fixtureUsers, type MockClient, type MockUser } from './fixtures.ts';
import { errorResponse, html, json, jsonNoStore, readFetchBody, type IdpRequest, type PlainResponse } from './http.ts';
import type { Keys, SigningAlg } from './keys.ts';
import { unavailablePage } from './pages.ts';
import { sharedKeys, sharedTokenKey, syncClock } from './replicas.ts';
import type { Profile } from './profile/index.ts';
import { Store, StoreUnavailableError, type MockStore } from './store.ts';
import { allowedHosts, requireAllowedHost } from './origin.ts';
import { authorize, login } from './endpoints/authorize.ts';
import { discovery, jwks } from './endpoints/discovery.ts';
import { endSession } from './endpoints/end-session.ts';
import { introspection } from './endpoints/introspection.ts';
import { revocation } from './endpoints/revocation.ts';
import { token } from './endpoints/token.ts';
import { userinfo } from './endpoints/userinfo.ts';

export interface MockIdpOptions {
  profile: Profile;
  /** Base URL; endpoints live below it. */
  issuer: string;
  clients?: MockClient[];
  users?: MockUser[];
  clock?: Clock;
  /** Enables the login_hint shortcut and the /__control API. */
  testMode?: boolean;
  /** Hosts answered besides the issuer's (`host` or `host:port`); any other Host gets 421. */
  allowedHosts?: readonly string[];
  /** Admin token for /__control; generated per instance when omitted. */
  adminToken?: string;
  signingAlg?: SigningAlg;
  keys?: Keys;
  /**
   * Where the state is kept (store.ts); a new in-memory Store when omitted. Mock instances given one
   * store (replicas) share the signing key, the token key, the DPoP state and, when the store is
   * `replicated`, the clock.
   */
  store?: MockStore;
  /** Deliberate deviations from the profile (defects.ts), for testing the suites' sensitivity. */
  defects?: readonly Defect[];
  /** Replaces the correct behaviour (applied after defects). */
  behaviour?: (correct: Behaviour) => Behaviour;
  /** Called with unexpected exceptions (bugs); the client then gets a JSON server_error. A StoreUnavailableError is not one: it is answered 503. */
  onError?: (error: unknown, request: { method: string; url: string }) => void;
}

export interface MockIdp {
  issuer: string;
  /** The declared profile (defects do not show here). */
  profile: Profile;
  defects: readonly Defect[];
  clients: MockClient[];
  users: MockUser[];
  adminToken: string | undefined;
  clock: Clock;
  control: MockIdpControl;
  /** The Fetch-API face (msw, in-process callers): a real Response, made here at the boundary. */
  fetch(request: Request): Promise<Response>;
  /** The core itself, for a host that reads requests and writes responses on its own; never rejects. */
  handle(request: IdpRequest): Promise<PlainResponse>;
}

type Route = (ctx: IdpContext, request: IdpRequest, url: URL) => PlainResponse | Promise<PlainResponse>;

const routes = new Map<string, Route>([
  [PATHS.discovery, discovery],
  [PATHS.metadata, discovery],
  [PATHS.jwks, jwks],
  [PATHS.authorization, authorize],
  [PATHS.login, login],
  [PATHS.token, token],
  [PATHS.userinfo, userinfo],
  [PATHS.revocation, revocation],
  [PATHS.introspection, introspection],
  [PATHS.endSession, endSession],
]);

/** Endpoints whose responses are token-endpoint style (no-store JSON, RFC 6749 §5.1/§5.2). */
const TOKEN_STYLE = new Set<string>([PATHS.token, PATHS.revocation, PATHS.introspection]);
/** Endpoints that read no state: served without the store (a JWKS stays available while it is down). */
const STATELESS = new Set<string>([PATHS.discovery, PATHS.metadata, PATHS.jwks]);
/** Pages a browser is sent to: an unavailable store gets a page there, JSON elsewhere. */
const BROWSER = new Set<string>([PATHS.authorization, PATHS.login, PATHS.endSession]);

/**
 * The answer while the store is unreachable: 503, never a 500. JSON temporarily_unavailable for the
 * API endpoints (no-store, like every token-endpoint answer), a page for the browser's; the
 * authorization endpoint redirects instead when it can (endpoints/authorize.ts, RFC 6749 §4.1.2.1).
 */
function unavailable(path: string): PlainResponse {
  const headers = { 'retry-after': '1' };
  if (BROWSER.has(path)) return html(unavailablePage(), 503, headers);
  return jsonNoStore({ error: 'temporarily_unavailable', error_description: 'the IdP cannot reach its store; retry later' }, 503, headers);
}

export async function createMockIdp(options: MockIdpOptions): Promise<MockIdp> {
  const issuer = options.issuer.replace(/\/$/, '');
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  const defective = withDefects(options.defects ?? [])(correctBehaviour(options.profile));
  const behaviour = options.behaviour ? options.behaviour(defective) : defective;
  // The clients of the profile served, like every grant: a defect that lets a policy refresh lets its client use the grant.
  const clients = options.clients ?? fixtureClients(behaviour.profile);
  const users = options.users ?? fixtureUsers();
  const testMode = options.testMode ?? false;
  const clock = options.clock ?? createClock();
  const store = options.store ?? new Store();
  // Replicas agree on these through the store: the first to start stores them, the others read them.
  const tokenKey = await sharedTokenKey(store);
  if (store.replicated) await syncClock({ store, clock });
  const ctx: IdpContext = {
    issuer,
    behaviour,
    clients: new Map(clients.map((c) => [c.id, c])),
    users,
    store,
    clock,
    dpop: createDpopState(clock, tokenKey, store),
    keys: options.keys ?? (await sharedKeys(store, options.signingAlg)),
    tokenKey,
    testMode,
    hosts: allowedHosts(issuer, options.allowedHosts),
    ...(testMode && { adminToken: options.adminToken ?? randomToken() }),
    endpoints: endpointsFor(issuer),
  };
  const control = createControl(ctx);
  let untilSweep = 1024;

  /**
   * Every 1024 requests, or less often in a large store: a sweep walks it all, so its cost per
   * request stays bounded. Housekeeping: a store lost fails the sweep, never the request.
   */
  async function sweep(): Promise<void> {
    untilSweep = 1024;
    try {
      await store.sweep(ctx.clock.now());
      untilSweep = Math.max(1024, (await store.size()) >> 2);
    } catch (e) {
      if (!(e instanceof StoreUnavailableError)) throw e;
    }
  }

  async function handle(request: IdpRequest): Promise<PlainResponse> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(new OAuthError('invalid_request', 'malformed request URL'));
    }
    const path = url.pathname.startsWith(issuerPath) ? url.pathname.slice(issuerPath.length) || '/' : url.pathname;
    try {
      requireAllowedHost(ctx.hosts, url);
      // Once per request, before routing (the authorization endpoint does it itself, to redirect when the store is down).
      if (store.replicated && !STATELESS.has(path) && path !== PATHS.authorization) await syncClock(ctx);
      if (--untilSweep <= 0) await sweep();
      if (path === PATHS.control || path.startsWith(PATHS.control + '/')) {
        return await controlEndpoint(ctx, control, request, path.slice(PATHS.control.length), url);
      }
      const route = routes.get(path);
      if (!route) throw new OAuthError('not_found', 'no such endpoint', 404);
      return await route(ctx, request, url);
    } catch (e) {
      if (e instanceof StoreUnavailableError) return unavailable(path);
      if (e instanceof OAuthError) {
        if (!TOKEN_STYLE.has(path)) return errorResponse(e);
        const sent = new OAuthError(behaviour.errorCode(e.code), e.description, e.status, e.headers);
        if (path !== PATHS.token) return errorResponse(sent, behaviour.noStore);
        const shaped = behaviour.tokenResponse({
          status: sent.status,
          headers: { ...(behaviour.noStore && { 'cache-control': 'no-store', pragma: 'no-cache' }), ...sent.headers },
          body: { error: sent.code, error_description: safeDescription(sent.description) },
        });
        return json(shaped.body, shaped.status, shaped.headers);
      }
      options.onError?.(e, request);
      return json({ error: 'server_error', error_description: 'unexpected error in the mock IdP' }, 500);
    }
  }

  return {
    issuer,
    profile: options.profile,
    defects: options.defects ?? [],
    clients,
    users,
    adminToken: ctx.adminToken,
    clock: ctx.clock,
    control,
    handle,
    async fetch(request) {
      const plain = await handle({ method: request.method, url: request.url, headers: request.headers, bytes: () => readFetchBody(request) });
      return new Response(plain.body, { status: plain.status, headers: plain.headers });
    },
  };
}
