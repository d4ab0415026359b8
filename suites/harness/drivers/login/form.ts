/**
 * Headless HTTP login, as a person with a browser would do it, without JavaScript:
 * follow redirects with a cookie jar; on a page with a password field fill in username and password;
 * on a username-only page (identifier-first login) fill in the username; on any other page with a form
 * (consent, "continue", confirmation) submit it as it is, pressing the affirmative button; stop at the
 * redirect to the redirect_uri and read the code there, without requesting it.
 *
 * The login form coming back after the credentials went in means they were refused: LOGIN_REJECTED.
 * Every request stays on the allowed origins (origins.ts): a redirect or a form aimed elsewhere stops the
 * login with LOGIN_FOREIGN_ORIGIN before anything is sent there.
 */
import { CookieJar } from 'tough-cookie';
import { LoginError } from '../../errors.ts';
import { buildSubmission, chooseConfirmationForm, chooseSubmitter, hasPassword, isTextInput, type FormControl, type HtmlForm, type HtmlPage } from '../../html.ts';
import type { Http } from '../../http.ts';
import { browse, describePage, safeUrl, sameEndpoint, type Page, type PageDecision, type Step } from '../browse.ts';
import { allowedOrigins, guardOrigins, type OriginPolicy } from './origins.ts';
import { finishLogin, type LoginDriver, type LoginInput, type LoginResult } from './types.ts';

export interface FormLoginOptions extends OriginPolicy {
  username: string;
  password: string;
  maxHops?: number;
}

export function createFormLogin(options: FormLoginOptions): LoginDriver {
  return { kind: 'form', login: (http, input) => formLogin(http, input, options) };
}

/** Names, ids and autocomplete tokens of a username field. */
const USERNAME_HINT = /user|email|e-mail|login|ident|account|phone|msisdn|mobile|name/i;

export async function formLogin(unguarded: Http, input: LoginInput, options: FormLoginOptions): Promise<LoginResult> {
  const { username, password } = options;
  unguarded.recorder?.addSecret(password, 'password');
  const jar = input.cookieJar ?? new CookieJar();
  const who = `login as "${username}"`;
  const http = guardOrigins(unguarded, allowedOrigins(input.authorizationUrl, options), who);
  let passwordSent = false;
  let usernameSent = false;

  const onPage = (page: Page): PageDecision<never> => {
    const where = safeUrl(http, page.url);
    if (page.status < 200 || page.status >= 300 || !page.html) {
      throw new LoginError('LOGIN_UNEXPECTED_RESPONSE', `${who}: stopped at ${describePage(page)} at ${where}`, { url: where, status: page.status });
    }
    const html = page.html;
    const passwordForm = html.forms.find(hasPassword);
    if (passwordForm) {
      if (passwordSent) {
        throw new LoginError(
          'LOGIN_REJECTED',
          `${who}: the login form came back after the password was submitted (wrong username or password?)${says(html)} at ${where}`,
          { url: where, status: page.status },
        );
      }
      passwordSent = true;
      return { next: submit(passwordForm, html, page.url, fillCredentials(passwordForm, username, password)) };
    }
    const usernameField = html.forms.map((f) => ({ form: f, field: usernameInput(f) })).find((x) => x.field);
    if (usernameField?.field) {
      if (usernameSent) {
        throw new LoginError(
          'LOGIN_REJECTED',
          `${who}: the username form came back after the username was submitted (unknown user?)${says(html)} at ${where}`,
          { url: where, status: page.status },
        );
      }
      usernameSent = true;
      return { next: submit(usernameField.form, html, page.url, new Map([[usernameField.field, username]])) };
    }
    const form = chooseConfirmationForm(html.forms);
    if (!form) {
      throw new LoginError('LOGIN_UNEXPECTED_RESPONSE', `${who}: stopped at a page without a form: ${describePage(page)} at ${where}`, {
        url: where,
        status: page.status,
      });
    }
    return { next: submit(form, html, page.url, new Map()) };
  };

  const outcome = await browse<never>({
    http,
    jar,
    start: { method: 'GET', url: input.authorizationUrl },
    isDestination: (u) => sameEndpoint(u, input.redirectUri),
    onPage,
    ...(options.maxHops !== undefined && { maxHops: options.maxHops }),
    ...(input.signal && { signal: input.signal }),
  });
  return finishLogin(http, outcome, input, jar, who);
}

/** The password field, and the text-like field just before it (the username), if any. */
function fillCredentials(form: HtmlForm, username: string, password: string): Map<FormControl, string> {
  const values = new Map<FormControl, string>();
  const at = form.controls.findIndex((c) => c.kind === 'input' && c.type === 'password');
  const pw = form.controls[at]!;
  values.set(pw, password);
  const user = form.controls.slice(0, at).findLast(isTextInput);
  if (user) values.set(user, username);
  return values;
}

/** In a form without a password field: an empty text-like field, preferably one named like a username. */
function usernameInput(form: HtmlForm): FormControl | undefined {
  const empty = form.controls.filter((c) => isTextInput(c) && c.value === '');
  return empty.find((c) => USERNAME_HINT.test(`${c.name} ${c.id ?? ''} ${c.autocomplete ?? ''}`)) ?? empty[0];
}

function submit(form: HtmlForm, html: HtmlPage, pageUrl: string, values: Map<FormControl, string>): Step {
  const submitter = chooseSubmitter(form);
  let sub;
  try {
    sub = buildSubmission(form, html, pageUrl, { values, ...(submitter && { submitter }) });
  } catch {
    throw new LoginError('LOGIN_UNEXPECTED_RESPONSE', `form action ${JSON.stringify(form.action)} is not a valid URL`);
  }
  return { method: sub.method, url: sub.url, ...(sub.body && { body: sub.body }) };
}

function says(html: HtmlPage): string {
  return html.alerts.length ? `; page says: "${html.alerts.join(' / ')}"` : '';
}
