/** What every logout driver takes and gives: the session of a login in, the SSO session ended. */
import type { CookieJar } from 'tough-cookie';
import type { Http } from '../../http.ts';

export interface LogoutInput {
  /** The user whose session ends (mock driver). */
  username?: string;
  /** The ID token of the login (end-session driver, `id_token_hint`). */
  idToken?: string;
  /** Sent as `client_id` (RP-Initiated Logout §2), useful without id_token_hint. */
  clientId?: string;
  /** The browser session of the login (end-session driver). */
  cookieJar?: CookieJar;
  /** The client's redirect URI: where a prompt=none authorization request confirms the logout (end-session driver). */
  redirectUri?: string;
  /** Echoed back at the post_logout_redirect_uri. */
  state?: string;
  signal?: AbortSignal;
}

export interface LogoutResult {
  /** `redirected`: the IdP sent the browser to post_logout_redirect_uri; `page`: it ended on its own page; `control`: the mock's control API did it. */
  outcome: 'redirected' | 'page' | 'control';
  /** The last URL (redacted), if a browser flow ran. */
  url?: string;
  /** The `state` at the post_logout_redirect_uri, if any. */
  state?: string;
  /**
   * What shows the session ended (end-session driver): `login_required` for a prompt=none authorization
   * request afterwards, or, failing that proof, the redirect to the registered post_logout_redirect_uri.
   */
  confirmedBy?: 'login_required' | 'post_logout_redirect_uri';
}

export interface LogoutDriver {
  readonly kind: 'mock' | 'end-session' | 'none';
  logout(http: Http, input: LogoutInput): Promise<LogoutResult>;
}
