/**
 * Authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and the login form behind it.
 * Errors about the client or redirect_uri are shown here, never redirected (RFC 6749 §4.1.2.1).
 */
import { hashToken, randomToken } from '../crypto.ts';
import { OAuthError, invalidRequest } from '../errors.ts';
import { html, parseCookies, readForm, readParams, redirect, requireMethod, scopeList, type IdpRequest, type Params, type PlainResponse } from '../http.ts';
import { LOGIN_COOKIE, type IdpContext } from '../context.ts';
import { MAX_AUTHORIZE_PARAM_CHARS, MAX_AUTHORIZE_REQUEST_CHARS, MAX_PENDING_LOGINS } from '../limits.ts';
import { refuseCrossSite } from '../origin.ts';
import type { MockClient, MockUser } from '../fixtures.ts';
import { loginPage } from '../pages.ts';
import { cookieAttributes, currentSession, sessionCookie, startSession } from '../sessions.ts';
import { StoreUnavailableError, type SsoSession } from '../store.ts';
import { syncClock } from '../replicas.ts';
import { constantTimeEqual } from '../crypto.ts';

const CODE_TTL = 60;
const LOGIN_TTL = 600;

interface AuthRequest {
  client: MockClient;
  redirectUri: string;
  scope: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  prompt: string[];
  loginHint?: string;
}

function errorRedirect(req: { redirectUri: string; state?: string }, ctx: IdpContext, error: string, description: string): PlainResponse {
  const url = new URL(req.redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (req.state !== undefined) url.searchParams.set('state', req.state);
  url.searchParams.set('iss', ctx.issuer);
  return redirect(url.href, {}, 302);
}

/** Validates the request; throws for client/redirect_uri problems, returns the error redirect for the rest. */
function validate(ctx: IdpContext, params: Params): AuthRequest | { redirect: PlainResponse } {
  const clientId = params.get('client_id');
  if (!clientId) throw invalidRequest('client_id is required');
  const client = ctx.clients.get(clientId);
  if (!client) throw invalidRequest('unknown client_id');
  const requestedUri = params.get('redirect_uri');
  if (!requestedUri) throw invalidRequest('redirect_uri is required');
  // Exact string match against the registered URIs (RFC 9700 §4.1.3).
  // The registered string itself is kept (equal, and shared by every code instead of a copy each).
  const redirectUri = client.redirectUris.find((u) => u === requestedUri);
  if (redirectUri === undefined) throw invalidRequest('redirect_uri is not registered for this client');
  const state = params.get('state');
  const back = { redirectUri, ...(state !== undefined && { state }) };
  const refuse = (error: string, description: string) => ({ redirect: errorRedirect(back, ctx, error, description) });
  const responseType = params.get('response_type');
  if (responseType !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code')) return refuse('unauthorized_client', 'client may not use the code flow');
  const profile = ctx.behaviour.profile;
  const policy = profile.policies[client.policy]!;
  const supported = new Set(['openid', profile.offlineAccessScope, ...profile.scopes]);
  const requested = scopeList(params.get('scope'));
  const unknown = requested.filter((s) => !supported.has(s));
  if (unknown.length) return refuse('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  // OIDC Core §11: offline_access is ignored for a client whose policy never refreshes.
  // The profile's own scope strings (equal to the requested ones), shared by every grant that holds them.
  const canonical = new Map([...supported].map((s) => [s, s]));
  const scope = requested.filter((s) => s !== profile.offlineAccessScope || policy.refresh).map((s) => canonical.get(s)!);
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method') ?? (challenge ? 'plain' : undefined);
  if (challenge !== undefined && method !== 'S256') return refuse('invalid_request', 'code_challenge_method must be S256');
  if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return refuse('invalid_request', 'code_challenge is malformed');
  if (!client.confidential && challenge === undefined) return refuse('invalid_request', 'PKCE (S256) is required for public clients');
  const nonce = params.get('nonce');
  const loginHint = params.get('login_hint');
  return {
    client,
    redirectUri,
    scope,
    prompt: scopeList(params.get('prompt')),
    ...(state !== undefined && { state }),
    ...(nonce !== undefined && { nonce }),
    ...(challenge !== undefined && { codeChallenge: challenge }),
    ...(loginHint !== undefined && { loginHint }),
  };
}

/** Issues the code and redirects back (consent is automatic). */
async function complete(ctx: IdpContext, req: AuthRequest, session: SsoSession, setCookie?: string): Promise<PlainResponse> {
  const code = randomToken();
  const now = ctx.clock.now();
  const hash = hashToken(code);
  await ctx.store.addCode({
    hash,
    clientId: req.client.id,
    redirectUri: req.redirectUri,
    scope: req.scope,
    sub: session.sub,
    sid: session.id,
    authTime: session.authTime,
    expiresAt: now + CODE_TTL,
    accessTokenHashes: [],
    ...(req.nonce !== undefined && { nonce: req.nonce }),
    ...(req.codeChallenge !== undefined && { codeChallenge: req.codeChallenge }),
  });
  const url = new URL(req.redirectUri);
  url.searchParams.set('code', code);
  if (req.state !== undefined) url.searchParams.set('state', req.state);
  url.searchParams.set('iss', ctx.issuer); // RFC 9207
  return redirect(url.href, setCookie ? { 'set-cookie': setCookie } : {}, 302);
}

function serialize(params: Params): Record<string, string> {
  return Object.fromEntries(params);
}

/** Bounds what one request can make the mock keep (a pending login holds all its parameters). */
function requireBoundedSize(params: Params): void {
  let total = 0;
  for (const [name, value] of params) {
    if (value.length > MAX_AUTHORIZE_PARAM_CHARS) throw invalidRequest(`a parameter is longer than ${MAX_AUTHORIZE_PARAM_CHARS} characters`);
    total += name.length + value.length;
  }
  if (total > MAX_AUTHORIZE_REQUEST_CHARS) throw invalidRequest(`the authorization request is longer than ${MAX_AUTHORIZE_REQUEST_CHARS} characters`);
}

const BROWSER_ID = /^[A-Za-z0-9_-]{24}$/;

/** The browser's login-binding value: the one it already holds (several tabs), or a new one to set. */
function browserBinding(ctx: IdpContext, request: IdpRequest): { id: string; setCookie?: string } {
  const held = parseCookies(request).get(LOGIN_COOKIE);
  if (held !== undefined && BROWSER_ID.test(held)) return { id: held };
  const id = randomToken(18);
  // SameSite=Strict: the login form posts from the mock's own page; no other site's post carries it.
  return { id, setCookie: `${LOGIN_COOKIE}=${id}; ${cookieAttributes(ctx, 'Strict')}` };
}

export async function authorize(ctx: IdpContext, request: IdpRequest, url: URL): Promise<PlainResponse> {
  const params = await readParams(request, url);
  requireBoundedSize(params);
  const req = validate(ctx, params);
  if ('redirect' in req) return req.redirect;
  // The client and redirect_uri are configuration, valid without the store: an unreachable store is
  // told to the client by redirect (RFC 6749 §4.1.2.1 temporarily_unavailable), not shown to the user.
  try {
    if (ctx.store.replicated) await syncClock(ctx);
    return await authorizeValid(ctx, request, params, req);
  } catch (e) {
    if (e instanceof StoreUnavailableError) return errorRedirect(req, ctx, 'temporarily_unavailable', 'the authorization server cannot reach its store; retry later');
    throw e;
  }
}

async function authorizeValid(ctx: IdpContext, request: IdpRequest, params: Params, req: AuthRequest): Promise<PlainResponse> {
  const session = req.prompt.includes('login') ? undefined : await currentSession(ctx, request);
  if (session) return complete(ctx, req, session);
  if (req.prompt.includes('none')) return errorRedirect(req, ctx, 'login_required', 'no active SSO session');
  // Test-mode shortcut: login_hint naming a test user signs in without the form.
  const hinted = ctx.testMode && req.loginHint ? ctx.users.find((u) => u.username === req.loginHint) : undefined;
  if (hinted) {
    const s = await startSession(ctx, hinted);
    return complete(ctx, req, s, sessionCookie(ctx, s));
  }
  const tx = randomToken(18);
  const p = serialize(params);
  delete p.prompt; // once the form is submitted, the login it asked for has happened
  const browser = browserBinding(ctx, request);
  await ctx.store.addPendingLogin({ id: tx, params: p, browser: browser.id, expiresAt: ctx.clock.now() + LOGIN_TTL }, MAX_PENDING_LOGINS);
  const page = loginPage({ action: ctx.endpoints.login, tx, clientId: req.client.id, ...(req.loginHint && { username: req.loginHint }) });
  return html(page, 200, browser.setCookie ? { 'set-cookie': browser.setCookie } : {});
}

function findUser(ctx: IdpContext, username: string, password: string): MockUser | undefined {
  const user = ctx.users.find((u) => u.username === username);
  // Compare even for unknown users so timing does not reveal which usernames exist.
  const ok = constantTimeEqual(password, user?.password ?? '\u0000');
  return user && ok ? user : undefined;
}

export async function login(ctx: IdpContext, request: IdpRequest): Promise<PlainResponse> {
  requireMethod(request, 'POST');
  refuseCrossSite(ctx.issuer, ctx.hosts, request);
  const form = await readForm(request);
  const tx = form.get('tx');
  const pending = tx ? await ctx.store.pendingLogin(tx) : undefined;
  // Only the browser that was shown the login page may complete it (login CSRF): it holds the cookie.
  const browser = parseCookies(request).get(LOGIN_COOKIE) ?? '';
  if (!pending || pending.expiresAt <= ctx.clock.now() || !constantTimeEqual(browser, pending.browser)) {
    throw new OAuthError('invalid_request', 'login request is unknown, expired or from another browser; start again at the authorization endpoint');
  }
  const req = validate(ctx, new Map(Object.entries(pending.params)));
  if ('redirect' in req) return req.redirect;
  const user = findUser(ctx, form.get('username') ?? '', form.get('password') ?? '');
  if (!user) {
    return html(
      loginPage({ action: ctx.endpoints.login, tx: pending.id, clientId: req.client.id, error: 'Invalid username or password.', username: form.get('username') ?? '' }),
    );
  }
  // Once: of two submissions of one form (concurrent), the second finds it gone.
  if (!(await ctx.store.removePendingLogin(pending.id))) throw new OAuthError('invalid_request', 'login request is unknown, expired or from another browser; start again at the authorization endpoint');
  const session = await startSession(ctx, user);
  return complete(ctx, req, session, sessionCookie(ctx, session));
}
