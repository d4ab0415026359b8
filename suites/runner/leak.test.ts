/**
 * A hostile target cannot make the harness leak a secret or reach the terminal with control characters.
 *
 * A loopback IdP that plays along far enough for checks to log in and refresh, then echoes every secret
 * it was given or gave (the client secret, the Basic credentials, the user's password, the refresh and
 * access tokens, the code and the code_verifier), each in every encoding of the issue (raw, Base64
 * standard and URL-safe with and without padding, upper- and lower-case percent-encoding, form encoding,
 * JSON `\uXXXX` of every character and .NET's default escapes, HTML named, decimal and hex references):
 * in error_description, in a header value, in header names, in the HTTP reason phrase and in a non-JSON
 * body, together with terminal escapes (OSC title, clear screen, C1 CSI). The CLI runs three checks that
 * fail on those answers; stdout, stderr, report.json, junit.xml and report.html are scanned for every
 * secret in every encoding (zero hits) and stdout, junit.xml and report.html for raw ESC, BEL and C1.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

const CLIENT_ID = 'leaky-client';
const CLIENT_SECRET = 'cl!ent S3cr3t+/<&>"\'é~42';
const USERNAME = 'qa-user';
const PASSWORD = 'pa55 w0rd+<&>"\'/x';
const REFRESH_TOKEN = 'rt.Abc+/def=ghi~jkl_0123456789';
const ACCESS_TOKEN = 'at.Zyx+/wvu=tsr~0123456789';
const CODE = 'code+/Q9=authorization~code';
const REDIRECT_URI = 'https://app.example/cb';
const TERMINAL = '\u001b]0;pwned\u0007\u001b[2J\u009b31m';

/** The forms an echo of `s` takes (the list). */
function encodings(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const b64 = bytes.toString('base64');
  const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
  const upper = encodeURIComponent(s);
  return [
    ...new Set([
      s,
      b64,
      b64.replace(/=+$/, ''),
      url,
      url.replace(/=+$/, ''),
      upper,
      upper.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      new URLSearchParams({ v: s }).toString().slice(2),
      [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
      // .NET System.Text.Json's default: + < > & ' " as \u escapes, upper-case hex.
      [...s].map((c) => ("+<>&'\"".includes(c) ? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : c === '\\' ? '\\\\' : c)).join(''),
      s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
      [...s].map((c) => `&#${c.codePointAt(0)};`).join(''),
      [...s].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join(''),
    ]),
  ];
}

/** Header-safe (latin1, no controls) encodings only. */
const headerSafe = (list: string[]) => list.filter((e) => /^[\x20-\x7e\u00a0-\u00ff]*$/.test(e));

let server: Server;
/** Two of the checks below log in (one per group, so one per worker process); every code_verifier the IdP was given. */
const LOGINS = 2;
const verifiers = new Set<string>();
let release: () => void = () => undefined;
const allLoggedIn = new Promise<void>((resolve) => {
  release = resolve;
  // Bounded: a harness that logs in less often still gets its answers.
  setTimeout(resolve, 15_000).unref();
});
const isLogin = (req: IncomingMessage, body: string) =>
  !req.url?.startsWith('/token') || new URLSearchParams(body).get('grant_type') === 'authorization_code';
let issuer: string;
let dir: string;
/** What the IdP was given: the code_verifier and the Authorization header. */
const given = { verifier: '', authorization: '' };
/**
 * The secrets the harness has certainly registered, which the IdP echoes: those of the target file from
 * the start; a code, a token or a verifier once a later request shows the harness has read it.
 */
const known = new Set<string>();

function secrets(): Map<string, string> {
  const basic = `${encodeURIComponent(CLIENT_ID)}:${new URLSearchParams({ v: CLIENT_SECRET }).toString().slice(2)}`;
  const out = new Map<string, string>([
    [CLIENT_SECRET, 'client secret'],
    [basic, 'Basic credentials'],
    [PASSWORD, 'password'],
    [REFRESH_TOKEN, 'refresh token'],
    [ACCESS_TOKEN, 'access token'],
    [CODE, 'code'],
  ]);
  for (const v of verifiers) out.set(v, 'code_verifier');
  return out;
}

/** Every secret known so far in every encoding, and the terminal escapes. */
function echo(): string {
  return [...known].flatMap(encodings).join(' | ') + TERMINAL;
}

function answer(res: ServerResponse, status: number, reason: string, headers: Record<string, string>, body: string): void {
  const names: Record<string, string> = {};
  // Header names are tokens: Base64url of each secret fits.
  for (const s of known) names[`x-${Buffer.from(s).toString('base64url')}`] = 'name-echo';
  res.writeHead(status, reason, {
    ...names,
    'x-echo': `${headerSafe([...known].flatMap(encodings)).join(' | ')} ${given.authorization} \u009b`,
    ...headers,
  });
  res.end(body);
}

function handle(req: IncomingMessage, body: string, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', issuer);
  const form = new URLSearchParams(body);
  if (url.pathname === '/.well-known/openid-configuration') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/end-session`,
        grant_types_supported: ['authorization_code', 'refresh_token'],
        scopes_supported: ['openid', 'offline_access'],
      }),
    );
  } else if (url.pathname === '/jwks') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"keys":[]}');
  } else if (url.pathname === '/authorize') {
    const state = url.searchParams.get('state') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><title>Sign in</title><form method="post" action="/login"><input type="hidden" name="state" value="${state}"><input name="username"><input type="password" name="password"><button>Sign in</button></form>`,
    );
  } else if (url.pathname === '/login') {
    res.writeHead(302, { location: `${REDIRECT_URI}?code=${encodeURIComponent(CODE)}&state=${encodeURIComponent(form.get('state') ?? '')}` });
    res.end();
  } else if (url.pathname === '/token' && form.get('grant_type') === 'authorization_code') {
    given.verifier = form.get('code_verifier') ?? '';
    verifiers.add(given.verifier);
    if (verifiers.size >= LOGINS) release();
    given.authorization = req.headers.authorization ?? '';
    for (const v of [CODE, given.verifier]) known.add(v);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, refresh_token: REFRESH_TOKEN }));
  } else if (url.pathname === '/token' && form.get('refresh_token') === REFRESH_TOKEN && !form.has('scope')) {
    known.add(REFRESH_TOKEN).add(ACCESS_TOKEN);
    // The known refresh token: an OAuth error whose error_description echoes everything.
    answer(res, 400, `Bad ${headerSafe(encodings(REFRESH_TOKEN)).join(' ')} ${headerSafe(encodings(CLIENT_SECRET)).join(' ')}`, { 'content-type': 'application/json' }, JSON.stringify({ error: 'invalid_grant', error_description: echo() }));
  } else {
    // Anything else: a non-JSON body with everything, and a reason phrase with secrets and a C1 control.
    answer(res, 400, `Nope ${headerSafe(encodings(PASSWORD)).join(' ')} \u009b`, { 'content-type': 'text/plain' }, `not json: ${echo()}`);
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    // Echoing answers wait until every check has logged in: each echo then holds every check's
    // code_verifier, those of checks in other worker processes too (the CLI runs each group in its own).
    req.on('end', () => void (isLogin(req, body) ? Promise.resolve() : allLoggedIn).then(() => handle(req, body, res)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), 'leak-'));
  for (const s of [CLIENT_SECRET, `${CLIENT_ID}:${CLIENT_SECRET}`, PASSWORD]) known.add(s);
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('a hostile target echoing secrets and terminal escapes', () => {
  it('the CLI writes no secret in any encoding, and no raw control character, to stdout or any report', async () => {
    const targetFile = path.join(dir, 'target.json');
    await writeFile(
      targetFile,
      JSON.stringify({
        name: 'hostile',
        profile: 'telenorid-plus',
        issuer,
        clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET, auth: 'client_secret_basic', redirectUri: REDIRECT_URI, policy: 'Confidential', scope: 'openid' }],
        login: { driver: 'form', username: USERNAME, password: PASSWORD },
        logout: { driver: 'end-session' },
        clock: { driver: 'real', maxWaitSeconds: 0 },
        // Answers wait for both logins (allLoggedIn): the request timeout leaves room for that.
        timeouts: { requestMs: 20_000, runMs: 60_000 },
      }),
    );
    const reportDir = path.join(dir, 'reports');
    // Each of these needs the refresh to succeed or to be refused properly, so the echoing answers fail them.
    const checks = ['expiry.access-token-expires-in', 'token-endpoint.error-shape', 'token-endpoint.wrong-secret-rejected'];
    const { code, stdout, stderr } = await runCli(['--target', targetFile, '--report-dir', reportDir, '--check', checks.join(',')]);
    expect({ code, stderr: stderr.slice(0, 500) }).toMatchObject({ code: 1 });

    const files = {
      'report.json': await readFile(path.join(reportDir, 'report.json'), 'utf8'),
      'junit.xml': await readFile(path.join(reportDir, 'junit.xml'), 'utf8'),
      'report.html': await readFile(path.join(reportDir, 'report.html'), 'utf8'),
    };
    // The echoes arrived and were judged: the checks failed with the target's answers in their messages.
    const report = JSON.parse(files['report.json']) as { checks: Array<{ id: string; status: string; message: string | null }> };
    for (const id of checks) expect(report.checks.find((c) => c.id === id)?.status, id).toBe('failed');
    expect(stdout).toContain('seen: HTTP 400 error=invalid_grant (');
    expect(stdout).toContain('\\x1b]0;pwned\\x07');
    expect(given.verifier).not.toBe('');
    // Every check logged in, so the echoes held the code_verifiers of checks run in other worker processes.
    expect(verifiers.size).toBe(LOGINS);
    // One fingerprint per value across the run's processes: the same refresh token has one marker.
    const echoed = [...stdout.matchAll(/HTTP 400 Bad \[redacted:refresh_token#([0-9a-f]{6})\]/g)].map((m) => m[1]);
    expect(echoed.length).toBeGreaterThanOrEqual(2);
    expect(new Set(echoed).size).toBe(1);
    expect([...known]).toEqual(expect.arrayContaining([REFRESH_TOKEN, ACCESS_TOKEN, CODE, given.verifier]));

    const hits: string[] = [];
    for (const [value, label] of secrets()) {
      for (const [i, form] of encodings(value).entries()) {
        for (const [name, text] of Object.entries({ ...files, stdout, stderr })) if (text.includes(form)) hits.push(`${label} (encoding ${i}) in ${name}`);
      }
    }
    expect(hits).toEqual([]);
    // The scan can see a leak: the target's own answer holds every one of them.
    expect(echo()).toContain(CLIENT_SECRET);

    for (const [name, text] of Object.entries({ stdout, 'junit.xml': files['junit.xml'], 'report.html': files['report.html'] })) {
      expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.exec(text)?.[0], name).toBeUndefined();
    }
  }, 120_000);
});
