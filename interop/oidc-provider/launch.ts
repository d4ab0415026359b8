/**
 * node-oidc-provider (panva/node-oidc-provider 9) configured to implement a refresh profile's
 * policies (TelenorID+ by default), served on loopback as a real third-party target for the suites.
 *
 * Only documented configuration is used; its own HTML login, consent and logout pages stay
 * (devInteractions: any login and password are accepted), and the suites' form and end-session
 * drivers get through them like a person would. How each policy maps to its configuration, and what
 * it cannot express, is in docs/README-issue5.md.
 *
 *   offline_access gating   its default issueRefreshToken: refresh_token grant allowed AND offline_access
 *                           granted (offline_access itself needs prompt=consent, OIDC Core §11)
 *   NoRefresh               a public client without the refresh_token grant
 *   rotation                rotateRefreshToken(): the policy's rotation flag, and only while the SSO
 *                           session the token was issued in is still active (profile: "no new refresh
 *                           token once the SSO session ended"); otherwise the presented token is kept
 *   fixed vs sliding        ttl.RefreshToken = the policy's lifetime for every token it issues: a
 *                           rotated token gets a fresh lifetime (sliding), an unrotated one keeps its
 *                           expiry (fixed, Confidential)
 *   SSO session             ttl.Session counted from login (absolute, not renewed by activity)
 *   reuse of a rotated token  built in: destroys it and revokes the whole grant
 *
 * Profiles declaring what it cannot do (a grace window, reuse only rejected, the presented token
 * consumed after the SSO session) are served anyway: the suites then report the difference.
 *
 * With `defaults: true` it is instead node-oidc-provider as shipped, checked against the
 * node-oidc-provider profile (its documented defaults, unscaled): no refresh configuration at all
 * (no issueRefreshToken, rotateRefreshToken, expiresWithSession or ttl), only what any deployment
 * needs: clients, keys, cookie keys, storage, accounts with their claims, and the features the
 * suites use (introspection, revocation, RP-initiated logout, client credentials) enabled.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OidcProvider from 'oidc-provider';
import { isRefreshPolicy, loadProfile, type Policy, type Profile } from '../../mock-idp/profile/index.ts';
import { CI_SCALE, scaleProfile, type TargetFileClient } from '../scale.ts';
import { withLifetimesOf } from '../wall-clock-mock/profile.ts';
import { createMemoryAdapter } from './adapter.ts';
import { clientsForProfile, isNativeClientType } from '../clients.ts';
import { usesDpop } from '../../mock-idp/profile/model.ts';
import { withDpop } from './dpop-profile.ts';

// The parts of oidc-provider's API this launcher touches (the package ships no types).
interface ClientInstance {
  clientId: string;
}
interface SessionInstance {
  uid: string;
  accountId?: string;
  loginTs?: number;
}
interface KoaContextWithOIDC {
  oidc: {
    entities: { RefreshToken?: { accountId: string; sessionUid?: string }; Client?: ClientInstance };
    provider: { Session: { findByUid(uid: string): Promise<SessionInstance | undefined> } };
  };
}
type Configuration = Record<string, unknown>;
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: 'server_error', listener: (ctx: unknown, err: Error) => void): unknown;
}
const Provider = OidcProvider as new (issuer: string, configuration: Configuration) => Provider;

export interface StartOidcProviderOptions {
  /** Lifetime scale (see interop/scale.ts); default CI_SCALE (90 d → 12 s). */
  scale?: number;
  /** Instead of a scale: refresh-token lifetimes of this many seconds (wall-clock-mock/profile.ts withLifetimesOf). */
  lifetimes?: number;
  /** Default 0: a free port. */
  port?: number;
  /** Loopback only; default 127.0.0.1. */
  host?: string;
  /** The unscaled profile to implement; default telenorid-plus (node-oidc-provider with `defaults`). */
  profile?: Profile;
  /**
   * Serve node-oidc-provider with its own defaults for everything about refresh tokens, lifetimes
   * included (nothing scaled): the profile is then the expectation it is checked against, not a
   * configuration. Excludes `scale` and `lifetimes`.
   */
  defaults?: boolean;
  /**
   * Its DPoP feature on (features.dPoP, RFC 9449), serving the profile with every public refreshing
   * policy DPoP-bound and nonces demanded (dpop-profile.ts withDpop).
   */
  dpop?: boolean;
  /** Called with each unexpected error oidc-provider reports (`server_error`); they are also collected. */
  onServerError?: (error: Error) => void;
}

export interface RunningOidcProvider {
  issuer: string;
  /** The scaled profile this instance implements: the expectations to check it against. */
  profile: Profile;
  /** One client per policy, with the secret of the confidential ones. */
  clients: TargetFileClient[];
  /** devInteractions accepts any login and password; this is the pair the target uses. */
  users: { username: string; password: string }[];
  /** Unexpected errors oidc-provider reported (its `server_error` events). */
  serverErrors: Error[];
  close(): Promise<void>;
}

const epoch = () => Math.floor(Date.now() / 1000);

export async function startOidcProvider(options: StartOidcProviderOptions = {}): Promise<RunningOidcProvider> {
  const host = options.host ?? '127.0.0.1';
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host)) throw new Error(`host must be a loopback address, got ${host}`);
  if (options.defaults && (options.scale !== undefined || options.lifetimes !== undefined)) throw new Error('defaults excludes scale and lifetimes: its lifetimes are its own');
  const declared = options.profile ?? (await loadProfile(options.defaults ? 'node-oidc-provider' : 'telenorid-plus'));
  const base = options.dpop ? withDpop(declared) : declared;
  const profile = options.defaults
    ? base
    : options.lifetimes !== undefined
      ? withLifetimesOf(base, options.lifetimes)
      : scaleProfile(base, options.scale ?? CI_SCALE);

  const clients = clientsForProfile(profile, () => randomBytes(24).toString('base64url'));
  const policyOf = new Map<string, Policy>(clients.map((c) => [c.id, profile.policies[c.policy]!]));
  const metadata = clients.map((c) => ({
    client_id: c.id,
    ...(c.secret !== undefined && { client_secret: c.secret }),
    token_endpoint_auth_method: c.auth,
    application_type: isNativeClientType(policyOf.get(c.id)!) ? 'native' : 'web',
    grant_types: policyOf.get(c.id)!.grantTypes,
    response_types: ['code'],
    redirect_uris: [c.redirectUri],
    // senderConstraint dpop-required: every token request of the client needs a proof.
    ...(policyOf.get(c.id)!.senderConstraint === 'dpop-required' && { dpop_bound_access_tokens: true }),
  }));
  const dpop = Object.values(profile.policies).some(usesDpop);

  const lifetimeOf = (clientId: string): number => {
    const p = policyOf.get(clientId);
    return p && isRefreshPolicy(p) ? p.lifetimeSeconds : profile.accessTokenLifetimeSeconds;
  };
  const longest = Math.max(...[...policyOf.values()].filter(isRefreshPolicy).map((p) => p.lifetimeSeconds), profile.ssoSessionLifetimeSeconds);

  /** The SSO session a refresh token was issued in, if it is still active (not logged out, not expired). */
  const ssoSessionActive = async (ctx: KoaContextWithOIDC, sessionUid: string | undefined, accountId: string): Promise<boolean> => {
    if (!sessionUid) return false;
    const session: SessionInstance | undefined = await ctx.oidc.provider.Session.findByUid(sessionUid);
    return session?.accountId === accountId;
  };

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

  const deployment: Configuration = {
    adapter: createMemoryAdapter(),
    clients: metadata,
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: (_ctx: unknown, accountId: string) => ({ accountId, claims: () => ({ sub: accountId }) }),
    scopes: ['openid', profile.offlineAccessScope, ...profile.scopes],
    claims: {
      openid: ['sub'],
      profile: ['name', 'family_name', 'given_name', 'preferred_username', 'updated_at'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // RFC 9449 (--dpop); nonces (§8) where the profile declares them. Otherwise its default stays.
      ...(dpop && { dPoP: { enabled: true, ...(profile.dpopNonce && { nonceSecret: randomBytes(32), requireNonce: () => true }) } }),
    },
    ...(dpop && { enabledJWA: { dPoPSigningAlgValues: [...profile.dpopSigningAlgs] } }),
  };

  /** The profile's policies as configuration (the default mode): what `defaults` leaves out. */
  const refreshConfiguration: Configuration = {
    responseTypes: ['code'],
    // A profile whose refreshes fail once the SSO session ended: bind every token to the session
    // (it then also dies at logout). TelenorID+ ("no-new-refresh-token") keeps the default.
    ...(profile.refreshAfterSsoEnd === 'invalid_grant' && { expiresWithSession: async () => true }),
    ttl: {
      AccessToken: profile.accessTokenLifetimeSeconds,
      ClientCredentials: profile.accessTokenLifetimeSeconds,
      IdToken: profile.idTokenLifetimeSeconds,
      AuthorizationCode: 60,
      Interaction: 600,
      // Every refresh token it issues, at login or on rotation, lives the policy's lifetime.
      RefreshToken: (_ctx: unknown, _token: unknown, client: ClientInstance) => lifetimeOf(client.clientId),
      // Absolute from login: activity does not extend the SSO session (profile ssoSessionLifetimeSeconds).
      Session: (_ctx: unknown, session: SessionInstance) =>
        session.loginTs ? Math.max(1, session.loginTs + profile.ssoSessionLifetimeSeconds - epoch()) : profile.ssoSessionLifetimeSeconds,
      // The grant must outlive every token chain the checks build.
      Grant: longest * 10,
    },
    async rotateRefreshToken(ctx: KoaContextWithOIDC) {
      const { RefreshToken: token, Client: client } = ctx.oidc.entities;
      if (!token || !client) return false;
      const policy = policyOf.get(client.clientId);
      if (!policy || !isRefreshPolicy(policy) || !policy.rotation) return false;
      // "The client will only get a new refresh token if the SSO session still is active."
      if (profile.refreshAfterSsoEnd !== 'new-refresh-token') return ssoSessionActive(ctx, token.sessionUid, token.accountId);
      return true;
    },
  };
  const configuration: Configuration = options.defaults ? deployment : { ...deployment, ...refreshConfiguration };

  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const serverErrors: Error[] = [];
  let provider: Provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (e) {
    server.close();
    throw e;
  }
  provider.on('server_error', (_ctx: unknown, err: Error) => {
    serverErrors.push(err);
    options.onServerError?.(err);
  });
  server.on('request', provider.callback());

  let closed = false;
  return {
    issuer,
    profile,
    clients,
    users: [{ username: 'alice', password: 'any-password-works' }],
    serverErrors,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
