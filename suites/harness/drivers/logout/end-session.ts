/**
 * OpenID Connect RP-Initiated Logout 1.0: the browser of the login goes to the end_session_endpoint
 * with id_token_hint (and post_logout_redirect_uri, state, client_id when given). Redirects are followed
 * with the login's cookie jar; one confirmation form ("Do you want to sign out?") is submitted, pressing
 * the affirmative button. Done at the redirect to post_logout_redirect_uri (never requested), or at the
 * first 2xx page after that, which is the IdP's own "signed out" page.
 */
import { CookieJar } from 'tough-cookie';
import { LogoutError } from '../../errors.ts';
import { buildSubmission, chooseConfirmationForm, chooseSubmitter, hasPassword } from '../../html.ts';
import type { Http } from '../../http.ts';
import { browse, describePage, safeUrl, sameEndpoint, type Page, type PageDecision } from '../browse.ts';
import type { LogoutDriver, LogoutInput, LogoutResult } from './types.ts';

export interface EndSessionLogoutOptions {
  endSessionEndpoint: string;
  /** Must be registered for the client; without it the flow ends on the IdP's page. */
  postLogoutRedirectUri?: string;
  maxHops?: number;
  /** Confirmation forms submitted at most (default 1): a later page with a form is the final page. */
  maxForms?: number;
}

export function createEndSessionLogout(options: EndSessionLogoutOptions): LogoutDriver {
  return { kind: 'end-session', logout: (http, input) => endSessionLogout(http, input, options) };
}

export async function endSessionLogout(http: Http, input: LogoutInput, options: EndSessionLogoutOptions): Promise<LogoutResult> {
  const jar = input.cookieJar ?? new CookieJar();
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

  const onPage = (page: Page): PageDecision<LogoutResult> => {
    const where = safeUrl(http, page.url);
    if (page.status < 200 || page.status >= 300) {
      throw new LogoutError('LOGOUT_UNEXPECTED_RESPONSE', `end-session logout: stopped at ${describePage(page)} at ${where}`, {
        url: where,
        status: page.status,
      });
    }
    const forms = page.html?.forms ?? [];
    if (forms.length === 0 || formsSent >= maxForms) return { stop: { outcome: 'page', url: where } };
    if (forms.some(hasPassword)) {
      throw new LogoutError('LOGOUT_UNEXPECTED_RESPONSE', `end-session logout: the IdP asks for a login (${describePage(page)}) at ${where}`, {
        url: where,
        status: page.status,
      });
    }
    const form = chooseConfirmationForm(forms)!;
    const submitter = chooseSubmitter(form);
    let sub;
    try {
      sub = buildSubmission(form, page.html!, page.url, submitter ? { submitter } : {});
    } catch {
      throw new LogoutError('LOGOUT_UNEXPECTED_RESPONSE', `end-session logout: form action ${JSON.stringify(form.action)} is not a valid URL`, { url: where });
    }
    formsSent++;
    return { next: { method: sub.method, url: sub.url, ...(sub.body && { body: sub.body }) } };
  };

  const redirectUri = options.postLogoutRedirectUri;
  const outcome = await browse<LogoutResult>({
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
    case 'loop':
      throw new LogoutError('LOGOUT_REDIRECT_LOOP', `end-session logout: redirect loop at ${outcome.url}`, { url: outcome.url });
    case 'too-many-hops':
      throw new LogoutError('LOGOUT_TOO_MANY_HOPS', `end-session logout: not done after ${outcome.hops} requests (last: ${outcome.url})`, {
        url: outcome.url,
      });
  }
}
