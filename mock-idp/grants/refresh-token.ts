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
import { sessionActive } from '../store.ts';
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

  const record = store.refreshTokens.get(hashToken(token));
  if (!record) throw invalidGrant('unknown refresh token');
  const family = store.families.get(record.familyId)!;
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
    ssoActive: sessionActive(store.sessions.get(family.sid), now),
  });
  if (outcome.kind === 'refuse') throw invalidGrant(outcome.reason);

  // Everything above ran without an await: the check and the state change below are one step.
  if (!behaviour.atomicRefresh) {
    await new Promise((r) => setTimeout(r, 0));
    now = ctx.clock.now();
  }
  const response: Record<string, unknown> = {};
  switch (outcome.kind) {
    case 'rotate': {
      if (behaviour.retiresRotatedToken) {
        for (const t of family.tokens) {
          if (t.state === 'active') {
            t.state = 'rotated';
            t.retiredAt = now;
          }
        }
      }
      const rt = newRefreshToken(behaviour.refreshTokenBytes);
      store.addRefreshToken({
        hash: rt.hash,
        familyId: family.id,
        clientId: client.id,
        generation: family.tokens.length,
        issuedAt: now,
        expiresAt: outcome.expiresAt,
        state: 'active',
      });
      response.refresh_token = rt.token;
      if (record.usedAt !== undefined) record.graceUsed = true; // a rotated-out token presented again: its grace retry
      record.successor = rt.hash;
      break;
    }
    case 'extend':
      record.expiresAt = outcome.expiresAt;
      break;
    case 'consume':
      record.state = 'consumed';
      record.retiredAt = now;
      break;
    case 'keep':
      break;
  }

  record.usedAt ??= now;

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
