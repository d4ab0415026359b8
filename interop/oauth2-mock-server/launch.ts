/**
 * oauth2-mock-server 8 (axa-group) on loopback: a known-lenient target. It issues tokens to any
 * client, its authorization endpoint redirects straight back with a code (no login page), every
 * refresh token works forever and a refresh always returns a new one, revocation is a no-op,
 * introspection says active:true for anything, and end_session just redirects to
 * post_logout_redirect_uri (which it requires). It is used as it comes: nothing is configured
 * beyond a signing key.
 */
import { OAuth2Server } from 'oauth2-mock-server';
import { loadProfile, type Profile } from '../../mock-idp/profile/index.ts';
import { clientsForProfile } from '../clients.ts';
import { CI_SCALE, scaleProfile, type TargetFileClient } from '../scale.ts';

export interface StartOauth2MockServerOptions {
  scale?: number;
  port?: number;
  host?: string;
  /** The unscaled profile its target is checked against; default telenorid-plus. */
  profile?: Profile;
}

export interface RunningOauth2MockServer {
  issuer: string;
  profile: Profile;
  /** Client ids of the target: it accepts any, so these only name the policies. */
  clients: TargetFileClient[];
  users: { username: string; password: string }[];
  /** Where end_session redirects: it refuses a logout without post_logout_redirect_uri. */
  postLogoutRedirectUri: string;
  close(): Promise<void>;
}

export async function startOauth2MockServer(options: StartOauth2MockServerOptions = {}): Promise<RunningOauth2MockServer> {
  const host = options.host ?? '127.0.0.1';
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host)) throw new Error(`host must be a loopback address, got ${host}`);
  const profile = scaleProfile(options.profile ?? (await loadProfile('telenorid-plus')), options.scale ?? CI_SCALE);
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(options.port ?? 0, host);
  // It names itself http://localhost:PORT; the address it listens on is the one to use (localhost may resolve to ::1).
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}`;
  server.issuer.url = issuer;
  let closed = false;
  return {
    issuer,
    profile,
    // It never checks a secret: any value does.
    clients: clientsForProfile(profile, () => 'any-secret-works'),
    users: [{ username: 'dummy', password: 'dummy-password' }],
    postLogoutRedirectUri: 'https://client.example/logged-out',
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
    },
  };
}
