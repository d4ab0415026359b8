/**
 * Test control: move the clock, end SSO sessions, withdraw consent, inspect families, reset.
 * The same operations in-process (MockIdpControl) and over HTTP (test mode only, admin token).
 */
import { constantTimeEqual, hashToken } from './crypto.ts';
import { OAuthError, invalidRequest } from './errors.ts';
import { json, readJson, requireMethod, type IdpRequest, type PlainResponse } from './http.ts';
import type { IdpContext } from './context.ts';
import { endSessions } from './sessions.ts';
import { advanceClock, resetClock, syncClock } from './replicas.ts';
import { MAX_ADVANCE_SECONDS, MAX_CONTROL_STRING_CHARS } from './limits.ts';

export interface UserSelector {
  username?: string;
  sub?: string;
}

export interface FamilyView {
  id: string;
  clientId: string;
  policy: string;
  sub: string;
  scope: string;
  createdAt: number;
  fixedExpiresAt: number;
  /** The sliding maximum (first issue + maxLifetimeSeconds), if the family has one. */
  maxExpiresAt?: number;
  /** Issued without offline access (refreshTokenIssuance "always"): the online-token terms apply. */
  online: boolean;
  revokedAt?: number;
  revokedReason?: string;
  /** Token values are never exposed, only their life cycle. */
  tokens: { generation: number; state: string; issuedAt: number; expiresAt: number; retiredAt?: number; usedAt?: number; graceUses?: number }[];
}

/** A refresh token as the mock holds it (in-process control only: the caller already has the token). */
export interface RefreshTokenView {
  /** Would a refresh pass its own state and expiry (introspection's active, RFC 7662 §2.2)? */
  active: boolean;
  state: string;
  generation: number;
  iat: number;
  exp: number;
  familyId: string;
  online: boolean;
}

/** Every operation reads the store (and, with replicas, the clock they share), hence promises. */
export interface MockIdpControl {
  now(): Promise<number>;
  /** Moves the clock forward; rejects with a RangeError out of bounds (MAX_ADVANCE_SECONDS, MAX_CLOCK_OFFSET_SECONDS). */
  advance(seconds: number): Promise<number>;
  endSsoSession(user: UserSelector): Promise<number>;
  revokeGrants(user: UserSelector & { clientId?: string }): Promise<number>;
  families(user: UserSelector): Promise<FamilyView[]>;
  /**
   * The mock's record of a refresh token, whatever the profile's introspection covers (tests observe
   * refresh tokens of an "access-tokens" profile through it). In-process only, not over HTTP.
   */
  refreshToken(token: string): Promise<RefreshTokenView | undefined>;
  reset(): Promise<void>;
}

function resolveSub(ctx: IdpContext, user: UserSelector): string {
  const found = user.sub !== undefined ? ctx.users.find((u) => u.sub === user.sub) : ctx.users.find((u) => u.username === user.username);
  if (!found) throw invalidRequest(`unknown user ${JSON.stringify(user.username ?? user.sub ?? null)}`);
  return found.sub;
}

export function createControl(ctx: IdpContext): MockIdpControl {
  return {
    async now() {
      await syncClock(ctx);
      return ctx.clock.now();
    },
    async advance(seconds) {
      return advanceClock(ctx, seconds);
    },
    async endSsoSession(user) {
      const sub = resolveSub(ctx, user);
      await syncClock(ctx);
      return endSessions(ctx, (s) => s.sub === sub);
    },
    async revokeGrants(user) {
      const sub = resolveSub(ctx, user);
      await syncClock(ctx);
      let n = 0;
      for (const f of await ctx.store.families()) {
        if (f.sub === sub && f.revokedAt === undefined && (user.clientId === undefined || f.clientId === user.clientId)) {
          await ctx.store.revokeFamily(f, ctx.clock.now(), 'consent withdrawn');
          n++;
        }
      }
      return n;
    },
    async families(user) {
      const sub = resolveSub(ctx, user);
      return (await ctx.store.families())
        .filter((f) => f.sub === sub)
        .map((f) => ({
          id: f.id,
          clientId: f.clientId,
          policy: f.policy,
          sub: f.sub,
          scope: f.scope.join(' '),
          createdAt: f.createdAt,
          fixedExpiresAt: f.fixedExpiresAt,
          ...(f.maxExpiresAt !== undefined && { maxExpiresAt: f.maxExpiresAt }),
          online: f.online === true,
          ...(f.revokedAt !== undefined && { revokedAt: f.revokedAt, revokedReason: f.revokedReason }),
          tokens: f.tokens.map((t) => ({
            generation: t.generation,
            state: t.state,
            issuedAt: t.issuedAt,
            expiresAt: t.expiresAt,
            ...(t.retiredAt !== undefined && { retiredAt: t.retiredAt }),
            ...(t.usedAt !== undefined && { usedAt: t.usedAt }),
            ...(t.graceUses !== undefined && { graceUses: t.graceUses }),
          })),
        }));
    },
    async refreshToken(token) {
      await syncClock(ctx);
      const record = await ctx.store.refreshToken(hashToken(token));
      const family = record && (await ctx.store.family(record.familyId));
      if (!record || !family) return undefined;
      const now = ctx.clock.now();
      return {
        active: ctx.behaviour.refreshTokenActive(record, family) && now < record.expiresAt,
        state: record.state,
        generation: record.generation,
        iat: record.issuedAt,
        exp: record.expiresAt,
        familyId: family.id,
        online: family.online === true,
      };
    },
    async reset() {
      await ctx.store.clear();
      await resetClock(ctx);
    },
  };
}

/** A string input of the control API, bounded in length. */
function boundedString(name: string, value: string): string {
  if (value.length > MAX_CONTROL_STRING_CHARS) throw invalidRequest(`"${name}" is longer than ${MAX_CONTROL_STRING_CHARS} characters`);
  return value;
}

function selector(body: Record<string, unknown>): UserSelector {
  const { username, sub } = body;
  if (typeof username === 'string') return { username: boundedString('username', username) };
  if (typeof sub === 'string') return { sub: boundedString('sub', sub) };
  throw invalidRequest('give "username" or "sub" as a string');
}

/** HTTP face of the control API under /__control. */
export async function controlEndpoint(ctx: IdpContext, control: MockIdpControl, request: IdpRequest, path: string, url: URL): Promise<PlainResponse> {
  if (!ctx.testMode || !ctx.adminToken) throw new OAuthError('not_found', 'no such endpoint', 404);
  const m = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '');
  if (!m || !constantTimeEqual(m[1]!, ctx.adminToken)) {
    throw new OAuthError('invalid_token', 'the control API needs the admin token as a Bearer token', 401, {
      'www-authenticate': 'Bearer realm="mock-idp-control"',
    });
  }
  switch (path) {
    case '/clock':
      requireMethod(request, 'GET');
      return json({ now: await control.now() });
    case '/clock/advance': {
      requireMethod(request, 'POST');
      const { seconds } = await readJson(request);
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_ADVANCE_SECONDS) {
        throw invalidRequest(`"seconds" must be a number from 0 to ${MAX_ADVANCE_SECONDS}`);
      }
      try {
        return json({ now: await control.advance(seconds) });
      } catch (e) {
        // The clock's total offset is bounded too.
        if (e instanceof RangeError) throw invalidRequest(e.message);
        throw e;
      }
    }
    case '/sso/end': {
      requireMethod(request, 'POST');
      return json({ ended: await control.endSsoSession(selector(await readJson(request))) });
    }
    case '/grants/revoke': {
      requireMethod(request, 'POST');
      const body = await readJson(request);
      const clientId = body.clientId;
      if (clientId !== undefined && typeof clientId !== 'string') throw invalidRequest('"clientId" must be a string');
      const only = clientId !== undefined && { clientId: boundedString('clientId', clientId) };
      return json({ revoked: await control.revokeGrants({ ...selector(body), ...only }) });
    }
    case '/families': {
      requireMethod(request, 'GET');
      const username = url.searchParams.get('username');
      const sub = url.searchParams.get('sub');
      return json({ families: await control.families(selector({ ...(username !== null && { username }), ...(sub !== null && { sub }) })) });
    }
    case '/reset':
      requireMethod(request, 'POST');
      await control.reset();
      return json({ ok: true });
    default:
      throw new OAuthError('not_found', 'no such control endpoint', 404);
  }
}
