/** The token endpoint (RFC 6749 §3.2): named steps, then the grant's handler. */
import { authenticateClient } from '../client-auth.ts';
import { OAuthError, invalidRequest, unauthorizedClient } from '../errors.ts';
import { json, readForm, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';
import * as authorizationCode from '../grants/authorization-code.ts';
import * as refreshToken from '../grants/refresh-token.ts';
import * as clientCredentials from '../grants/client-credentials.ts';

const grants = new Map([authorizationCode, refreshToken, clientCredentials].map((g) => [g.grantType, g.handler]));

export async function token(ctx: IdpContext, request: IdpRequest): Promise<PlainResponse> {
  requireMethod(request, 'POST');
  const params = await readForm(request);
  const grantType = params.get('grant_type');
  if (!grantType) throw invalidRequest('grant_type is required');
  const handler = grants.get(grantType);
  if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  const auth = authenticateClient(request, params, ctx.clients, ctx.behaviour.confidentialMustAuthenticate(grantType));
  if (!(auth.client.grantTypes as string[]).includes(grantType)) {
    throw unauthorizedClient(`client is not allowed the ${grantType} grant`);
  }
  const body = await handler(ctx, auth.client, params);
  const headers: Record<string, string> = ctx.behaviour.noStore ? { 'cache-control': 'no-store', pragma: 'no-cache' } : {};
  const scope = params.get('scope');
  const sent = ctx.behaviour.tokenResponse({ grantType, ...(scope !== undefined && { requestedScope: scope }), status: 200, headers, body });
  return json(sent.body, sent.status, sent.headers);
}
