/** grant_type=client_credentials (RFC 6749 §4.4): confidential clients only, never a refresh token (§4.4.3). */
import { invalidScope, unauthorizedClient } from '../errors.ts';
import { scopeList, type Params } from '../http.ts';
import type { IdpContext } from '../context.ts';
import type { MockClient } from '../fixtures.ts';
import type { ValidProof } from '../dpop.ts';
import { issueAccessToken, startFamily } from '../tokens.ts';

export const grantType = 'client_credentials';

export async function handler(ctx: IdpContext, client: MockClient, params: Params, proof?: ValidProof): Promise<Record<string, unknown>> {
  if (!client.confidential) throw unauthorizedClient('client_credentials requires a confidential client');
  const profile = ctx.behaviour.profile;
  const requested = scopeList(params.get('scope'));
  // No end-user: openid and offline_access have no meaning here and are dropped (OIDC Core §11).
  const userScopes = new Set(['openid', profile.offlineAccessScope]);
  const unknown = requested.filter((s) => !userScopes.has(s) && !profile.scopes.includes(s));
  if (unknown.length) throw invalidScope(`unknown scope: ${unknown.join(' ')}`);
  const scope = requested.filter((s) => !userScopes.has(s));
  const policy = profile.policies[client.policy]!;
  const response: Record<string, unknown> = { ...(await issueAccessToken(ctx, { client, scope, jkt: proof?.jkt })), scope: scope.join(' ') };
  const issue = ctx.behaviour.issuesRefreshToken({ policy, grantType, scope: requested, now: ctx.clock.now() });
  if (issue.issue) {
    const family = await startFamily(ctx, { client, sub: `client:${client.id}`, sid: '', scope, authTime: ctx.clock.now(), issue });
    response.refresh_token = family.token;
  }
  return response;
}
