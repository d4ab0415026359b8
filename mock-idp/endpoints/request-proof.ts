/** The DPoP proof of a request to one of the mock's endpoints, validated with the IdP's profile, replay state and clock (dpop.ts). */
import type { IdpContext } from '../context.ts';
import { validateProof, type ProofInput, type ValidProof } from '../dpop.ts';
import type { IdpRequest } from '../http.ts';

export function requestProof(ctx: IdpContext, request: IdpRequest, url: URL, o: Pick<ProofInput, 'nonce' | 'accessToken'>): Promise<ValidProof | undefined> {
  return validateProof({
    header: request.headers.get('dpop'),
    method: request.method,
    url: url.href,
    profile: ctx.behaviour.profile,
    state: ctx.dpop,
    clock: ctx.clock,
    checks: ctx.behaviour.dpopProofChecks,
    ...o,
  });
}
