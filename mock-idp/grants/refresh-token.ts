/**
 * grant_type=refresh_token (RFC 6749 §6), exactly per profile: the refresh model's step
 * (profile/model.ts) decides, with the behaviour's rules; this grant carries the decision out
 * through the store's named operations (store.ts): a family revocation the decision asks for, and
 * the accepted change as a compare-and-set on the token as the decision saw it. Other requests run
 * at every await (on a shared store, other processes too), so a change that finds the token changed
 * since (a concurrent refresh won) is not applied: the token is read again and decided again, as if
 * this request had come after the winner. Of concurrent refreshes of one token exactly one wins
 * then; the others are what the profile says of a token presented after it (a reuse, a grace
 * retry, or with concurrentRefresh "same-successor" a repeat: the model's `repeat`, the same successor).
 */
import { hashToken } from '../crypto.ts';
import { OAuthError, invalidRequest, unauthorizedClient, type OAuthErrorCode } from '../errors.ts';
import { scopeList, type Params } from '../http.ts';
import { isRefreshPolicy } from '../profile/index.ts';
import { decideRefresh, refreshIdToken, refusalStatus, type Accepted } from '../profile/model.ts';
import { sessionActive, type Family, type RefreshTokenRecord, type SeenRefreshToken } from '../store.ts';
import type { IdpContext } from '../context.ts';
import type { MockClient } from '../fixtures.ts';
import type { ValidProof } from '../dpop.ts';
import { issueAccessToken, issueIdToken, refreshExpiresIn, successorToken, type IssuedAccessToken } from '../tokens.ts';

export const grantType = 'refresh_token';

/**
 * How many times a refresh that lost its compare-and-set decides again before it is refused. Each
 * loss means another refresh of the token won; after a win the token is rotated, consumed or kept,
 * and what follows is decided in one or two more rounds (a grace retry racing others).
 */
const MAX_ROUNDS = 8;

/** What a committed refresh sends: the refresh token (none when the presented one stays or is used up) and the expiry of the live one. */
type Issued = { token?: string; expiresAt?: number };

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
  const hash = hashToken(token);
  /** The token as it is now (for a defect that changes it as it finds it rather than as decided). */
  const current = async (): Promise<SeenRefreshToken> => {
    const held = await store.refreshToken(hash);
    return { state: held?.state ?? 'revoked', successor: held?.successor };
  };

  let family: Family | undefined;
  let issued: Issued | false = false;
  // Issued before the change, so that the change is the refresh's last write: a store lost before it
  // leaves the presented token as it was (a refresh fully happens or not at all), and a reuse
  // revocation racing the change finds the access token in the family. Unknown to anyone until sent.
  let accessToken: IssuedAccessToken | undefined;
  try {
    for (let round = 1; issued === false; round++) {
      if (round > MAX_ROUNDS) throw refused('invalid_grant', 'refresh token was already used');
      const record = await store.refreshToken(hash);
      if (!record) throw refused('invalid_grant', 'unknown refresh token');
      family = await store.family(record.familyId);
      if (!family) throw refused('invalid_grant', 'unknown refresh token');
      const session = await store.session(family.sid);
      // What the decision reads of the token, taken with it (no await in between): the change is conditional on it.
      const seen: SeenRefreshToken = { state: record.state, successor: record.successor };
      const decided = ctx.clock.now();
      const ssoActive = sessionActive(session, decided);
      const decision = decideRefresh({ profile, policy, clientId: client.id, record, family, now: decided, requestedScope, ssoActive, proofJkt: proof?.jkt }, behaviour);
      if (decision.kind === 'refuse') {
        // Reuse detection: the refusal revokes the family (and the grant's access tokens) here, visibly.
        if (decision.revokeFamily !== undefined) await store.revokeFamily(family, decided, decision.revokeFamily);
        throw refused(decision.error, decision.reason);
      }
      // RFC 6749 §6: the access token may carry a narrower scope; the refresh token keeps the original.
      accessToken ??= await issueAccessToken(ctx, { client, sub: family.sub, scope: requestedScope ?? family.scope, familyId: family.id, sid: family.sid, jkt: proof?.jkt });
      issued = await behaviour.commitStep(change(ctx, token, hash, client, record, family, decision), seen, current);
    }
  } catch (e) {
    // A refresh refused after a lost round: the access token issued for it is never sent.
    if (accessToken && e instanceof OAuthError) await store.revokeAccessToken(hashToken(accessToken.access_token), ctx.clock.now());
    throw e;
  }
  family = family!;
  const scope = requestedScope ?? family.scope;
  const response: Record<string, unknown> = issued.token === undefined ? {} : { refresh_token: issued.token };
  Object.assign(response, accessToken, { scope: scope.join(' ') }, refreshExpiresIn(ctx, issued.expiresAt));
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

/**
 * The store change of an accepted decision, conditional on the token still being as `seen`: what to
 * send, or false if it lost (the token changed since it was read, or its family was revoked).
 */
function change(
  ctx: IdpContext,
  token: string,
  hash: string,
  client: MockClient,
  record: RefreshTokenRecord,
  family: Family,
  decision: Accepted,
): (seen: SeenRefreshToken) => Promise<Issued | false> {
  const { store } = ctx;
  return async (seen) => {
    const now = ctx.clock.now();
    switch (decision.kind) {
      case 'rotate': {
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
        return (await store.rotateRefreshToken(hash, seen, successor, now, ctx.behaviour)) && { token: rt.token, expiresAt: decision.expiresAt };
      }
      case 'repeat': {
        // A repeat hands out the successor of the presented token's last rotation again: it was derived
        // from this raw token and its place in the family (successorToken), so it is computed again, not stored.
        const generation = family.tokens.find((t) => t.hash === decision.successor)?.generation;
        const again = generation === undefined ? undefined : successorToken(ctx, token, generation);
        if (again?.hash !== decision.successor) throw new OAuthError('invalid_grant', 'refresh token was already used', refusalStatus(ctx.behaviour.profile, 'invalid_grant'));
        return (await store.useRefreshToken(hash, seen, decision, now)) && { token: again.token, expiresAt: decision.expiresAt };
      }
      default: {
        if (!(await store.useRefreshToken(hash, seen, decision, now))) return false;
        // The presented token as the change left it: still live (kept, extended: its state is unchanged) or used up.
        if (decision.kind === 'consume' || seen.state !== 'active') return {};
        return { expiresAt: decision.kind === 'extend' ? decision.expiresAt : record.expiresAt };
      }
    }
  };
}
