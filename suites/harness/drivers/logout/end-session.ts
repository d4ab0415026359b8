/**
 * OpenID Connect RP-Initiated Logout 1.0: the browser of the login goes to the end_session_endpoint
 * with id_token_hint (and post_logout_redirect_uri, state, client_id when given). Redirects are followed
 * with the login's cookie jar; one confirmation form ("Do you want to sign out?") is submitted, pressing
 * the affirmative button. The flow ends at the redirect to post_logout_redirect_uri (never requested), or
 * at the first other page, whatever it shows: a "signed out" page, the IdP's login page, an error page.
 *
 * The logout is judged by its effect, not by the page it ends on: with the same cookie jar, an
 * authorization request with prompt=none must come back with error=login_required (OIDC Core §3.1.2.6:
 * "the Authorization Server requires End-User authentication"). interaction_required, consent_required
 * and account_selection_required do not prove it (consent needs a user who is signed in), a code
 * disproves it. Without that proof, reaching the registered post_logout_redirect_uri is the OP's own
 * word that it logged the user out (RP-Initiated Logout §3). Neither: LOGOUT_UNCONFIRMED.
 */
import { CookieJar } from 'tough-cookie';
import { LogoutError } from '../../errors.ts';
import { buildSubmission, chooseConfirmationForm, chooseSubmitter, hasPassword } from '../../html.ts';
import type { Http } from '../../http.ts';
import { buildAuthorizationUrl, generatePkce, randomValue } from '../../oauth.ts';
import { browse, describePage, safeUrl, sameEndpoint, type BrowseOutcome, type Page, type PageDecision } from '../browse.ts';
import type { LogoutDriver, LogoutInput, LogoutResult } from './types.ts';

export interface EndSessionLogoutOptions {
  endSessionEndpoint: string;
  /** Must be registered for the client; without it the flow ends on the IdP's page. */
  postLogoutRedirectUri?: string;
  /** Where the logout is confirmed with prompt=none (with `input.clientId` and `input.redirectUri`). */
  authorizationEndpoint?: string;
  maxHops?: number;
  /** Confirmation forms submitted at most (default 1): a later page with a form is the final page. */
  maxForms?: number;
}

export function createEndSessionLogout(options: EndSessionLogoutOptions): LogoutDriver {
  return { kind: 'end-session', logout: (http, input) => endSessionLogout(http, input, options) };
}

/** Where the end-session flow ended, before the effect is checked. */
type Ending = { outcome: 'redirected'; url: string; state?: string } | { outcome: 'page'; url: string; page: string };

export async function endSessionLogout(http: Http, input: LogoutInput, options: EndSessionLogoutOptions): Promise<LogoutResult> {
  const jar = input.cookieJar ?? new CookieJar();
  // Without the login's session cookies (a manual login keeps them in the person's browser) prompt=none
  // gets login_required whether or not the session ended: no proof.
  const endpoint = options.authorizationEndpoint;
  const hadSession = endpoint !== undefined && (await jar.getCookies(endpoint)).length > 0;
  const ending = await endSession(http, jar, input, options);
  const probe = await probeSession(http, jar, input, options, hadSession);
  const where = ending.outcome === 'redirected' ? `at post_logout_redirect_uri ${ending.url}` : `on ${ending.page} at ${ending.url}`;
  if (probe.kind === 'active') {
    throw new LogoutError(
      'LOGOUT_UNCONFIRMED',
      `end-session logout: the SSO session is still active: the logout ended ${where}, then a prompt=none authorization request returned a code`,
      { url: ending.url },
    );
  }
  const result: LogoutResult = ending.outcome === 'redirected' ? ending : { outcome: 'page', url: ending.url };
  if (probe.kind === 'ended') return { ...result, confirmedBy: 'login_required' };
  if (ending.outcome === 'redirected') return { ...result, confirmedBy: 'post_logout_redirect_uri' };
  throw new LogoutError(
    'LOGOUT_UNCONFIRMED',
    `end-session logout: not confirmed: the logout ended ${where}, and ${probe.seen} ` +
      '(only error=login_required for prompt=none shows the session ended, OIDC Core §3.1.2.6; or a redirect to a registered post_logout_redirect_uri)',
    { url: ending.url },
  );
}

/** The RP-initiated logout request and its confirmation form; any page it ends on is accepted here. */
async function endSession(http: Http, jar: CookieJar, input: LogoutInput, options: EndSessionLogoutOptions): Promise<Ending> {
  const start = new URL(options.endSessionEndpoint);
  const params: Record<string, string | undefined> = {
    id_token_hint: input.idToken,
    post_logout_redirect_uri: options.postLogoutRedirectUri,
    state: input.state,
    client_id: input.clientId,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) start.searchParams.set(k, v);
  const maxForms = options.maxForms ?? 1;
  let formsSent = 0;

  const onPage = (page: Page): PageDecision<Ending> => {
    const stop = { stop: { outcome: 'page' as const, url: safeUrl(http, page.url), page: describePage(page) } };
    const forms = page.html?.forms ?? [];
    // A login form is what many IdPs show once the user is signed out: never filled in, the effect decides.
    if (page.status < 200 || page.status >= 300 || forms.length === 0 || formsSent >= maxForms || forms.some(hasPassword)) return stop;
    const form = chooseConfirmationForm(forms)!;
    const submitter = chooseSubmitter(form);
    let sub;
    try {
      sub = buildSubmission(form, page.html!, page.url, submitter ? { submitter } : {});
    } catch {
      return stop; // an action no URL parser accepts
    }
    formsSent++;
    return { next: { method: sub.method, url: sub.url, ...(sub.body && { body: sub.body }) } };
  };

  const redirectUri = options.postLogoutRedirectUri;
  const outcome = await browse<Ending>({
    http,
    jar,
    start: { method: 'GET', url: start.href },
    isDestination: (u) => redirectUri !== undefined && sameEndpoint(u, redirectUri),
    onPage,
    ...(options.maxHops !== undefined && { maxHops: options.maxHops }),
    ...(input.signal && { signal: input.signal }),
  });
  switch (outcome.kind) {
    case 'arrived': {
      const state = outcome.arrival.params.get('state');
      return { outcome: 'redirected', url: safeUrl(http, outcome.arrival.url), ...(state !== null && { state }) };
    }
    case 'stopped':
      return outcome.value;
    default:
      throw flowError(outcome);
  }
}

type Probe = { kind: 'ended' } | { kind: 'active' } | { kind: 'unknown'; seen: string };

/** prompt=none with the login's cookies: login_required proves the session ended, a code that it did not. */
async function probeSession(http: Http, jar: CookieJar, input: LogoutInput, options: EndSessionLogoutOptions, hadSession: boolean): Promise<Probe> {
  const { authorizationEndpoint: endpoint } = options;
  const { clientId, redirectUri } = input;
  if (endpoint === undefined || clientId === undefined || redirectUri === undefined) {
    return { kind: 'unknown', seen: 'no prompt=none authorization request could be sent (no authorization endpoint, client_id or redirect_uri)' };
  }
  if (!hadSession) {
    return { kind: 'unknown', seen: 'the login left no session cookies for the authorization endpoint, so a prompt=none request could prove nothing' };
  }
  const state = randomValue();
  const url = buildAuthorizationUrl({
    endpoint,
    client: { id: clientId, redirectUri },
    scope: 'openid',
    state,
    nonce: randomValue(),
    codeChallenge: generatePkce().challenge,
    prompt: 'none',
  });
  const outcome = await browse<string>({
    http,
    jar,
    start: { method: 'GET', url },
    isDestination: (u) => sameEndpoint(u, redirectUri),
    // prompt=none forbids any page (OIDC Core §3.1.2.1): whatever is shown proves nothing.
    onPage: (page) => ({ stop: `${describePage(page)} at ${safeUrl(http, page.url)}` }),
    ...(options.maxHops !== undefined && { maxHops: options.maxHops }),
    ...(input.signal && { signal: input.signal }),
  });
  const unknown = (what: string): Probe => ({ kind: 'unknown', seen: `a prompt=none authorization request afterwards got ${what}` });
  switch (outcome.kind) {
    case 'arrived': {
      const params = outcome.arrival.params;
      if (params.get('state') !== state) return unknown(`a redirect with state ${JSON.stringify(params.get('state'))}, not the one sent`);
      const error = params.get('error');
      if (error === 'login_required') return { kind: 'ended' };
      if (error === null && params.has('code')) return { kind: 'active' };
      return unknown(error === null ? 'a redirect with neither code nor error' : `error=${error}`);
    }
    case 'stopped':
      return unknown(`a page instead of a redirect: ${outcome.value}`);
    case 'loop':
      return unknown(`a redirect loop at ${outcome.url}`);
    case 'too-many-hops':
      return unknown(`no answer after ${outcome.hops} requests (last: ${outcome.url})`);
  }
}

function flowError(outcome: Extract<BrowseOutcome<unknown>, { kind: 'loop' | 'too-many-hops' }>): LogoutError {
  if (outcome.kind === 'loop') return new LogoutError('LOGOUT_REDIRECT_LOOP', `end-session logout: redirect loop at ${outcome.url}`, { url: outcome.url });
  return new LogoutError('LOGOUT_TOO_MANY_HOPS', `end-session logout: not done after ${outcome.hops} requests (last: ${outcome.url})`, { url: outcome.url });
}
