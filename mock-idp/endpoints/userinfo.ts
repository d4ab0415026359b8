/** UserInfo endpoint (OIDC Core §5.3); bearer-token errors per RFC 6750 §3.1. */
import { hashToken } from '../crypto.ts';
import { OAuthError } from '../errors.ts';
import { json, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';

function bearerError(code: 'invalid_token' | 'insufficient_scope' | 'invalid_request', description: string, status: number): OAuthError {
  return new OAuthError(code, description, status, {
    'www-authenticate': `Bearer realm="mock-idp", error="${code}", error_description="${description}"`,
  });
}

export function userinfo(ctx: IdpContext, request: IdpRequest): PlainResponse {
  requireMethod(request, 'GET', 'POST');
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!m) {
    return json({ error: 'invalid_token', error_description: 'bearer access token required' }, 401, {
      'www-authenticate': 'Bearer realm="mock-idp"',
    });
  }
  const record = ctx.store.accessToken(hashToken(m[1]!));
  const now = ctx.clock.now();
  if (!record || record.revokedAt !== undefined || now >= record.expiresAt || record.sub === undefined) {
    throw bearerError('invalid_token', 'access token is unknown, expired or revoked', 401);
  }
  if (!record.scope.includes('openid')) throw bearerError('insufficient_scope', 'the openid scope is required', 403);
  const user = ctx.users.find((u) => u.sub === record.sub);
  if (!user) throw bearerError('invalid_token', 'the user no longer exists', 401);
  // A configured user's own claims first: the standard ones and sub are the mock's to say.
  const claims: Record<string, unknown> = { ...user.claims, sub: user.sub };
  if (record.scope.includes('profile')) Object.assign(claims, present({ name: user.name, given_name: user.given_name, family_name: user.family_name, preferred_username: user.username }));
  if (record.scope.includes('email') && user.email !== undefined) Object.assign(claims, { email: user.email, email_verified: true });
  if (record.scope.includes('phone')) Object.assign(claims, present({ phone_number: user.phone_number }));
  return json(claims, 200, { 'cache-control': 'no-store' });
}

/** The claims that have a value: one a configured user left out is not sent at all (OIDC Core §5.3.2). */
function present(claims: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(claims).filter((e): e is [string, string] => e[1] !== undefined));
}
