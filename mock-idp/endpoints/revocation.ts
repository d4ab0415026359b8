/** Token revocation (RFC 7009). Revoking a refresh token revokes its family and the grant's access tokens (§2.1). */
import { authenticateClient } from '../client-auth.ts';
import { hashToken } from '../crypto.ts';
import { invalidRequest } from '../errors.ts';
import { readForm, requireMethod } from '../http.ts';
import type { IdpContext } from '../context.ts';

export async function revocation(ctx: IdpContext, request: Request): Promise<Response> {
  requireMethod(request, 'POST');
  const params = await readForm(request);
  const { client } = authenticateClient(request, params, ctx.clients);
  const token = params.get('token');
  if (!token) throw invalidRequest('token is required');
  const hash = hashToken(token);
  const now = ctx.clock.now();
  // The hint only orders the search (§2.1); both kinds are looked up. Tokens of other clients are
  // left alone and, like unknown tokens, answered with 200 (§2.2): nothing is revealed.
  const rt = ctx.store.refreshTokens.get(hash);
  if (rt && rt.clientId === client.id && ctx.behaviour.revocationRevokesFamily) {
    const family = ctx.store.families.get(rt.familyId);
    if (family) ctx.store.revokeFamily(family, now, 'revoked by the client (RFC 7009)');
  }
  const at = ctx.store.accessTokens.get(hash);
  if (at && at.clientId === client.id && at.revokedAt === undefined) at.revokedAt = now;
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' } });
}
