/**
 * A connection to a target: its endpoints, metadata and JWKS, and how to drive
 * its clock and SSO sessions. Remote targets are discovered once and shared by every check;
 * the embedded mock gives each check a fresh instance (see embedded.ts).
 */
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { discover, type Endpoints } from '../harness/discovery.ts';
import { SetupError } from '../harness/errors.ts';
import { createHttp, type Http } from '../harness/http.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import type { ClockControl, SsoControl } from '../harness/drivers/control.ts';
import { startEmbedded, type EmbeddedInstance } from './embedded.ts';
import type { Capabilities } from './plan.ts';
import { fixtureClients, type Defect, type Profile } from '../../mock-idp/index.ts';

export interface Connection {
  issuer: string;
  endpoints: Endpoints;
  metadata: Record<string, unknown>;
  jwks: JWTVerifyGetKey;
  /** Username for the mock login driver. */
  username?: string;
  /** The embedded mock's in-process control. */
  localControl?: ClockControl & SsoControl;
  /** A running mock's control API token (target `control.adminToken`). */
  adminToken?: string;
  /** The fetch that reaches this target, when not the run's default. */
  fetch?: typeof globalThis.fetch;
  /** Each check gets its own instance (embedded mock): checks may run in parallel even on a mock clock. */
  isolated: boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  fetch?: typeof globalThis.fetch;
  defects?: readonly Defect[];
  /** Embedded mock only: the profile it serves, when it differs from the one declared (checked). */
  servedProfile?: Profile;
}

async function fetchJwks(http: Http, uri: string): Promise<JWTVerifyGetKey> {
  const r = await http.request('GET', uri, { headers: { accept: 'application/json' } });
  const keys = (r.json as { keys?: unknown } | undefined)?.keys;
  if (r.response.status !== 200 || !Array.isArray(keys)) {
    throw new SetupError('DISCOVERY_INVALID', `JWKS at ${uri} is not a JSON Web Key Set (HTTP ${r.response.status})`);
  }
  return createLocalJWKSet({ keys });
}

/** Discovers a remote target. */
export async function connectRemote(target: Extract<Target, { kind: 'remote' }>, options: ConnectOptions = {}): Promise<Connection> {
  const http = createHttp({ requestTimeoutMs: target.timeouts.requestMs, ...(options.fetch && { fetch: options.fetch }) });
  const { endpoints, metadata } = await discover(http, {
    issuer: target.issuer,
    endpoints: target.endpoints,
    ...(target.discoveryUrl !== undefined && { discoveryUrl: target.discoveryUrl }),
  });
  const jwks = await fetchJwks(http, endpoints.jwks);
  return {
    issuer: target.issuer,
    endpoints,
    metadata,
    jwks,
    ...(target.login.driver === 'mock' && target.login.username !== undefined && { username: target.login.username }),
    ...(target.control && { adminToken: target.control.adminToken }),
    isolated: false,
    close: async () => undefined,
  };
}

/**
 * What the target can do for the checks that need more than login and refresh (runner/plan.ts skips
 * the others, with this reason). Without `endpoints` (the embedded mock, connected per check) the
 * endpoints are assumed.
 */
export function capabilitiesOf(target: Target, endpoints?: Partial<Endpoints>): Capabilities {
  const missing = (name: 'endSession' | 'revocation' | 'introspection', member: string): true | string =>
    endpoints === undefined || endpoints[name] !== undefined ? true : `the IdP's discovery has no ${member} (and the target sets no endpoints.${name})`;
  const logout =
    target.logout.driver === 'none'
      ? 'the target declares no logout (logout.driver none)'
      : target.logout.driver === 'end-session'
        ? missing('endSession', 'end_session_endpoint')
        : true;
  return { logout, revocation: missing('revocation', 'revocation_endpoint'), introspection: missing('introspection', 'introspection_endpoint') };
}

/** Base scope the embedded clients ask for: enough to narrow and to widen. */
const EMBEDDED_SCOPE = 'openid profile';

/**
 * The embedded mock's clients as the harness uses them, from the profile's fixtures (the ones every
 * instance registers): known without starting an instance, the same objects for planning and running.
 */
export function embeddedClients(target: Extract<Target, { kind: 'embedded' }>): TargetClient[] {
  return fixtureClients(target.profile).map((c) => ({
    id: c.id,
    ...(c.secret !== undefined && { secret: c.secret }),
    // Alternate the two secret methods so both are exercised.
    auth: c.secret === undefined ? 'none' : c.id.length % 2 ? 'client_secret_post' : 'client_secret_basic',
    redirectUri: c.redirectUris[0]!,
    policy: c.policy,
    policyRules: target.profile.policies[c.policy]!,
    scope: EMBEDDED_SCOPE,
  }));
}

/** The target's clients as planned: the file's for a remote target, the fixtures' for the embedded mock. */
export function targetClients(target: Target): TargetClient[] {
  return target.kind === 'remote' ? target.clients : embeddedClients(target);
}

/** Starts a fresh embedded mock instance and discovers it like any target. */
export async function connectEmbedded(target: Extract<Target, { kind: 'embedded' }>, options: ConnectOptions = {}): Promise<Connection> {
  const instance: EmbeddedInstance = await startEmbedded({
    profile: options.servedProfile ?? target.profile,
    transport: target.embedded.transport,
    ...(options.defects && { defects: options.defects }),
  });
  try {
    const fetch = instance.fetch ?? options.fetch;
    const http = createHttp({ requestTimeoutMs: target.timeouts.requestMs, ...(fetch && { fetch }) });
    const { endpoints, metadata } = await discover(http, { issuer: instance.issuer, endpoints: target.endpoints });
    const jwks = await fetchJwks(http, endpoints.jwks);
    const { idp } = instance;
    return {
      issuer: instance.issuer,
      endpoints,
      metadata,
      jwks,
      username: idp.users[0]!.username,
      localControl: {
        advance: (seconds: number) => idp.control.advance(seconds),
        endSsoSession: ({ username }: { username: string }) => idp.control.endSsoSession({ username }),
      },
      isolated: true,
      ...(fetch && { fetch }),
      close: instance.close,
    };
  } catch (e) {
    await instance.close();
    throw e;
  }
}
