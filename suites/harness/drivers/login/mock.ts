/**
 * Login at the mock IdP: its test-mode shortcut skips the login page when the authorization request
 * carries `login_hint=<username>`, sets the SSO cookie `mock_idp_sso` and redirects straight to the
 * redirect_uri with `code` and `state`. Any page instead of that redirect is an error.
 */
import { CookieJar } from 'tough-cookie';
import { LoginError } from '../../errors.ts';
import type { Http } from '../../http.ts';
import { browse, describePage, safeUrl, sameEndpoint, type Page } from '../browse.ts';
import { finishLogin, type LoginDriver, type LoginInput, type LoginResult } from './types.ts';

export interface MockLoginOptions {
  /** A user of the mock IdP. The runner resolves the target's default (the mock's first user). */
  username: string;
  maxHops?: number;
}

export function createMockLogin(options: MockLoginOptions): LoginDriver {
  return { kind: 'mock', login: (http, input) => mockLogin(http, input, options) };
}

export async function mockLogin(http: Http, input: LoginInput, options: MockLoginOptions): Promise<LoginResult> {
  const jar = input.cookieJar ?? new CookieJar();
  const start = new URL(input.authorizationUrl);
  start.searchParams.set('login_hint', options.username);
  const outcome = await browse<never>({
    http,
    jar,
    start: { method: 'GET', url: start.href },
    isDestination: (u) => sameEndpoint(u, input.redirectUri),
    onPage: (page: Page) => {
      throw new LoginError(
        'LOGIN_UNEXPECTED_RESPONSE',
        `mock login as "${options.username}": expected a redirect to the redirect_uri, got ${describePage(page)} at ${safeUrl(http, page.url)}`,
        { url: safeUrl(http, page.url), status: page.status },
      );
    },
    ...(options.maxHops !== undefined && { maxHops: options.maxHops }),
    ...(input.signal && { signal: input.signal }),
  });
  return finishLogin(http, outcome, input, jar, 'mock login');
}
