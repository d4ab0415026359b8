/**
 * Logout at the mock IdP: its control API ends the user's SSO session
 * (`POST ${issuer}/__control/sso/end` `{ username }`), or the embedded mock's `control` does it in-process.
 */
import type { Http } from '../../http.ts';
import { createControlClient, type SsoControl } from '../control.ts';
import type { LogoutDriver, LogoutInput, LogoutResult } from './types.ts';

export type MockLogoutOptions =
  /** The embedded mock's control object. */
  | { control: SsoControl }
  /** A running mock server, reached with the check's http (so the call is recorded). */
  | { issuer: string; adminToken: string };

export function createMockLogout(options: MockLogoutOptions): LogoutDriver {
  return { kind: 'mock', logout: (http, input) => mockLogout(http, input, options) };
}

export async function mockLogout(http: Http, input: LogoutInput, options: MockLogoutOptions): Promise<LogoutResult> {
  if (!input.username) throw new TypeError('mock logout needs the username whose SSO session to end');
  const control = 'control' in options ? options.control : createControlClient({ http, ...options });
  await control.endSsoSession({ username: input.username });
  return { outcome: 'control' };
}
