/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2, §3): ends the SSO session.
 * The user is asked to confirm unless the id_token_hint names the browser's current session (§2:
 * without a hint, or with one for another session, the OP asks whether to sign the End-User out).
 */
import { refuseCrossSite } from '../origin.ts';
import { invalidRequest } from '../errors.ts';
import { html, readParams, redirect, type IdpRequest, type PlainResponse } from '../http.ts';
import type { IdpContext } from '../context.ts';
import { logoutConfirmPage, signedOutPage } from '../pages.ts';
import { clearSessionCookie, currentSession, endSessions } from '../sessions.ts';

export async function endSession(ctx: IdpContext, request: IdpRequest, url: URL): Promise<PlainResponse> {
  const params = await readParams(request, url);
  const hint = params.get('id_token_hint');
  const claims = hint ? await ctx.keys.verify(hint) : undefined;
  if (hint && (!claims || claims.iss !== ctx.issuer)) throw invalidRequest('id_token_hint is not an ID token issued here');
  const clientId = params.get('client_id') ?? (typeof claims?.aud === 'string' ? claims.aud : undefined);
  if (claims && params.has('client_id') && claims.aud !== params.get('client_id')) throw invalidRequest('client_id does not match the id_token_hint audience');
  const postLogout = params.get('post_logout_redirect_uri');
  if (postLogout !== undefined) {
    const client = clientId ? ctx.clients.get(clientId) : undefined;
    if (!client) throw invalidRequest('post_logout_redirect_uri needs id_token_hint or client_id');
    if (!client.postLogoutRedirectUris.includes(postLogout)) throw invalidRequest('post_logout_redirect_uri is not registered for this client');
  }
  const cookieSession = await currentSession(ctx, request);
  const hintSid = typeof claims?.sid === 'string' ? claims.sid : undefined;

  // Only the submitted confirmation form counts as the user's answer: a GET link carrying
  // confirm=yes (e.g. embedded by a third party) must not sign the user out unasked.
  const confirmed = request.method === 'POST' && params.get('confirm') === 'yes';
  if (confirmed) refuseCrossSite(ctx.issuer, ctx.hosts, request);
  if (cookieSession && hintSid !== cookieSession.id && !confirmed) {
    const { confirm: _, ...hidden } = Object.fromEntries(params); // the button carries confirm
    return html(logoutConfirmPage({ action: ctx.endpoints.endSession, hidden }));
  }
  // The session the hint names, and the browser's own (which the hint named, or the user confirmed).
  const ended = new Set([hintSid, cookieSession?.id].filter((id) => id !== undefined));
  if (ended.size) await endSessions(ctx, (s) => ended.has(s.id));
  const headers = { 'set-cookie': clearSessionCookie(ctx) };
  if (postLogout !== undefined) {
    const target = new URL(postLogout);
    const state = params.get('state');
    if (state !== undefined) target.searchParams.set('state', state);
    return redirect(target.href, headers, 302);
  }
  return html(signedOutPage(), 200, headers);
}
