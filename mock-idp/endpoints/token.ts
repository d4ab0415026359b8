/** The token endpoint (RFC 6749 §3.2): named steps, then the grant's handler. */
import { authenticateClient } from '../client-auth.ts';
import { OAuthError, invalidRequest, unauthorizedClient } from '../errors.ts';
import type { ValidProof } from '../dpop.ts';
import { requestProof } from './request-proof.ts';
import { json, readForm, requireMethod, type IdpRequest, type Params, type PlainResponse } from '../http.ts';
import { usesDpop } from '../profile/model.ts';
import type { IdpContext } from '../context.ts';
import type { MockClient } from '../fixtures.ts';
import * as authorizationCode from '../grants/authorization-code.ts';
import * as refreshToken from '../grants/refresh-token.ts';
import * as clientCredentials from '../grants/client-credentials.ts';

const grants = new Map<string, GrantHandler>([authorizationCode, refreshToken, clientCredentials].map((g) => [g.grantType, g.handler]));

/** A grant's handler: the authenticated client, the form, and the request's valid DPoP proof (RFC 9449), if any. */
export type GrantHandler = (ctx: IdpContext, client: MockClient, params: Params, proof: ValidProof | undefined) => Promise<Record<string, unknown>>;

export async function token(ctx: IdpContext, request: IdpRequest, url: URL): Promise<PlainResponse> {
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
  // RFC 9449: only a client whose policy declares a sender constraint uses DPoP; for the others the
  // mock is a server without DPoP and ignores the header (§5: their tokens stay bearer tokens).
  const policy = ctx.behaviour.profile.policies[auth.client.policy]!;
  const dpop = usesDpop(policy);
  const demandNonce = dpop && ctx.behaviour.profile.dpopNonce;
  const proof = dpop
    ? await requestProof(ctx, request, url, { nonce: demandNonce })
    : undefined;
  const body = await handler(ctx, auth.client, params, proof);
  const headers: Record<string, string> = ctx.behaviour.noStore ? { 'cache-control': 'no-store', pragma: 'no-cache' } : {};
  // §8.2: the nonce to use next, on every answer to a client that must send one.
  if (demandNonce) headers['dpop-nonce'] = ctx.dpop.nonce();
  const scope = params.get('scope');
  const sent = ctx.behaviour.tokenResponse({ grantType, ...(scope !== undefined && { requestedScope: scope }), status: 200, headers, body });
  return json(sent.body, sent.status, sent.headers);
}
