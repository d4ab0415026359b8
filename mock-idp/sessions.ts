/** SSO sessions: created at login, carried by a cookie, ended by logout or by time. */
import { randomToken } from './crypto.ts';
import { SSO_COOKIE, type IdpContext } from './context.ts';
import { parseCookies, type IdpRequest } from './http.ts';
import { sessionActive, type SsoSession } from './store.ts';
import type { MockUser } from './fixtures.ts';

export async function startSession(ctx: IdpContext, user: MockUser): Promise<SsoSession> {
  const now = ctx.clock.now();
  const session: SsoSession = {
    id: randomToken(18),
    sub: user.sub,
    authTime: now,
    expiresAt: now + ctx.behaviour.profile.ssoSessionLifetimeSeconds,
  };
  await ctx.store.addSession(session);
  return session;
}

export async function currentSession(ctx: IdpContext, request: IdpRequest): Promise<SsoSession | undefined> {
  const id = parseCookies(request).get(SSO_COOKIE);
  const session = id ? await ctx.store.session(id) : undefined;
  return sessionActive(session, ctx.clock.now()) ? session : undefined;
}

export function cookieAttributes(ctx: IdpContext, sameSite: 'Lax' | 'Strict' = 'Lax'): string {
  const secure = ctx.issuer.startsWith('https:') ? '; Secure' : '';
  return `Path=/; HttpOnly; SameSite=${sameSite}${secure}`;
}

export function sessionCookie(ctx: IdpContext, session: SsoSession): string {
  return `${SSO_COOKIE}=${session.id}; ${cookieAttributes(ctx)}`;
}

export function clearSessionCookie(ctx: IdpContext): string {
  return `${SSO_COOKIE}=; Max-Age=0; ${cookieAttributes(ctx)}`;
}

/**
 * Ends sessions (logout, control API): later refreshes see the SSO session as inactive. Counts the
 * sessions this call ended: endSession is compare-and-set, so of two concurrent logouts of one
 * session only one counts it.
 */
export async function endSessions(ctx: IdpContext, match: (s: SsoSession) => boolean): Promise<number> {
  const now = ctx.clock.now();
  let ended = 0;
  for (const s of await ctx.store.sessions()) if (s.endedAt === undefined && match(s) && (await ctx.store.endSession(s.id, now))) ended++;
  return ended;
}
