/** grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3). */
import { hashToken, s256 } from '../crypto.ts';
import { OAuthError, invalidGrant, invalidRequest } from '../errors.ts';
import type { ValidProof } from '../dpop.ts';
import { senderBinding } from '../profile/model.ts';
import type { IdpContext } from '../context.ts';
import type { Params } from '../http.ts';
import type { MockClient } from '../fixtures.ts';
import { issueAccessToken, issueIdToken, refreshExpiresIn, startFamily } from '../tokens.ts';

export const grantType = 'authorization_code';

export async function handler(ctx: IdpContext, client: MockClient, params: Params, proof?: ValidProof): Promise<Record<string, unknown>> {
  const code = params.get('code');
  if (!code) throw invalidRequest('code is required');
  const redirectUri = params.get('redirect_uri');
  const verifier = params.get('code_verifier');
  const now = ctx.clock.now();
  const record = await ctx.store.code(hashToken(code));
  if (!record) throw invalidGrant('unknown authorization code');
  if (record.clientId !== client.id) throw invalidGrant('authorization code was issued to another client');
  if (record.usedAt !== undefined) {
    // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
    await ctx.store.revokeCodeIssue(record.hash, now, 'authorization code was reused');
    throw invalidGrant('authorization code was already used');
  }
  if (now >= record.expiresAt) throw invalidGrant('authorization code is expired');
  if (redirectUri !== record.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
  if (record.codeChallenge !== undefined) {
    if (!verifier) throw invalidGrant('code_verifier is required (PKCE)');
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) throw invalidGrant('code_verifier is malformed (RFC 7636 §4.1)');
    if (s256(verifier) !== record.codeChallenge) throw invalidGrant('code_verifier does not match the code_challenge');
  } else if (verifier !== undefined) {
    throw invalidGrant('code_verifier sent but no code_challenge was given');
  }
  const policy = ctx.behaviour.profile.policies[client.policy]!;
  // RFC 9449 §5: the refresh model says whether the refresh token is bound to the proof's key (before
  // the code is used up: a refused exchange may be retried with a proof).
  const binding = senderBinding(policy, proof?.jkt);
  if (binding.kind === 'refuse') throw new OAuthError(binding.error, binding.reason);
  if (!(await ctx.store.consumeCode(record.hash, now))) {
    // A concurrent exchange of the code won: this one is its second use (RFC 6749 §4.1.2), as above. What
    // the winner has not recorded yet is revoked when it records it (store.ts recordCodeIssue).
    await ctx.store.revokeCodeIssue(record.hash, now, 'authorization code was reused');
    throw invalidGrant('authorization code was already used');
  }

  const response: Record<string, unknown> = {};
  let familyId: string | undefined;
  let refreshExpiresAt: number | undefined;
  const issue = ctx.behaviour.issuesRefreshToken({ policy, grantType, scope: record.scope, now });
  if (issue.issue) {
    const family = await startFamily(ctx, { client, sub: record.sub, sid: record.sid, scope: record.scope, authTime: record.authTime, issue, ...(binding.kind === 'bound' && { jkt: binding.jkt }) });
    familyId = family.familyId;
    refreshExpiresAt = family.expiresAt;
    response.refresh_token = family.token;
  }
  const at = await issueAccessToken(ctx, {
    client,
    sub: record.sub,
    scope: record.scope,
    sid: record.sid,
    ...(familyId !== undefined && { familyId }),
    jkt: proof?.jkt,
  });
  // A reuse of the code since consumeCode finds what this records, or this finds its mark (store.ts).
  await ctx.store.recordCodeIssue(record.hash, { ...(familyId !== undefined && { familyId }), accessTokenHash: hashToken(at.access_token) });
  Object.assign(response, at, { scope: record.scope.join(' ') }, refreshExpiresIn(ctx, refreshExpiresAt));
  if (record.scope.includes('openid')) {
    response.id_token = await issueIdToken(ctx, {
      client,
      sub: record.sub,
      authTime: record.authTime,
      sid: record.sid,
      ...(record.nonce !== undefined && { nonce: record.nonce }),
    });
  }
  return response;
}
