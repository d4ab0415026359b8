/**
 * grant_type=refresh_token (RFC 6749 §6), exactly per profile: the refresh model's step
 * (profile/model.ts) decides, with the behaviour's rules; this grant carries the decision out
 * through the store's named operations (store.ts): a family revocation the decision asks for, and
 * the accepted change as a compare-and-set on the token as the decision saw it, without yielding
 * between decision and change, so that of concurrent refreshes of one token exactly one wins (with
 * concurrentRefresh "same-successor", the others are repeats: the model's `repeat`, the same successor).
 */
import { hashToken } from '../crypto.ts';
import { OAuthError, invalidRequest, unauthorizedClient, type OAuthErrorCode } from '../errors.ts';
import { scopeList, type Params } from '../http.ts';
import { isRefreshPolicy } from '../profile/index.ts';
import { decideRefresh, refreshIdToken, refusalStatus } from '../profile/model.ts';
import { sessionActive, type RefreshTokenRecord, type SeenRefreshToken } from '../store.ts';
import type { IdpContext } from '../context.ts';
import type { MockClient } from '../fixtures.ts';
import type { ValidProof } from '../dpop.ts';
import { issueAccessToken, issueIdToken, refreshExpiresIn, successorToken } from '../tokens.ts';

export const grantType = 'refresh_token';

export async function handler(ctx: IdpContext, client: MockClient, params: Params, proof?: ValidProof): Promise<Record<string, unknown>> {
  const token = params.get('refresh_token');
  if (!token) throw invalidRequest('refresh_token is required');
  const requestedScope = params.has('scope') ? scopeList(params.get('scope')) : undefined;
  const { store, behaviour } = ctx;
  const profile = behaviour.profile;
  const policy = profile.policies[client.policy]!;
  if (!isRefreshPolicy(policy)) throw unauthorizedClient(`policy ${client.policy} does not allow refresh`);
  /** A refusal of this grant: invalid_grant with the profile's status (invalidGrantStatus), the body RFC 6749 §5.2 JSON. */
  const refused = (error: OAuthErrorCode, reason: string) => new OAuthError(error, reason, refusalStatus(profile, error));

  const record = store.refreshToken(hashToken(token));
  if (!record) throw refused('invalid_grant', 'unknown refresh token');
  const family = store.family(record.familyId)!;
  const decided = ctx.clock.now();
  const ssoActive = sessionActive(store.session(family.sid), decided);
  const decision = decideRefresh({ profile, policy, clientId: client.id, record, family, now: decided, requestedScope, ssoActive, proofJkt: proof?.jkt }, behaviour);
  if (decision.kind === 'refuse') {
    // Reuse detection: the refusal revokes the family (and the grant's access tokens) here, visibly.
    if (decision.revokeFamily !== undefined) store.revokeFamily(family, decided, decision.revokeFamily);
    throw refused(decision.error, decision.reason);
  }
  // A repeat hands out the successor of the presented token's last rotation again: it was derived
  // from this raw token and its place in the family (successorToken), so it is computed again, not stored.
  let repeated: { token: string } | undefined;
  if (decision.kind === 'repeat') {
    const generation = store.refreshToken(decision.successor)?.generation;
    const again = generation === undefined ? undefined : successorToken(ctx, token, generation);
    if (again?.hash !== decision.successor) throw refused('invalid_grant', 'refresh token was already used');
    repeated = again;
  }

  /** The change, conditional on the token still being as `seen`: the refresh token to send and its expiry, or false if it lost. */
  const apply = (seen: SeenRefreshToken): { token?: string; expiresAt?: number } | false => {
    const now = ctx.clock.now();
    if (decision.kind === 'repeat') return store.useRefreshToken(record.hash, seen, decision, now) && { token: repeated!.token, expiresAt: decision.expiresAt };
    if (decision.kind !== 'rotate') {
      if (!store.useRefreshToken(record.hash, seen, decision, now)) return false;
      // The presented token, as the change left it: still live (kept, extended) or used up.
      const after = store.refreshToken(record.hash)!;
      return after.state === 'active' ? { expiresAt: after.expiresAt } : {};
    }
    const generation = family.tokens.length;
    const rt = successorToken(ctx, token, generation);
    const successor: RefreshTokenRecord = {
      hash: rt.hash,
      familyId: family.id,
      clientId: client.id,
      generation,
      issuedAt: now,
      expiresAt: decision.expiresAt,
      state: 'active',
    };
    return store.rotateRefreshToken(record.hash, seen, successor, now, behaviour) && { token: rt.token, expiresAt: decision.expiresAt };
  };
  const seen = (): SeenRefreshToken => ({ state: record.state, successor: record.successor });
  // Correct behaviour runs apply at once, on the token as decided: the decision above, this change and
  // the access token below are one synchronous step (no await: a concurrent reuse must find the new
  // access token in the family), and the store's compare-and-set holds the change to that token.
  const committed = behaviour.commitStep(apply, seen(), seen);
  const issued = committed instanceof Promise ? await committed : committed;
  if (issued === false) throw refused('invalid_grant', 'refresh token was already used');
  const response: Record<string, unknown> = issued.token === undefined ? {} : { refresh_token: issued.token };

  // RFC 6749 §6: the access token may carry a narrower scope; the refresh token keeps the original.
  const scope = requestedScope ?? family.scope;
  Object.assign(
    response,
    issueAccessToken(ctx, { client, sub: family.sub, scope, familyId: family.id, sid: family.sid, jkt: proof?.jkt }),
    { scope: scope.join(' ') },
    refreshExpiresIn(ctx, issued.expiresAt),
  );
  // OIDC Core §12.2: an ID token is optional on refresh; the profile's idTokenOnRefresh says whether this IdP sends one.
  if (refreshIdToken(profile, scope) !== 'absent') {
    // Same iss, sub, aud; new iat; auth_time of the original authentication; no nonce.
    response.id_token = await issueIdToken(ctx, {
      client,
      sub: behaviour.refreshIdTokenSubject(family.sub),
      authTime: family.authTime,
      sid: family.sid,
    });
  }
  return response;
}
