/** Issuing access tokens (opaque, stored hashed) and ID tokens (signed JWTs, OIDC Core §2). */
import { hashToken, randomToken } from './crypto.ts';
import type { IdpContext } from './context.ts';
import type { MockClient } from './fixtures.ts';

export interface IssuedAccessToken {
  access_token: string;
  /** DPoP for a token bound to a DPoP key (RFC 9449 §5), else Bearer. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
}

export function issueAccessToken(
  ctx: IdpContext,
  input: { client: MockClient; sub?: string; scope: string[]; familyId?: string; sid?: string; jkt?: string | undefined },
): IssuedAccessToken {
  const now = ctx.clock.now();
  const lifetime = ctx.behaviour.accessTokenLifetime(ctx.behaviour.profile.accessTokenLifetimeSeconds);
  const token = randomToken();
  ctx.store.addAccessToken({
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

/** Starts a refresh-token family (one grant) and returns its first refresh token. */
export function startFamily(
  ctx: IdpContext,
  input: { client: MockClient; sub: string; sid: string; scope: string[]; authTime: number; lifetimeSeconds: number; jkt?: string },
): { token: string; familyId: string } {
  const now = ctx.clock.now();
  const familyId = randomToken(12);
  ctx.store.addFamily({
    id: familyId,
    clientId: input.client.id,
    policy: input.client.policy,
    sub: input.sub,
    sid: input.sid,
    scope: input.scope,
    authTime: input.authTime,
    createdAt: now,
    fixedExpiresAt: now + input.lifetimeSeconds,
    ...(input.jkt !== undefined && { jkt: input.jkt }),
    tokens: [],
    accessTokenHashes: [],
  });
  const rt = newRefreshToken(ctx.behaviour.refreshTokenBytes);
  ctx.store.addRefreshToken({
    hash: rt.hash,
    familyId,
    clientId: input.client.id,
    generation: 0,
    issuedAt: now,
    expiresAt: now + input.lifetimeSeconds,
    state: 'active',
  });
  return { token: rt.token, familyId };
}
