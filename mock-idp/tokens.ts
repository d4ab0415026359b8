/** Issuing access tokens (opaque, stored hashed) and ID tokens (signed JWTs, OIDC Core §2). */
import { derivedToken, hashToken, randomToken } from './crypto.ts';
import type { IssueDecision } from './profile/model.ts';
import type { IdpContext } from './context.ts';
import type { MockClient } from './fixtures.ts';

export interface IssuedAccessToken {
  access_token: string;
  /** DPoP for a token bound to a DPoP key (RFC 9449 §5), else Bearer. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
}

export async function issueAccessToken(
  ctx: IdpContext,
  input: { client: MockClient; sub?: string; scope: string[]; familyId?: string; sid?: string; jkt?: string | undefined },
): Promise<IssuedAccessToken> {
  const now = ctx.clock.now();
  const lifetime = ctx.behaviour.accessTokenLifetime(ctx.behaviour.profile.accessTokenLifetimeSeconds);
  const token = randomToken();
  await ctx.store.addAccessToken({
    hash: hashToken(token),
    clientId: input.client.id,
    scope: input.scope,
    issuedAt: now,
    expiresAt: now + lifetime,
    ...(input.sub !== undefined && { sub: input.sub }),
    ...(input.familyId !== undefined && { familyId: input.familyId }),
    ...(input.sid !== undefined && { sid: input.sid }),
    ...(input.jkt !== undefined && { jkt: input.jkt }),
  });
  return { access_token: token, token_type: input.jkt !== undefined ? 'DPoP' : 'Bearer', expires_in: lifetime };
}

export function issueIdToken(
  ctx: IdpContext,
  input: { client: MockClient; sub: string; authTime: number; sid: string; nonce?: string },
): Promise<string> {
  const now = ctx.clock.now();
  return ctx.keys.sign({
    iss: ctx.issuer,
    sub: input.sub,
    aud: input.client.id,
    iat: now,
    exp: now + ctx.behaviour.profile.idTokenLifetimeSeconds,
    auth_time: input.authTime,
    sid: input.sid,
    ...(input.nonce !== undefined && { nonce: input.nonce }),
  });
}

export function newRefreshToken(bytes = 32): { token: string; hash: string } {
  const token = randomToken(bytes);
  return { token, hash: hashToken(token) };
}

/** Starts a refresh-token family (one grant) on the terms the issue decision gives, and returns its first refresh token. */
export async function startFamily(
  ctx: IdpContext,
  input: { client: MockClient; sub: string; sid: string; scope: string[]; authTime: number; issue: Extract<IssueDecision, { issue: true }>; jkt?: string },
): Promise<{ token: string; familyId: string; expiresAt: number }> {
  const now = ctx.clock.now();
  const familyId = randomToken(12);
  const { issue } = input;
  await ctx.store.addFamily({
    id: familyId,
    clientId: input.client.id,
    policy: input.client.policy,
    sub: input.sub,
    sid: input.sid,
    scope: input.scope,
    authTime: input.authTime,
    createdAt: now,
    fixedExpiresAt: issue.fixedExpiresAt,
    ...(issue.maxExpiresAt !== undefined && { maxExpiresAt: issue.maxExpiresAt }),
    online: issue.online,
    ...(input.jkt !== undefined && { jkt: input.jkt }),
    tokens: [],
    accessTokenHashes: [],
  });
  const rt = newRefreshToken(ctx.behaviour.refreshTokenBytes);
  await ctx.store.addRefreshToken({
    hash: rt.hash,
    familyId,
    clientId: input.client.id,
    generation: 0,
    issuedAt: now,
    expiresAt: issue.expiresAt,
    state: 'active',
  });
  return { token: rt.token, familyId, expiresAt: issue.expiresAt };
}

/**
 * The refresh token a rotation of `presented` issues as the family's token number `generation`:
 * derived from the presented raw token and that number under the instance's key (each rotation of
 * one token, a grace retry too, gets a different one), so a repeat of the rotation
 * (concurrentRefresh "same-successor") computes the same token again while the store keeps only hashes.
 */
export function successorToken(ctx: IdpContext, presented: string, generation: number): { token: string; hash: string } {
  const token = derivedToken(ctx.tokenKey, `${generation}.${presented}`, ctx.behaviour.refreshTokenBytes);
  return { token, hash: hashToken(token) };
}

/** The refresh_expires_in member (Keycloak's shape, profile refreshExpiresIn): seconds until the live refresh token expires. */
export function refreshExpiresIn(ctx: IdpContext, expiresAt: number | undefined): { refresh_expires_in?: number } {
  if (!ctx.behaviour.profile.refreshExpiresIn || expiresAt === undefined) return {};
  return { refresh_expires_in: Math.max(0, expiresAt - ctx.clock.now()) };
}
