/**
 * OpenID Provider discovery (OpenID Connect Discovery 1.0 §4), with the target's endpoint overrides.
 * Any failure here is a SetupError: without endpoints no check can run.
 */
import { HttpError, SetupError } from './errors.ts';
import type { Http, HttpResult } from './http.ts';
import type { EndpointOverrides } from './target.ts';

export interface Endpoints {
  issuer: string;
  authorization: string;
  token: string;
  jwks: string;
  revocation?: string;
  introspection?: string;
  userinfo?: string;
  endSession?: string;
}

export interface Discovery {
  endpoints: Endpoints;
  /** The provider metadata as served. */
  metadata: Record<string, unknown>;
  result: HttpResult;
}

/** Endpoint name → provider metadata member. */
const METADATA_NAMES = {
  authorization: 'authorization_endpoint',
  token: 'token_endpoint',
  jwks: 'jwks_uri',
  revocation: 'revocation_endpoint',
  introspection: 'introspection_endpoint',
  userinfo: 'userinfo_endpoint',
  endSession: 'end_session_endpoint',
} as const satisfies Record<Exclude<keyof Endpoints, 'issuer'>, string>;

type EndpointName = keyof typeof METADATA_NAMES;
const REQUIRED: readonly EndpointName[] = ['authorization', 'token', 'jwks'];

/** OIDC Discovery §4: a terminating `/` of the issuer is removed before appending the well-known path. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/**
 * Fetches and validates the provider metadata, from `discoveryUrl` when the target gives one (its
 * `issuer` must still be the target's, §4.3); unreachable → ISSUER_UNREACHABLE, bad metadata → DISCOVERY_INVALID.
 */
export async function discover(http: Http, target: { issuer: string; discoveryUrl?: string; endpoints?: EndpointOverrides }): Promise<Discovery> {
  const url = target.discoveryUrl ?? discoveryUrl(target.issuer);
  let result: HttpResult;
  try {
    result = await http.request('GET', url, { headers: { accept: 'application/json' } });
  } catch (e) {
    if (e instanceof HttpError) throw new SetupError('ISSUER_UNREACHABLE', `issuer ${target.issuer} unreachable: ${e.message}`, { cause: e });
    throw e;
  }
  if (result.response.status !== 200) {
    const hint = target.discoveryUrl === undefined ? ' (set discoveryUrl in the target if the IdP serves it elsewhere)' : '';
    throw new SetupError('DISCOVERY_INVALID', `GET ${url} returned HTTP ${result.response.status}, expected 200 with the provider metadata${hint}`);
  }
  const metadata = result.json;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    const type = result.response.headers.get('content-type') ?? 'no content-type';
    throw new SetupError('DISCOVERY_INVALID', `GET ${url} did not return a JSON object (${type})`);
  }
  const record = metadata as Record<string, unknown>;
  return { endpoints: resolveEndpoints(target.issuer, record, target.endpoints), metadata: record, result };
}

/**
 * Pure: checks `issuer` (OIDC Discovery §4.3: exactly the configured one) and the endpoints,
 * then applies overrides. An override stands in for a missing or broken metadata member.
 */
export function resolveEndpoints(issuer: string, metadata: Record<string, unknown>, overrides: EndpointOverrides = {}): Endpoints {
  if (metadata.issuer !== issuer) {
    throw new SetupError(
      'DISCOVERY_INVALID',
      `provider metadata "issuer" ${JSON.stringify(metadata.issuer)} does not match the configured issuer "${issuer}"`,
    );
  }
  const found: Partial<Record<EndpointName, string>> = {};
  for (const [name, member] of Object.entries(METADATA_NAMES) as Array<[EndpointName, string]>) {
    const override = overrides[name];
    if (override !== undefined) {
      found[name] = override;
      continue;
    }
    const value = metadata[member];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !isHttpUrl(value)) {
      throw new SetupError('DISCOVERY_INVALID', `provider metadata "${member}" is not an http(s) URL: ${JSON.stringify(value)}`);
    }
    found[name] = value;
  }
  for (const name of REQUIRED) {
    if (found[name] === undefined) {
      throw new SetupError(
        'DISCOVERY_INVALID',
        `provider metadata has no "${METADATA_NAMES[name]}" and the target sets no endpoints.${name}`,
      );
    }
  }
  return { issuer, ...found } as Endpoints;
}

/** The endpoint an operation needs, or ENDPOINT_MISSING naming the metadata member and the override. */
export function requireEndpoint(endpoints: Partial<Endpoints>, name: EndpointName): string {
  const url = endpoints[name];
  if (url === undefined) {
    throw new SetupError('ENDPOINT_MISSING', `no ${METADATA_NAMES[name]} in the provider metadata and no endpoints.${name} in the target`);
  }
  return url;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}
