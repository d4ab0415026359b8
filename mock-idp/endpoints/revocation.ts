/** Token revocation (RFC 7009). Revoking a refresh token revokes its family and the grant's access tokens (§2.1). */
import { authenticateClient } from '../client-auth.ts';
import { hashToken } from '../crypto.ts';
import { invalidGrant, invalidRequest } from '../errors.ts';
import { empty, readForm, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';

export async function revocation(ctx: IdpContext, request: IdpRequest): Promise<PlainResponse> {
  requireMethod(request, 'POST');
  const params = await readForm(request);
  const { client } = authenticateClient(request, params, ctx.clients);
  const token = params.get('token');
  if (!token) throw invalidRequest('token is required');
  const hash = hashToken(token);
  const now = ctx.clock.now();
  // The hint only orders the search (§2.1), so both kinds are looked up. A token of another client is
  // refused (§2.1: "If this validation fails, the request is refused"; RFC 6749 §5.2 invalid_grant:
  // "issued to another client"); an unknown or invalid token is answered 200 (§2.2).
  const rt = await ctx.store.refreshToken(hash);
  const at = await ctx.store.accessToken(hash);
  const owner = rt?.clientId ?? at?.clientId;
  if (owner !== undefined && owner !== client.id) throw invalidGrant('the token was issued to another client');
  const family = rt && (await ctx.store.family(rt.familyId));
  for (const f of family ? ctx.behaviour.revokedByRevocation(family) : []) await ctx.store.revokeFamily(f, now, 'revoked by the client (RFC 7009)');
  if (at) await ctx.store.revokeAccessToken(at.hash, now);
  return empty(200, { 'cache-control': 'no-store', pragma: 'no-cache' });
}
