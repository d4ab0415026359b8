/** SSO sessions: created at login, carried by a cookie, ended by logout or by time. */
import { randomToken } from './crypto.ts';
import { SSO_COOKIE, type IdpContext } from './context.ts';
import { parseCookies, type IdpRequest } from './http.ts';
import { sessionActive, type SsoSession } from './store.ts';
import type { MockUser } from './fixtures.ts';

export function startSession(ctx: IdpContext, user: MockUser): SsoSession {
  const now = ctx.clock.now();
  const session: SsoSession = {
    id: randomToken(18),
    sub: user.sub,
    authTime: now,
    expiresAt: now + ctx.behaviour.profile.ssoSessionLifetimeSeconds,
  };
  ctx.store.addSession(session);
  return session;
}

export function currentSession(ctx: IdpContext, request: IdpRequest): SsoSession | undefined {
  const id = parseCookies(request).get(SSO_COOKIE);
  const session = id ? ctx.store.session(id) : undefined;
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

/** Ends sessions (logout, control API): later refreshes see the SSO session as inactive. */
export function endSessions(ctx: IdpContext, match: (s: SsoSession) => boolean): number {
  const now = ctx.clock.now();
  let ended = 0;
  // Collected first: ending one changes the store being walked.
  const matching = [...ctx.store.sessions()].filter((s) => s.endedAt === undefined && match(s));
  for (const s of matching) if (ctx.store.endSession(s.id, now)) ended++;
  return ended;
}
