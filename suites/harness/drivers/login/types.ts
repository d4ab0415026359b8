/** What every login driver takes and gives: an authorization URL in, an authorization code out. */
import type { CookieJar } from 'tough-cookie';
import { LoginError } from '../../errors.ts';
import type { Http } from '../../http.ts';
import { safeUrl, type Arrival, type BrowseOutcome } from '../browse.ts';

export interface LoginInput {
  /** From buildAuthorizationUrl. */
  authorizationUrl: string;
  /** Where the code arrives; never requested. */
  redirectUri: string;
  /** The `state` sent; the response must echo it (RFC 6749 §4.1.2). */
  state: string;
  /** Continue an existing browser session (SSO); default: a fresh jar. */
  cookieJar?: CookieJar;
  signal?: AbortSignal;
}

export interface LoginResult {
  code: string;
  state: string;
  /** The browser session after login (SSO cookies): for a later login or an end-session logout. */
  cookieJar: CookieJar;
  /** All parameters of the authorization response (e.g. `iss`, RFC 9207). */
  params: Record<string, string>;
  via: Arrival['via'];
  /** Requests made. */
  hops: number;
}

export interface LoginDriver {
  readonly kind: 'mock' | 'form' | 'browser' | 'manual';
  login(http: Http, input: LoginInput): Promise<LoginResult>;
}

/**
 * Reads the authorization response at the redirect_uri (RFC 6749 §4.1.2 / §4.1.2.1):
 * `error` first, then `state`, then `code`. Registers the code as a secret.
 */
export function readAuthorizationResponse(
  http: Http,
  arrival: Arrival,
  input: LoginInput,
  jar: CookieJar,
  hops: number,
): LoginResult {
  const p = arrival.params;
  const url = safeUrl(http, arrival.url);
  const error = p.get('error');
  if (error !== null) {
    const description = p.get('error_description') ?? undefined;
    throw new LoginError(
      'LOGIN_AUTHORIZATION_ERROR',
      `authorization failed: error=${error}${description ? ` (${description})` : ''} at the redirect_uri`,
      { url, error, ...(description !== undefined && { error_description: description }) },
    );
  }
  const state = p.get('state');
  if (state !== input.state) {
    throw new LoginError('LOGIN_STATE_MISMATCH', `authorization response "state" ${JSON.stringify(state)} does not match the state sent`, { url });
  }
  const code = p.get('code');
  if (!code) throw new LoginError('LOGIN_NO_CODE', `authorization response at the redirect_uri has no "code"`, { url });
  http.recorder?.addSecret(code, 'code');
  return { code, state, cookieJar: jar, params: Object.fromEntries(p), via: arrival.via, hops };
}

/**
 * The end of a login's browse: the authorization response at the redirect_uri, or the typed error
 * for a redirect loop or too many hops. `who` names the driver in messages.
 */
export function finishLogin(http: Http, outcome: BrowseOutcome<never>, input: LoginInput, jar: CookieJar, who: string): LoginResult {
  switch (outcome.kind) {
    case 'arrived':
      return readAuthorizationResponse(http, outcome.arrival, input, jar, outcome.hops);
    case 'loop':
      throw new LoginError('LOGIN_REDIRECT_LOOP', `${who}: redirect loop at ${outcome.url}`, { url: outcome.url });
    case 'too-many-hops':
      throw new LoginError('LOGIN_TOO_MANY_HOPS', `${who}: no redirect to the redirect_uri after ${outcome.hops} requests (last: ${outcome.url})`, {
        url: outcome.url,
      });
    case 'stopped':
      return outcome.value;
  }
}
