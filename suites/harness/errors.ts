/**
 * One error base class with a `code`; each subclass narrows the code to its own family,
 * so callers can `switch (err.code)` (the jose pattern).
 *
 * Two kinds of trouble, kept apart (the oauth4webapi pattern):
 * - SetupError: the target file or the environment is broken, the run cannot start (CLI exit 2);
 * - everything else is raised while a check runs and the check decides what it means
 *   (a conformance failure, a skip, or an error of the harness).
 */

export class HarnessError<C extends string = string> extends Error {
  override readonly name: string = 'HarnessError';
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type SetupErrorCode =
  | 'TARGET_NOT_FOUND'
  | 'TARGET_INVALID'
  | 'ENV_MISSING'
  | 'PROFILE_UNKNOWN'
  | 'POLICY_UNKNOWN'
  | 'ISSUER_UNREACHABLE'
  | 'DISCOVERY_INVALID'
  /** An operation needs an endpoint that neither discovery nor the target's `endpoints` gave. */
  | 'ENDPOINT_MISSING';

/** The run cannot start: the message is one line, fit for `error: <message>` and exit 2. */
export class SetupError extends HarnessError<SetupErrorCode> {
  override readonly name = 'SetupError';
}

export type HttpErrorCode = 'HTTP_TIMEOUT' | 'HTTP_NETWORK' | 'HTTP_BODY_TOO_LARGE';

/** No usable HTTP response: the message names method and (redacted) URL. */
export class HttpError extends HarnessError<HttpErrorCode> {
  override readonly name = 'HttpError';
}

export type LoginErrorCode =
  /** The login form came back after the credentials were submitted. */
  | 'LOGIN_REJECTED'
  | 'LOGIN_TOO_MANY_HOPS'
  | 'LOGIN_REDIRECT_LOOP'
  /** The IdP showed a page the driver cannot act on (no form, an error status, ...). */
  | 'LOGIN_UNEXPECTED_RESPONSE'
  /** The redirect to redirect_uri carried `error` (RFC 6749 §4.1.2.1). */
  | 'LOGIN_AUTHORIZATION_ERROR'
  | 'LOGIN_STATE_MISMATCH'
  | 'LOGIN_NO_CODE'
  /** The browser driver cannot start a browser (no Chromium at the path, playwright-core not installed). */
  | 'LOGIN_BROWSER_UNAVAILABLE'
  /** The browser driver saw no redirect to redirect_uri in time, or a step found no element. */
  | 'LOGIN_TIMEOUT'
  /** The manual driver has no terminal to ask a person (stdin is not a TTY, or it closed). */
  | 'LOGIN_NOT_INTERACTIVE'
  /** The login would have sent a request (credentials) to an origin neither the issuer's nor in login.allowedOrigins. */
  | 'LOGIN_FOREIGN_ORIGIN';

export interface LoginErrorDetails {
  /** The last URL the driver reached (redacted when it went through a recorder). */
  url?: string;
  status?: number;
  /** From the authorization error response. */
  error?: string;
  error_description?: string;
}

export class LoginError extends HarnessError<LoginErrorCode> {
  override readonly name = 'LoginError';
  constructor(
    code: LoginErrorCode,
    message: string,
    readonly details: LoginErrorDetails = {},
  ) {
    super(code, message);
  }
}

export type LogoutErrorCode =
  | 'LOGOUT_TOO_MANY_HOPS'
  | 'LOGOUT_REDIRECT_LOOP'
  | 'LOGOUT_UNEXPECTED_RESPONSE'
  /** The end-session flow ran, but nothing shows the SSO session ended (see drivers/logout/end-session.ts). */
  | 'LOGOUT_UNCONFIRMED'
  /** The target declares no logout (`logout.driver` "none"), yet a check asked for one. */
  | 'LOGOUT_UNAVAILABLE';

export class LogoutError extends HarnessError<LogoutErrorCode> {
  override readonly name = 'LogoutError';
  constructor(
    code: LogoutErrorCode,
    message: string,
    readonly details: { url?: string; status?: number } = {},
  ) {
    super(code, message);
  }
}

/** The mock IdP's control API refused or answered nonsense. */
export class ControlError extends HarnessError<'CONTROL_FAILED'> {
  override readonly name = 'ControlError';
}

/** The check cannot run here (e.g. a real-time wait longer than the target allows): report it as skipped. */
export class SkipError extends HarnessError<'SKIP_WAIT_TOO_LONG'> {
  override readonly name = 'SkipError';
}
