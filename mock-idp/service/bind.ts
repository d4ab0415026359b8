/**
 * Where the service may listen, and what that requires. Loopback by default: the mock mints tokens
 * for anyone and its test mode logs in any user by name. Another address is opt-in (allowRemote),
 * and then the control API (which moves the clock and ends sessions) needs an admin token that the
 * operator chose, never one printed on a terminal a neighbour might read in CI logs.
 */
import { isIP } from 'node:net';
import { ServiceConfigError } from './config.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;
/** Long enough that guessing it over the network is hopeless. */
export const MIN_REMOTE_ADMIN_TOKEN_CHARS = 16;

export interface BindInput {
  host: string;
  allowRemote: boolean;
  testMode: boolean;
  adminToken?: string | undefined;
  issuer?: string | undefined;
  https: boolean;
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** Refuses a bind the operator did not ask for in so many words, and an --issuer the server cannot be. */
export function checkBind(input: BindInput): void {
  const fail = (m: string): never => {
    throw new ServiceConfigError('CONFIG_INVALID', m);
  };
  if (!isLoopback(input.host)) {
    if (isIP(input.host) === 0) fail(`--host must be an IP address or localhost, got ${JSON.stringify(input.host)}`);
    if (!input.allowRemote) fail(`--host ${input.host} is not a loopback address: add --allow-remote to serve other machines (anyone who reaches it can get tokens)`);
    if (input.testMode && input.adminToken === undefined) {
      fail('--allow-remote with test mode needs an admin token you choose for the control API: --admin-token TOKEN or MOCK_IDP_ADMIN_TOKEN (or --no-test-mode)');
    }
    if (input.testMode && input.adminToken!.length < MIN_REMOTE_ADMIN_TOKEN_CHARS) {
      fail(`--admin-token must be at least ${MIN_REMOTE_ADMIN_TOKEN_CHARS} characters when other machines can reach the control API`);
    }
    if (isWildcard(input.host) && input.issuer === undefined) {
      fail(`--host ${input.host} listens on every address: --issuer URL says the one clients use (e.g. ${input.https ? 'https' : 'http'}://mock-idp.internal:4455)`);
    }
  }
  if (input.issuer !== undefined) {
    let url: URL;
    try {
      url = new URL(input.issuer.replace('{port}', '1'));
    } catch {
      return fail(`--issuer must be an absolute URL, got ${JSON.stringify(input.issuer)}`);
    }
    const want = input.https ? 'https:' : 'http:';
    if (url.protocol !== want) fail(`--issuer ${input.issuer}: the server speaks ${want.slice(0, -1)}${input.https ? '' : ' (add --https for https)'}`);
    if (url.search || url.hash || url.username || url.password) fail(`--issuer ${input.issuer}: no query, fragment or credentials in an issuer (OIDC Discovery §4.3)`);
  }
}
