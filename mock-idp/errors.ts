/** OAuth errors as values (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1), rendered as RFC-shaped JSON. */

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_response_type'
  | 'access_denied'
  | 'login_required'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'not_found'
  | 'method_not_allowed';

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    // An expected outcome, thrown for control flow on every refused request: no stack trace to
    // capture (capturing one was a tenth of the cost of a refused refresh).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${code}: ${description}`);
    Error.stackTraceLimit = limit;
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
export const unauthorizedClient = (d: string) => new OAuthError('unauthorized_client', d);

/** RFC 6749 §5.2: 401 and WWW-Authenticate when the client used the Authorization header. */
export function invalidClient(description: string, usedAuthorizationHeader: boolean): OAuthError {
  return new OAuthError('invalid_client', description, 401, {
    'www-authenticate': usedAuthorizationHeader ? 'Basic realm="mock-idp", error="invalid_client"' : 'Basic realm="mock-idp"',
  });
}

/** Error descriptions are restricted to %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2). */
export function safeDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 300);
}
