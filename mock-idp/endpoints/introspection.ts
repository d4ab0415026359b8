/**
 * Token introspection (RFC 7662): authenticated confidential clients; inactive tokens are just {active:false}.
 * Refresh tokens are described only where the profile's introspection covers them.
 * A client learns only about tokens issued to it, unless it is declared a resource server (§4: the
 * endpoint must not tell a client about tokens it has no business with); others get {active:false}.
 */
import { authenticateClient } from '../client-auth.ts';
import { hashToken } from '../crypto.ts';
import { invalidClient, invalidRequest } from '../errors.ts';
import { jsonNoStore, readForm, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';
import { introspects } from '../profile/model.ts';

export async function introspection(ctx: IdpContext, request: IdpRequest): Promise<PlainResponse> {
  requireMethod(request, 'POST');
  const params = await readForm(request);
  const auth = authenticateClient(request, params, ctx.clients);
  // RFC 7662 §2.1: the endpoint MUST require authorization; a public client proves nothing.
  if (!auth.authenticated) throw invalidClient('introspection requires an authenticated confidential client', request.headers.has('authorization'));
  const token = params.get('token');
  if (!token) throw invalidRequest('token is required');
  const hash = hashToken(token);
  const now = ctx.clock.now();
  const caller = auth.client;
  const mayKnow = (clientId: string) => clientId === caller.id || caller.resourceServer === true;

  const at = await ctx.store.accessToken(hash);
  if (at && mayKnow(at.clientId) && ctx.behaviour.accessTokenActive(at) && now < at.expiresAt) {
    return jsonNoStore({
      active: true,
      token_type: 'Bearer',
      scope: at.scope.join(' '),
      client_id: at.clientId,
      ...(at.sub !== undefined && { sub: at.sub }),
      iat: at.issuedAt,
      exp: at.expiresAt,
      iss: ctx.issuer,
    });
  }
  // RFC 7662 §2.2: a token type the endpoint does not cover (profile introspection "access-tokens") is answered inactive.
  if (!introspects(ctx.behaviour.profile, 'refresh_token')) return jsonNoStore({ active: false });
  const rt = await ctx.store.refreshToken(hash);
  const family = rt ? await ctx.store.family(rt.familyId) : undefined;
  if (rt && family && mayKnow(rt.clientId) && now < rt.expiresAt) {
    if (ctx.behaviour.refreshTokenActive(rt, family)) {
      return jsonNoStore({
        active: true,
        token_type: 'refresh_token',
        scope: family.scope.join(' '),
        client_id: rt.clientId,
        sub: family.sub,
        iat: rt.issuedAt,
        exp: rt.expiresAt,
        iss: ctx.issuer,
      });
    }
  }
  return jsonNoStore({ active: false });
}
