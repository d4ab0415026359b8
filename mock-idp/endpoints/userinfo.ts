/** UserInfo endpoint (OIDC Core §5.3); bearer-token errors per RFC 6750 §3.1. */
import { hashToken } from '../crypto.ts';
import { OAuthError } from '../errors.ts';
import { json, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';
import { dpopChallenge } from '../dpop.ts';
import { requestProof } from './request-proof.ts';

/**
 * RFC 9449 §7: a DPoP-bound access token comes with the DPoP scheme and a proof of its key, carrying
 * the token's hash (ath); a bound token sent as Bearer, or a bearer token sent as DPoP, is refused.
 */
async function requireDpopBinding(ctx: IdpContext, request: IdpRequest, url: URL, token: string, scheme: string, jkt: string | undefined): Promise<void> {
  const algs = ctx.behaviour.profile.dpopSigningAlgs;
  const refuse = (description: string) =>
    new OAuthError('invalid_token', description, 401, { 'www-authenticate': dpopChallenge('invalid_token', description, algs) });
  if (jkt === undefined) throw refuse('the access token is not DPoP-bound: use the Bearer scheme');
  if (scheme !== 'dpop') throw refuse('the access token is DPoP-bound: use the DPoP scheme with a proof');
  const proof = await requestProof(ctx, request, url, { nonce: false, accessToken: token });
  if (!proof) throw new OAuthError('invalid_dpop_proof', 'a DPoP proof is required', 401, { 'www-authenticate': dpopChallenge('invalid_dpop_proof', 'a DPoP proof is required', algs) });
  if (proof.jkt !== jkt) throw refuse('the DPoP proof key is not the one the access token is bound to');
}

function bearerError(code: 'invalid_token' | 'insufficient_scope' | 'invalid_request', description: string, status: number): OAuthError {
  return new OAuthError(code, description, status, {
    'www-authenticate': `Bearer realm="mock-idp", error="${code}", error_description="${description}"`,
  });
}

export async function userinfo(ctx: IdpContext, request: IdpRequest, url: URL): Promise<PlainResponse> {
  requireMethod(request, 'GET', 'POST');
  const m = /^(Bearer|DPoP) ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '');
  if (!m) {
    return json({ error: 'invalid_token', error_description: 'bearer access token required' }, 401, {
      'www-authenticate': 'Bearer realm="mock-idp"',
    });
  }
  const scheme = m[1]!.toLowerCase();
  const token = m[2]!;
  const record = await ctx.store.accessToken(hashToken(token));
  const now = ctx.clock.now();
  if (!record || record.revokedAt !== undefined || now >= record.expiresAt || record.sub === undefined) {
    throw bearerError('invalid_token', 'access token is unknown, expired or revoked', 401);
  }
  if (record.jkt !== undefined || scheme === 'dpop') await requireDpopBinding(ctx, request, url, token, scheme, record.jkt);
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
