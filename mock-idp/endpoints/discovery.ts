/** OIDC Discovery 1.0 §3 and RFC 8414 §2 metadata (the same document at both well-known paths). */
import type { IdpContext } from '../context.ts';
import { usesDpop } from '../profile/model.ts';
import { json, requireMethod, type IdpRequest, type PlainResponse } from '../http.ts';

export function metadata(ctx: IdpContext): Record<string, unknown> {
  const profile = ctx.behaviour.profile;
  const grantTypes = [...new Set(Object.values(profile.policies).flatMap((p) => p.grantTypes))];
  const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  return ctx.behaviour.metadata({
    issuer: ctx.issuer,
    authorization_endpoint: ctx.endpoints.authorization,
    token_endpoint: ctx.endpoints.token,
    jwks_uri: ctx.endpoints.jwks,
    userinfo_endpoint: ctx.endpoints.userinfo,
    revocation_endpoint: ctx.endpoints.revocation,
    introspection_endpoint: ctx.endpoints.introspection,
    end_session_endpoint: ctx.endpoints.endSession,
    scopes_supported: ['openid', profile.offlineAccessScope, ...profile.scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: grantTypes,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ctx.keys.alg],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'name', 'given_name', 'family_name', 'email', 'phone_number'],
    prompt_values_supported: ['none', 'login', 'consent'],
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1: advertised where some client uses DPoP.
    ...(Object.values(profile.policies).some(usesDpop) && { dpop_signing_alg_values_supported: [...profile.dpopSigningAlgs] }),
    mock_idp_profile: profile.name,
  });
}

export function discovery(ctx: IdpContext, request: IdpRequest): PlainResponse {
  requireMethod(request, 'GET', 'HEAD');
  return json(metadata(ctx), 200, { 'access-control-allow-origin': '*' });
}

export function jwks(ctx: IdpContext, request: IdpRequest): PlainResponse {
  requireMethod(request, 'GET', 'HEAD');
  return json(ctx.keys.jwks, 200, { 'access-control-allow-origin': '*', 'content-type': 'application/jwk-set+json' });
}
