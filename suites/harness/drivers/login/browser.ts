/**
 * Login in a real browser, for login pages that need JavaScript: the system's Chromium (Debian's
 * `chromium` package; playwright never downloads one here) driven by playwright-core.
 *
 * Each login gets a fresh browser with a fresh temporary profile (`--user-data-dir`), runs the target's
 * steps (fill, click, waitFor) on the authorization URL's page, and waits for the authorization response.
 * The redirect to the redirect_uri is caught in the browser's network layer (CDP Fetch, response stage)
 * from the 3xx Location header, before the browser follows it: the redirect_uri is never requested, which
 * matters for a private-use scheme (`no.example.mobile:/cb`, RFC 8252 §7.1) and for a real app's https
 * callback that would redeem the code first. The page gets a small "signed in" page instead.
 *
 * Every document request and response (headers; bodies are not read) goes into the check's recorder,
 * redacted, and every `fill` value is registered as a secret first. The browser's cookies are copied into
 * a tough-cookie jar, so an end-session logout can reuse the SSO session.
 *
 * Credentials stay on the allowed origins (origins.ts): a navigation or form submission to any other
 * origin is blocked in the network layer before it is sent, and so is, once a fill has begun, any request
 * to another origin that a script sends (fetch, XHR, beacon), has a body, or carries a filled value in any
 * encoding; the login stops with LOGIN_FOREIGN_ORIGIN naming the origin. Scripts, styles, images and
 * iframes from a CDN still load. Before the browser closes the page is sealed (see seal()).
 */
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { Cookie, CookieJar } from 'tough-cookie';
import { LoginError } from '../../errors.ts';
import type { Http } from '../../http.ts';
import type { BrowserStep } from '../../target.ts';
import { safeUrl, sameEndpoint, type Arrival } from '../browse.ts';
import { containsSecret } from '../../secret-search.ts';
import { allowedOrigins, foreignOriginError, originOf, type OriginPolicy } from './origins.ts';
import { readAuthorizationResponse, type LoginDriver, type LoginInput, type LoginResult } from './types.ts';

/** Debian's `chromium` package. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Quiet, reproducible, no sandbox (containers), no traffic of its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

/** Browsers open at once in this process; further logins wait for a slot. */
export const MAX_BROWSERS = 4;

/**
 * How long Chromium may take to start. Starting a browser is our machine's business, not the login's: a
 * loaded machine (CI's 2 cores, parallel test files) may take tens of seconds, and that must neither eat
 * the steps' `timeoutMs` nor end as the IdP's timeout. A launch that fails or exceeds this is
 * LOGIN_BROWSER_UNAVAILABLE (errored).
 */
export const DEFAULT_LAUNCH_TIMEOUT_MS = 60_000;

export interface BrowserLoginOptions extends OriginPolicy {
  steps: readonly BrowserStep[];
  /** Default true. */
  headless?: boolean;
  /** For the login once the browser runs: page, steps and the redirect. Default 30 s. */
  timeoutMs?: number;
  /** For starting Chromium, apart from timeoutMs. Default DEFAULT_LAUNCH_TIMEOUT_MS. */
  launchTimeoutMs?: number;
  /** Default DEFAULT_CHROMIUM. */
  executablePath?: string;
}

export function createBrowserLogin(options: BrowserLoginOptions): LoginDriver {
  return { kind: 'browser', login: (http, input) => browserLogin(http, input, options) };
}

/** Throws LOGIN_BROWSER_UNAVAILABLE when the browser cannot be started here (for a preflight). */
export async function checkBrowser(executablePath = DEFAULT_CHROMIUM): Promise<void> {
  await loadPlaywright();
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new LoginError(
      'LOGIN_BROWSER_UNAVAILABLE',
      `login driver "browser": no Chromium at ${executablePath}; install it (Debian/Ubuntu: apt-get install chromium) or set login.executablePath`,
    );
  }
}

const DONE_PAGE = '<!doctype html><meta charset="utf-8"><title>Signed in</title><p>Signed in. The conformance harness has the authorization response.</p>';

export async function browserLogin(http: Http, input: LoginInput, options: BrowserLoginOptions): Promise<LoginResult> {
  for (const step of options.steps) if ('fill' in step) http.recorder?.addSecret(step.value, 'login_value');
  const executablePath = options.executablePath ?? DEFAULT_CHROMIUM;
  const headless = options.headless ?? true;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const launchTimeoutMs = options.launchTimeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS;
  await checkBrowser(executablePath);
  const { chromium } = await loadPlaywright();

  return withBrowserSlot(async () => {
    const profileDir = await mkdtemp(path.join(tmpdir(), 'refresh-conformance-chromium-'));
    let context: BrowserContext | undefined;
    let watch: RedirectWatch | undefined;
    const close = async () => {
      await watch?.seal();
      await context?.close().catch(() => undefined);
    };
    const onAbort = () => void close();
    input.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      input.signal?.throwIfAborted();
      context = await oneLaunchAtATime(async () => {
        input.signal?.throwIfAborted();
        try {
          return await chromium.launchPersistentContext(profileDir, {
            executablePath,
            headless,
            args: headless ? ['--headless', ...CHROMIUM_ARGS] : [...CHROMIUM_ARGS],
            timeout: launchTimeoutMs,
          });
        } catch (e) {
          throw new LoginError(
            'LOGIN_BROWSER_UNAVAILABLE',
            `login driver "browser": Chromium at ${executablePath} did not start${e instanceof Error && e.name === 'TimeoutError' ? ` within login.launchTimeoutMs (${launchTimeoutMs} ms)` : ''}: ${firstLine(e)}`,
          );
        }
      });
      if (input.signal?.aborted) throw input.signal.reason;
      // The login's own time starts once the browser runs.
      const deadline = Date.now() + timeoutMs;
      const left = () => Math.max(1, deadline - Date.now());
      if (input.cookieJar) await context.addCookies(await jarToBrowser(input.cookieJar));
      const page = context.pages()[0] ?? (await context.newPage());
      let filled = false;
      const guard: OriginGuard = {
        allowed: allowedOrigins(input.authorizationUrl, options),
        filled: () => filled,
        values: options.steps.flatMap((step) => ('fill' in step && step.value ? [step.value] : [])),
      };
      const watched = await watchRedirect(context, page, input.redirectUri, http, guard);
      watch = watched;
      const arrived = watch.arrival;
      const stopped = new Promise<never>((_, reject) => {
        if (input.signal) input.signal.addEventListener('abort', () => reject(input.signal!.reason), { once: true });
      });

      const flow = (async (): Promise<Arrival> => {
        try {
          await page.goto(input.authorizationUrl, { timeout: left(), waitUntil: 'domcontentloaded' });
        } catch (e) {
          if (watched.done()) return arrived;
          if (watched.refused()) throw watched.refused();
          // A page that does not load in time is the IdP's timeout, like a step's element that never shows.
          const timedOut = e instanceof Error && e.name === 'TimeoutError';
          throw new LoginError(
            timedOut ? 'LOGIN_TIMEOUT' : 'LOGIN_UNEXPECTED_RESPONSE',
            `browser login: ${timedOut ? `the authorization URL did not load within ${timeoutMs} ms` : `cannot open the authorization URL: ${firstLine(e)}`}`,
            { url: safeUrl(http, input.authorizationUrl) },
          );
        }
        for (const [i, step] of options.steps.entries()) {
          if (watched.done()) return arrived;
          if ('fill' in step) filled = true;
          try {
            await runStep(page, step, left());
          } catch (e) {
            if (watched.done()) return arrived;
            if (watched.refused()) throw watched.refused();
            const where = await describePage(page, http);
            const timedOut = e instanceof Error && e.name === 'TimeoutError';
            throw new LoginError(
              timedOut ? 'LOGIN_TIMEOUT' : 'LOGIN_UNEXPECTED_RESPONSE',
              `browser login: step ${i + 1} (${describeStep(step)}) ${timedOut ? `found no usable element within ${timeoutMs} ms` : `failed: ${firstLine(e)}`}; the page is ${where.text}`,
              { url: where.url },
            );
          }
        }
        const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), left()).unref());
        const outcome = await Promise.race([arrived, timer]);
        if (outcome !== 'timeout') return outcome;
        if (watched.refused()) throw watched.refused();
        const where = await describePage(page, http);
        throw new LoginError(
          'LOGIN_TIMEOUT',
          `browser login: no redirect to the redirect_uri within ${timeoutMs} ms after ${options.steps.length} step(s); the page is ${where.text}`,
          { url: where.url },
        );
      })();
      flow.catch(() => undefined); // when the redirect wins the race, a step may still fail as the page goes

      const arrival = await Promise.race([arrived, flow, stopped, watched.refusal]);
      const jar = input.cookieJar ?? new CookieJar();
      await browserToJar(await context.cookies(), jar);
      return readAuthorizationResponse(http, arrival, input, jar, watched.hops());
    } finally {
      input.signal?.removeEventListener('abort', onAbort);
      await close();
      await rm(profileDir, { recursive: true, force: true }).catch(() => undefined);
    }
  });
}

async function runStep(page: Page, step: BrowserStep, timeout: number): Promise<void> {
  if ('fill' in step) await page.fill(step.fill, step.value, { timeout });
  else if ('click' in step) await page.click(step.click, { timeout });
  else await page.waitForSelector(step.waitFor, { timeout, state: 'visible' });
}

/** A step without its value (values are secrets). */
function describeStep(step: BrowserStep): string {
  if ('fill' in step) return `fill ${step.fill}`;
  if ('click' in step) return `click ${step.click}`;
  return `waitFor ${step.waitFor}`;
}

/** The page the browser is on: title, URL (redacted) and any alert text, for error messages. */
async function describePage(page: Page, http: Http): Promise<{ text: string; url: string }> {
  const url = safeUrl(http, page.url());
  const facts = await page
    .evaluate(() => {
      const alerts = [...document.querySelectorAll('[role=alert], .error, .alert')].map((e) => (e.textContent ?? '').trim()).filter(Boolean);
      return { title: document.title, alerts: alerts.slice(0, 3) };
    })
    .catch(() => ({ title: '', alerts: [] as string[] }));
  const says = facts.alerts.length ? `; page says: "${facts.alerts.join(' / ')}"` : '';
  const text = `${facts.title ? `"${facts.title}" ` : ''}at ${url}${says}`;
  return { text: http.recorder ? http.recorder.redact(text) : text, url };
}

interface OriginGuard {
  allowed: ReadonlySet<string>;
  /** A value has been filled in: from now on the page holds credentials. */
  filled(): boolean;
  /** The fill values, looked for in requests to other origins. */
  values: readonly string[];
}

interface RedirectWatch {
  arrival: Promise<Arrival>;
  done(): boolean;
  /** Rejects with LOGIN_FOREIGN_ORIGIN when a request to a foreign origin was blocked. */
  refusal: Promise<never>;
  refused(): LoginError | undefined;
  /** Document responses seen. */
  hops(): number;
  /** Stops the page's traffic; call before closing the browser. */
  seal(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Watches the page's document requests through CDP Fetch: records each exchange, and stops the flow at
 * the redirect_uri, whether reached by a 3xx Location (response stage), by a navigation or form_post
 * to an http(s) redirect_uri (request stage), or by a navigation to a private-use scheme, which is no
 * network request at all (the browser's request event; Chromium aborts such a navigation itself).
 */
async function watchRedirect(context: BrowserContext, page: Page, redirectUri: string, http: Http, guard: OriginGuard): Promise<RedirectWatch> {
  let resolve!: (a: Arrival) => void;
  const arrival = new Promise<Arrival>((r) => (resolve = r));
  let refused: LoginError | undefined;
  let refuse!: (e: LoginError) => void;
  const refusal = new Promise<never>((_, reject) => (refuse = reject));
  refusal.catch(() => undefined);
  /**
   * A request that must not leave: a document to a foreign origin; once a fill has begun (or the login is
   * ending), any request to a foreign origin but a plain load of content (a script, a style, an image, an
   * iframe) that carries no filled value in any encoding. Scripts' own requests (fetch, XHR, beacons) may carry
   * a value in an encoding we cannot see, so they are refused whatever they carry.
   */
  const mustBlock = (request: { url: string; method: string; postData?: string }, resourceType: string, topLevel: boolean): string | undefined => {
    const origin = originOf(request.url);
    if (guard.allowed.has(origin)) return undefined;
    if (topLevel || sealed) return origin;
    if (!guard.filled()) return undefined;
    if (!CONTENT_LOADS.has(resourceType) || (request.method !== 'GET' && request.method !== 'HEAD')) return origin;
    const text = `${request.url}\n${request.postData ?? ''}`;
    return guard.values.some((v) => containsSecret(text, v)) ? origin : undefined;
  };
  // Requests paused and not yet answered: Chromium lets a paused request go when the session detaches
  // (the browser closing), so the login waits for every answer before it closes the browser.
  let sealed = false;
  const pending = new Set<Promise<void>>();
  let done = false;
  let hops = 0;
  const arrive = (a: Arrival) => {
    if (done) return;
    done = true;
    resolve(a);
  };
  const isDestination = (url: string) => {
    try {
      return sameEndpoint(new URL(url), redirectUri);
    } catch {
      return false;
    }
  };
  const started = new Map<string, number>();

  const cdp: CDPSession = await context.newCDPSession(page);
  const mainFrame = ((await cdp.send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } }).frameTree.frame.id;
  cdp.on('Fetch.requestPaused', (e) => {
    const handled = (async () => {
      const { requestId } = e;
      const key = e.networkId ?? requestId;
      try {
        if (e.responseStatusCode === undefined && e.responseErrorReason === undefined) {
          // Request stage.
          if (isDestination(e.request.url)) {
            const post = e.request.method === 'POST' && e.request.postData !== undefined;
            arrive(post ? { url: e.request.url, params: new URLSearchParams(e.request.postData), via: 'form_post' } : toArrival(e.request.url, 'redirect'));
            await fulfillDone(cdp, requestId, []);
            return;
          }
          // The page itself going elsewhere (a redirect, a form submission); a foreign iframe (a captcha) is
          // held to the rule for subresources.
          const topLevel = e.resourceType === 'Document' && e.frameId === mainFrame;
          const foreign = mustBlock(e.request, e.resourceType, topLevel);
          if (foreign !== undefined) {
            if (!refused && !done) {
              refused = foreignOriginError('browser login', topLevel ? 'open' : 'send a request to', foreign);
              refuse(refused);
            }
            await cdp.send('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' });
            return;
          }
          if (e.resourceType !== 'Document') {
            await cdp.send('Fetch.continueRequest', { requestId });
            return;
          }
          started.set(key, Date.now());
          await cdp.send('Fetch.continueRequest', { requestId });
          return;
        }
        // Response stage.
        hops++;
        const headers = e.responseHeaders ?? [];
        const begun = started.get(key) ?? Date.now();
        started.delete(key);
        http.recorder?.record({
          method: e.request.method,
          url: e.request.url,
          requestHeaders: Object.entries(e.request.headers).map(([n, v]): [string, string] => [n.toLowerCase(), String(v)]),
          ...(e.request.postData !== undefined && { requestBody: e.request.postData }),
          ...(e.responseStatusCode !== undefined && { status: e.responseStatusCode }),
          ...(e.responseStatusText && { statusText: e.responseStatusText }),
          responseHeaders: headers.map((h): [string, string] => [h.name.toLowerCase(), h.value]),
          startedAt: new Date(begun).toISOString(),
          durationMs: Date.now() - begun,
          ...(e.responseErrorReason !== undefined && { error: { code: 'BROWSER_NETWORK', message: e.responseErrorReason } }),
        });
        const location = headers.find((h) => h.name.toLowerCase() === 'location')?.value;
        const target = location !== undefined && e.responseStatusCode !== undefined && REDIRECTS.has(e.responseStatusCode) ? resolveUrl(location, e.request.url) : undefined;
        if (target && isDestination(target)) {
          arrive(toArrival(target, 'redirect'));
          // Keep the response's cookies (the SSO session), drop the redirect.
          await fulfillDone(cdp, requestId, headers.filter((h) => h.name.toLowerCase() === 'set-cookie'));
          return;
        }
        await cdp.send('Fetch.continueRequest', { requestId });
      } catch {
        // The page or browser closed while a request was paused: nothing left to do.
      }
    })();
    pending.add(handled);
    void handled.finally(() => pending.delete(handled));
  });
  await cdp.send('Fetch.enable', {
    patterns: [
      // Every request at the request stage (the origin guard), documents only at the response stage.
      { urlPattern: '*', requestStage: 'Request' },
      { urlPattern: '*', resourceType: 'Document', requestStage: 'Response' },
    ],
  });
  // Navigations to a private-use scheme never reach the network layer.
  context.on('request', (r) => {
    if (!done && isDestination(r.url())) arrive(toArrival(r.url(), 'redirect'));
  });
  /**
   * Ends the page's traffic before the browser closes: from now on every request to a foreign origin is
   * refused; the page goes to about:blank (its fetches are cancelled, keepalive ones outlive it), and the
   * login waits until every paused request has its answer and none came for a moment.
   */
  const seal = async () => {
    sealed = true;
    const until = Date.now() + SEAL_MAX_MS;
    const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())).unref())]);
    await bounded(cdp.send('Page.navigate', { url: 'about:blank' }));
    let quietSince = Date.now();
    while (Date.now() < until) {
      if (pending.size > 0) {
        await bounded(Promise.allSettled([...pending]));
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= SEAL_QUIET_MS) return;
      // A round trip on the session: events sent before its answer are handled before it returns.
      await bounded(cdp.send('Page.getFrameTree'));
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { arrival, done: () => done, refusal, refused: () => refused, hops: () => hops, seal };
}

/**
 * Foreign loads of content a login page may need from a CDN or a captcha (an iframe's document: the main
 * frame's are refused before this), when they carry no filled value.
 */
const CONTENT_LOADS = new Set(['Document', 'Script', 'Stylesheet', 'Image', 'Font', 'Media', 'TextTrack', 'Manifest']);
/** How long a sealed page must send nothing before the browser closes, and the most the sealing waits. */
const SEAL_QUIET_MS = 100;
const SEAL_MAX_MS = 2_000;

async function fulfillDone(cdp: CDPSession, requestId: string, cookies: Array<{ name: string; value: string }>): Promise<void> {
  await cdp.send('Fetch.fulfillRequest', {
    requestId,
    responseCode: 200,
    responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }, { name: 'cache-control', value: 'no-store' }, ...cookies],
    body: Buffer.from(DONE_PAGE).toString('base64'),
  });
}

function toArrival(url: string, via: Arrival['via']): Arrival {
  const u = new URL(url);
  const params = new URLSearchParams(u.search);
  for (const [k, v] of new URLSearchParams(u.hash.slice(1))) if (!params.has(k)) params.append(k, v);
  return { url: u.href, params, via };
}

function resolveUrl(location: string, base: string): string | undefined {
  try {
    return new URL(location, base).href;
  } catch {
    return undefined;
  }
}

type BrowserCookie = Awaited<ReturnType<BrowserContext['cookies']>>[number];

/** Browser cookies into a tough-cookie jar, each under its own domain (a login may span hosts). */
export async function browserToJar(cookies: readonly BrowserCookie[], jar: CookieJar): Promise<void> {
  for (const c of cookies) {
    const host = c.domain.replace(/^\./, '');
    const attrs = [`${c.name}=${c.value}`, `Path=${c.path}`];
    if (c.domain.startsWith('.')) attrs.push(`Domain=${host}`);
    if (c.expires > 0) attrs.push(`Expires=${new Date(c.expires * 1000).toUTCString()}`);
    if (c.httpOnly) attrs.push('HttpOnly');
    if (c.secure) attrs.push('Secure');
    if (c.sameSite) attrs.push(`SameSite=${c.sameSite}`);
    await jar.setCookie(attrs.join('; '), `${c.secure ? 'https' : 'http'}://${host}${c.path}`, { ignoreError: true });
  }
}

/** A jar's cookies for the browser (an existing SSO session). */
async function jarToBrowser(jar: CookieJar): Promise<BrowserCookie[]> {
  const serialized = await jar.serialize();
  return serialized.cookies
    .map((json) => Cookie.fromJSON(json))
    .filter((c): c is Cookie => c !== null && c !== undefined && typeof c.domain === 'string')
    .map((c) => {
      const expires = c.expires instanceof Date ? Math.floor(c.expires.getTime() / 1000) : -1;
      const sameSite = c.sameSite === 'strict' ? 'Strict' : c.sameSite === 'none' ? 'None' : 'Lax';
      return {
        name: c.key,
        value: c.value,
        domain: c.hostOnly ? c.domain! : `.${c.domain!}`,
        path: c.path ?? '/',
        expires,
        httpOnly: Boolean(c.httpOnly),
        secure: Boolean(c.secure),
        sameSite,
      } satisfies BrowserCookie;
    });
}

let playwright: Promise<typeof import('playwright-core')> | undefined;

/** playwright-core, loaded on first use: only targets with the browser driver need it. */
async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  playwright ??= import('playwright-core');
  try {
    return await playwright;
  } catch {
    playwright = undefined;
    throw new LoginError('LOGIN_BROWSER_UNAVAILABLE', 'login driver "browser" needs the playwright-core package (npm install playwright-core)');
  }
}

let launching: Promise<unknown> = Promise.resolve();

/**
 * Chromium starts one at a time in this process: parallel logins on a small machine would otherwise start
 * many browsers at once, each starving the others (the slots bound how many run, not how many start).
 */
function oneLaunchAtATime<T>(launch: () => Promise<T>): Promise<T> {
  const turn = launching.then(launch, launch);
  launching = turn.catch(() => undefined);
  return turn;
}

let open = 0;
const queue: Array<() => void> = [];

/** Runs fn while holding one of MAX_BROWSERS slots; a finished login hands its slot to the next in line. */
async function withBrowserSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (open < MAX_BROWSERS) open++;
  else await new Promise<void>((r) => queue.push(r));
  try {
    return await fn();
  } finally {
    const next = queue.shift();
    if (next) next();
    else open--;
  }
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split('\n').find((l) => l.trim()) ?? text).trim();
}
