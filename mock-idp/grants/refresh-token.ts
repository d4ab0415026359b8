/**
 * grant_type=refresh_token (RFC 6749 §6), exactly per profile: guard clauses (behaviour.ts),
 * then the pure decision (refresh-rules.ts), applied without yielding so that of concurrent
 * refreshes of one token exactly one wins.
 */
import { hashToken } from '../crypto.ts';
import { invalidGrant, invalidRequest, unauthorizedClient } from '../errors.ts';
import { scopeList, type Params } from '../http.ts';
import { isRefreshPolicy } from '../profile/index.ts';
import { decideRefresh } from '../refresh-rules.ts';
import { sessionActive, type RefreshTokenRecord } from '../store.ts';
import type { IdpContext } from '../context.ts';
import type { MockClient } from '../fixtures.ts';
import { issueAccessToken, issueIdToken, newRefreshToken } from '../tokens.ts';

export const grantType = 'refresh_token';

export async function handler(ctx: IdpContext, client: MockClient, params: Params): Promise<Record<string, unknown>> {
  const token = params.get('refresh_token');
  if (!token) throw invalidRequest('refresh_token is required');
  const requestedScope = params.has('scope') ? scopeList(params.get('scope')) : undefined;
  const { store, behaviour } = ctx;
  const profile = behaviour.profile;
  const policy = profile.policies[client.policy]!;
  if (!isRefreshPolicy(policy)) throw unauthorizedClient(`policy ${client.policy} does not allow refresh`);

  const record = store.refreshToken(hashToken(token));
  if (!record) throw invalidGrant('unknown refresh token');
  const family = store.family(record.familyId)!;
  let now = ctx.clock.now();
  for (const guard of behaviour.refreshGuards) {
    const error = guard.check({ store, profile, client, record, family, now, requestedScope });
    if (error) throw error;
  }
  const outcome = decideRefresh({
    profile,
    policy,
    family,
    now,
    ssoActive: sessionActive(store.session(family.sid), now),
  });
  if (outcome.kind === 'refuse') throw invalidGrant(outcome.reason);

  // Everything above ran without an await: the check and the state change below are one step, and
  // the store's compare-and-set (store.ts) holds the change to the token as the guards saw it.
  let seen = { state: record.state, successor: record.successor };
  if (!behaviour.atomicRefresh) {
    await new Promise((r) => setTimeout(r, 0));
    now = ctx.clock.now();
    seen = { state: record.state, successor: record.successor }; // the defect: applied to whatever the token is now
  }
  const response: Record<string, unknown> = {};
  let won: boolean;
  if (outcome.kind === 'rotate') {
    const rt = newRefreshToken();
    const successor: RefreshTokenRecord = {
      hash: rt.hash,
      familyId: family.id,
      clientId: client.id,
      generation: family.tokens.length,
      issuedAt: now,
      expiresAt: outcome.expiresAt,
      state: 'active',
    };
    won = store.rotateRefreshToken(record.hash, seen, successor, now, behaviour.retiresRotatedToken);
    response.refresh_token = rt.token;
  } else {
    won = store.useRefreshToken(record.hash, seen, outcome, now);
  }
  if (!won) throw invalidGrant('refresh token was already used');

  // RFC 6749 §6: the access token may carry a narrower scope; the refresh token keeps the original.
  const scope = requestedScope ?? family.scope;
  Object.assign(response, issueAccessToken(ctx, { client, sub: family.sub, scope, familyId: family.id, sid: family.sid }), {
    scope: scope.join(' '),
  });
  if (scope.includes('openid')) {
    // OIDC Core §12.2: same iss, sub, aud; new iat; auth_time of the original authentication; no nonce.
    response.id_token = await issueIdToken(ctx, {
      client,
      sub: behaviour.refreshIdTokenSubject(family.sub),
      authTime: family.authTime,
      sid: family.sid,
    });
  }
  return response;
}
