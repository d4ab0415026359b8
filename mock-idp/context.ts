/** Everything one IdP instance needs, passed explicitly: no module-level state. */
import type { Behaviour } from './behaviour.ts';
import type { Clock } from './clock.ts';
import type { DpopState } from './dpop.ts';
import type { MockClient, MockUser } from './fixtures.ts';
import type { Keys } from './keys.ts';
import type { MockStore } from './store.ts';

export interface IdpContext {
  issuer: string;
  behaviour: Behaviour;
  clients: ReadonlyMap<string, MockClient>;
  users: readonly MockUser[];
  store: MockStore;
  clock: Clock;
  keys: Keys;
  /** DPoP proofs' jti replay cache and the server nonce (dpop.ts). */
  dpop: DpopState;
  /** Secret key of this instance for derived refresh tokens (crypto.ts derivedToken); never leaves it. */
  tokenKey: Uint8Array;
  testMode: boolean;
  adminToken?: string;
  /** Hosts this instance answers for: the issuer's, plus any the operator allowed (origin.ts). */
  hosts: ReadonlySet<string>;
  /** Endpoint URLs, derived from the issuer. */
  endpoints: Endpoints;
}

export interface Endpoints {
  authorization: string;
  login: string;
  token: string;
  jwks: string;
  userinfo: string;
  revocation: string;
  introspection: string;
  endSession: string;
  control: string;
}

export const PATHS = {
  discovery: '/.well-known/openid-configuration',
  metadata: '/.well-known/oauth-authorization-server',
  authorization: '/authorize',
  login: '/login',
  token: '/token',
  jwks: '/jwks',
  userinfo: '/userinfo',
  revocation: '/revoke',
  introspection: '/introspect',
  endSession: '/end-session',
  control: '/__control',
} as const;

export function endpointsFor(issuer: string): Endpoints {
  const base = issuer.replace(/\/$/, '');
  return {
    authorization: base + PATHS.authorization,
    login: base + PATHS.login,
    token: base + PATHS.token,
    jwks: base + PATHS.jwks,
    userinfo: base + PATHS.userinfo,
    revocation: base + PATHS.revocation,
    introspection: base + PATHS.introspection,
    endSession: base + PATHS.endSession,
    control: base + PATHS.control,
  };
}

export const SSO_COOKIE = 'mock_idp_sso';
/** Binds a pending login to the browser that asked for the login page (login CSRF). */
export const LOGIN_COOKIE = 'mock_idp_login';
