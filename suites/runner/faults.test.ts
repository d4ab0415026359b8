/**
 * Faulty targets: a remote target at https://faulty.test, simulated with msw. Discovery and the
 * JWKS work; then the token endpoint (or the login) misbehaves. An answer that breaks a rule fails
 * the checks that meet it; a fault that keeps our side from completing a check (no answer, a reset
 * connection, a redirect loop, a browser that does not start) errors them: either way with a message
 * naming the cause. The run must finish within a bound, and the reports must be written. A run longer
 * than `timeouts.runMs` is cut short (the run pipeline's deadline), its unfinished checks errored.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { http, HttpResponse, type HttpResponseResolver } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, writeReports } from '../harness/report/index.ts';
import { parseTarget, type Target } from '../harness/target.ts';
import { runCatalogue } from './pipeline.ts';
import type { InstanceResult } from './run.ts';

const ISSUER = 'https://faulty.test';
const server = setupServer();
let jwks: { keys: unknown[] };
let dir: string;
const timers = new Set<ReturnType<typeof setInterval>>();

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  const { publicKey } = await generateKeyPair('ES256');
  jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
  dir = await mkdtemp(path.join(tmpdir(), 'faults-'));
  server.use(...workingIdp());
  const control = await runAgainst();
  server.resetHandlers();
  dependent = new Set(control.failed.map(key));
  // The control fails on the OAuth error, never on a transport or login fault.
  for (const r of control.failed) expect(r.message).toMatch(/seen: HTTP 400 error=invalid_grant \(refused by the control\)/);
});
afterEach(() => {
  server.resetHandlers();
  for (const t of timers) clearInterval(t);
  timers.clear();
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function target(timeouts: { requestMs: number; runMs: number }, login: object = { driver: 'mock', username: 'alice' }): Promise<Target> {
  return parseTarget(
    {
      name: 'faulty',
      profile: 'telenorid-plus',
      issuer: ISSUER,
      clients: [
        { id: 'conf', secret: 'conf-secret-0123456789', auth: 'client_secret_basic', redirectUri: 'https://rp.example/cb', policy: 'Confidential', scope: 'openid profile' },
        { id: 'mobile', auth: 'none', redirectUri: 'https://rp.example/mobile-cb', policy: 'Mobile', scope: 'openid profile' },
      ],
      login,
      logout: { driver: 'end-session' },
      // No waiting: the checks that need time to pass are skipped, every other one runs at once.
      clock: { driver: 'real', maxWaitSeconds: 0 },
      timeouts,
    },
    'faults.test.ts',
  );
}

/** Discovery, JWKS and a login that works: the login_hint shortcut straight back to the redirect_uri. */
function workingIdp(overrides: { token?: HttpResponseResolver; authorize?: HttpResponseResolver } = {}) {
  return [
    http.get(`${ISSUER}/.well-known/openid-configuration`, () =>
      HttpResponse.json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
        end_session_endpoint: `${ISSUER}/logout`,
        grant_types_supported: ['authorization_code', 'refresh_token'],
        scopes_supported: ['openid', 'offline_access', 'profile'],
      }),
    ),
    http.get(`${ISSUER}/jwks`, () => HttpResponse.json(jwks)),
    http.get(
      `${ISSUER}/authorize`,
      overrides.authorize ??
        (({ request }) => {
          const q = new URL(request.url).searchParams;
          const back = new URL(q.get('redirect_uri')!);
          back.searchParams.set('code', `code-${Math.random().toString(36).slice(2)}-0123456789`);
          back.searchParams.set('state', q.get('state') ?? '');
          return new HttpResponse(null, { status: 302, headers: { location: back.href } });
        }),
    ),
    http.post(`${ISSUER}/token`, overrides.token ?? refusingTokenEndpoint),
  ];
}

/**
 * The control: a token endpoint that works for client_credentials and refuses every code and refresh
 * token with a proper OAuth error. The checks that fail against it are the ones that depend on a login
 * and its code exchange: each fault below must fail every one of them, naming the fault.
 */
const refusingTokenEndpoint: HttpResponseResolver = async ({ request }) => {
  const form = new URLSearchParams(await request.text());
  if (form.get('grant_type') === 'client_credentials') {
    return HttpResponse.json({ access_token: `at-${Math.random().toString(36).slice(2)}-0123456789`, token_type: 'Bearer', expires_in: 300 }, { headers: { 'cache-control': 'no-store' } });
  }
  return HttpResponse.json({ error: 'invalid_grant', error_description: 'refused by the control' }, { status: 400, headers: { 'cache-control': 'no-store' } });
};

/** Check instances (by name) that fail against the control. */
let dependent: Set<string>;
const key = (r: InstanceResult) => `${r.id} [${r.client}]`;

interface Outcome {
  results: InstanceResult[];
  ran: InstanceResult[];
  failed: InstanceResult[];
  errored: InstanceResult[];
  ms: number;
  report: { json: string; junit: string };
}

async function runAgainst(timeouts = { requestMs: 300, runMs: 20_000 }, concurrency?: number, login?: object): Promise<Outcome> {
  const t = await target(timeouts, login);
  const started = performance.now();
  const { results } = await runCatalogue(t, { ...(concurrency !== undefined && { concurrency }) });
  const ms = performance.now() - started;
  const report = buildReport({ target: t.name, profile: t.profile.name, startedAt: new Date(), durationMs: ms, checks: results });
  const written = await writeReports(path.join(dir, `run-${Math.random().toString(36).slice(2)}`), report);
  const ran = results.filter((r) => r.status !== 'skipped');
  return { results, ran, failed: results.filter((r) => r.status === 'failed'), errored: results.filter((r) => r.status === 'errored'), ms, report: written };
}

/** The reports are on disk and count the failures the run returned. */
async function expectReports(o: Outcome): Promise<void> {
  const json = JSON.parse(await readFile(o.report.json, 'utf8'));
  expect(json.summary.failed).toBe(o.failed.length);
  expect(json.summary.errored).toBe(o.errored.length);
  expect(json.checks).toHaveLength(o.results.length);
  const junit = await readFile(o.report.junit, 'utf8');
  expect(junit.match(/<failure /g) ?? []).toHaveLength(o.failed.length);
  expect(junit.match(/<error /g) ?? []).toHaveLength(o.errored.length);
}

/**
 * Every check that depends on the login and the code exchange ended with `status` (failed: the
 * IdP's answer broke a rule; errored: our side could not complete it), naming the fault; any other
 * check either passed (it never met the fault: metadata, client_credentials) or ended the same way.
 */
function expectOutcome(o: Outcome, status: 'failed' | 'errored', cause: RegExp): void {
  expect(dependent.size).toBeGreaterThan(5);
  const other = status === 'failed' ? 'errored' : 'failed';
  for (const r of o.ran) {
    if (dependent.has(key(r))) expect(r.status, key(r)).toBe(status);
    if (r.status === status) expect(r.message, `${key(r)}: ${r.message}`).toMatch(cause);
    expect(r.status, `${key(r)}: ${r.message}`).not.toBe(other);
  }
  expect((status === 'failed' ? o.failed : o.errored).length).toBeGreaterThanOrEqual(dependent.size);
}

describe('faulty targets: every concerned check fails or errors naming the cause, the run ends, the reports are written', () => {
  const tokenFaults: Array<[string, HttpResponseResolver, 'failed' | 'errored', RegExp, number?]> = [
    ['connection reset', () => HttpResponse.error(), 'errored', /errored: HTTP_NETWORK: POST https:\/\/faulty\.test\/token failed/],
    ['a token endpoint that never answers', () => new Promise<never>(() => undefined), 'errored', /errored: HTTP_TIMEOUT: POST https:\/\/faulty\.test\/token timed out after 300 ms/, 300],
    [
      'a slow-drip body (one byte every 100 ms, forever)',
      () => {
        let timer: ReturnType<typeof setInterval>;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode('{'));
            timer = setInterval(() => c.enqueue(new TextEncoder().encode(' ')), 100);
            timers.add(timer);
          },
          cancel() {
            clearInterval(timer);
          },
        });
        return new HttpResponse(body, { status: 200, headers: { 'content-type': 'application/json' } });
      },
      'errored',
      /errored: HTTP_TIMEOUT: POST https:\/\/faulty\.test\/token timed out after 300 ms while reading the response body/,
      300,
    ],
    ['HTTP 500', () => HttpResponse.json({ error: 'server_error' }, { status: 500 }), 'failed', /seen: HTTP 500 error=server_error/],
    ['an HTML page instead of JSON', () => HttpResponse.html('<html><body>Maintenance</body></html>'), 'failed', /seen: HTTP 200 with a non-JSON body/],
    ['invalid JSON', () => new HttpResponse('{"access_token": "abc", ', { headers: { 'content-type': 'application/json' } }), 'failed', /seen: HTTP 200 with a non-JSON body/],
    ['a token response without its fields', () => HttpResponse.json({ token_type: 'Bearer' }), 'failed', /seen: HTTP 200 (but access_token missing|token_type="Bearer")/],
  ];

  it.each(tokenFaults)('%s', async (_name, resolver, status, cause, atLeastMs) => {
    server.use(...workingIdp({ token: resolver }));
    const o = await runAgainst();
    expectOutcome(o, status, cause);
    // All checks run at once (real clock, no waits): the run takes about one request timeout, never a hang.
    expect(o.ms).toBeLessThan(8_000);
    if (atLeastMs) expect(o.ms).toBeGreaterThanOrEqual(atLeastMs);
    await expectReports(o);
  });

  it('a redirect loop during login', async () => {
    server.use(
      ...workingIdp({
        // /authorize → /authorize/again → /authorize (same URL, same cookies): the browser must notice.
        authorize: ({ request }) => new HttpResponse(null, { status: 302, headers: { location: `${ISSUER}/authorize/again?from=${encodeURIComponent(request.url)}` } }),
      }),
      http.get(`${ISSUER}/authorize/again`, ({ request }) => new HttpResponse(null, { status: 302, headers: { location: new URL(request.url).searchParams.get('from')! } })),
    );
    const o = await runAgainst();
    expectOutcome(o, 'errored', /errored: LOGIN_REDIRECT_LOOP: mock login: redirect loop at https:\/\/faulty\.test\/authorize/);
    expect(o.ms).toBeLessThan(8_000);
    await expectReports(o);
  });

  // Every login of the run starts a browser that exits at once, one start at a time (a check waits for
  // the starts queued before its own): quick, but on a loaded machine each start costs a process spawn.
  // The test's, the run's and each check's time (requestMs × 40) are sized for that; the fault is not slow.
  it('a browser that does not start is errored (our machine), never the IdP failing', { timeout: 60_000 }, async () => {
    server.use(...workingIdp());
    const login = { driver: 'browser', executablePath: '/bin/false', timeoutMs: 5_000, steps: [{ click: 'button' }] };
    const o = await runAgainst({ requestMs: 1_000, runMs: 50_000 }, undefined, login);
    expectOutcome(o, 'errored', /errored: LOGIN_BROWSER_UNAVAILABLE: login driver "browser": Chromium at \/bin\/false did not start/);
    await expectReports(o);
  });

  it('the control names none of these faults (the assertions above can tell them apart)', async () => {
    server.use(...workingIdp());
    const o = await runAgainst();
    expect(new Set(o.failed.map(key))).toEqual(dependent);
    for (const r of o.failed) expect(r.message).not.toMatch(/HTTP_TIMEOUT|HTTP_NETWORK|LOGIN_REDIRECT_LOOP|RUN_TIMEOUT|HTTP 500|non-JSON|with token_type/);
  });
});

describe('timeouts.runMs bounds the whole run', () => {
  it('aborts the checks under way and does not start the rest, each errored with RUN_TIMEOUT', async () => {
    // Requests may take 10 s each, but the run may take only 1 s: with one check at a time, the first
    // is stopped when the run's time is up and none of the others starts.
    server.use(...workingIdp({ token: () => new Promise<never>(() => undefined) }));
    const o = await runAgainst({ requestMs: 10_000, runMs: 1_000 }, 1);
    expect(o.ms).toBeGreaterThanOrEqual(1_000);
    expect(o.ms).toBeLessThan(3_000);
    expect(o.ran.length).toBeGreaterThan(5);
    // Plan order: the checks before the first that calls the token endpoint finish; that one is stopped.
    const stopped = o.ran.findIndex((r) => r.status === 'errored');
    expect(stopped).toBeGreaterThanOrEqual(0);
    expect(o.ran[stopped]!.message).toMatch(/RUN_TIMEOUT: the run exceeded timeouts\.runMs \(1000 ms\); the check was stopped/);
    const rest = o.ran.slice(stopped + 1);
    expect(rest.length).toBeGreaterThan(5);
    for (const r of rest) {
      expect(r.status, key(r)).toBe('errored');
      expect(r.message).toMatch(/RUN_TIMEOUT: not started, the run exceeded timeouts\.runMs \(1000 ms\)/);
      expect(r.durationMs).toBe(0);
    }
    // Skipped checks stay skipped: they were never going to run.
    expect(o.results.filter((r) => r.status === 'skipped').every((r) => !/RUN_TIMEOUT/.test(r.message ?? ''))).toBe(true);
    await expectReports(o);
  });

  it('with all checks running at once, every one is stopped at the deadline', async () => {
    server.use(...workingIdp({ token: () => new Promise<never>(() => undefined) }));
    const o = await runAgainst({ requestMs: 10_000, runMs: 800 });
    expect(o.ms).toBeGreaterThanOrEqual(800);
    expect(o.ms).toBeLessThan(2_500);
    for (const r of o.ran) {
      if (dependent.has(key(r))) expect(r.status, key(r)).toBe('errored');
      if (r.status === 'errored') expect(r.message, key(r)).toMatch(/RUN_TIMEOUT: the run exceeded timeouts\.runMs \(800 ms\); the check was stopped/);
    }
  });
});
