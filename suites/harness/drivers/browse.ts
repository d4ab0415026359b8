/**
 * A tiny headless browser for login and logout flows: follows redirects by hand with a cookie jar,
 * parses HTML pages and lets the driver decide what to submit. It stops, without requesting it,
 * at the first URL the driver calls its destination (a redirect_uri may be a private-use scheme
 * no HTTP client can open), and it is bounded: at most `maxHops` requests, and the same request
 * with the same cookies twice is a loop.
 *
 * Outcomes are values; the drivers turn them into their own typed errors.
 */
import { CookieJar } from 'tough-cookie';
import { parseHtml, buildSubmission, type HtmlPage } from '../html.ts';
import type { Http, HttpResult } from '../http.ts';
import { redact } from '../redact.ts';

export const DEFAULT_MAX_HOPS = 20;

export interface Step {
  method: 'GET' | 'POST';
  url: string;
  /** POST only: sent as application/x-www-form-urlencoded. */
  body?: URLSearchParams;
}

/** A response that is not a redirect the browser could follow. */
export interface Page {
  url: string;
  status: number;
  /** Parsed when the response is HTML (by content-type or by look). */
  html: HtmlPage | undefined;
  result: HttpResult;
}

export type PageDecision<T> = { next: Step } | { stop: T };

/** Reaching the destination: its URL and the parameters it would have received. */
export interface Arrival {
  url: string;
  /** Query parameters, then fragment parameters (response_mode=fragment), or the form_post fields. */
  params: URLSearchParams;
  via: 'redirect' | 'meta-refresh' | 'form_post';
}

export type BrowseOutcome<T> =
  | { kind: 'arrived'; arrival: Arrival; hops: number }
  | { kind: 'stopped'; value: T; hops: number }
  | { kind: 'too-many-hops'; url: string; hops: number }
  | { kind: 'loop'; url: string; hops: number };

export interface BrowseOptions<T> {
  http: Http;
  jar: CookieJar;
  start: Step;
  /** The URL the flow ends at; never requested. */
  isDestination: (url: URL) => boolean;
  /** Called for every page that is not a followed redirect: submit something, or stop. */
  onPage: (page: Page) => PageDecision<T> | Promise<PageDecision<T>>;
  maxHops?: number;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function browse<T>(options: BrowseOptions<T>): Promise<BrowseOutcome<T>> {
  const { http, jar, isDestination, onPage } = options;
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const seen = new Set<string>();
  let step = options.start;
  let hops = 0;
  for (;;) {
    const cookie = await jar.getCookieString(step.url);
    // The same request with the same cookies cannot lead anywhere new.
    const key = `${step.method} ${step.url} ${step.body?.toString() ?? ''} ${cookie}`;
    if (seen.has(key)) return { kind: 'loop', url: safeUrl(http, step.url), hops };
    if (hops >= maxHops) return { kind: 'too-many-hops', url: safeUrl(http, step.url), hops };
    seen.add(key);
    hops++;

    const result = await http.request(step.method, step.url, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...(cookie && { cookie }) },
      ...(step.body && { form: step.body }),
      ...(options.signal && { signal: options.signal }),
    });
    for (const setCookie of result.response.headers.getSetCookie()) {
      await jar.setCookie(setCookie, step.url, { ignoreError: true });
    }

    const status = result.response.status;
    const location = REDIRECTS.has(status) ? resolve(result.response.headers.get('location'), step.url) : undefined;
    if (location) {
      if (isDestination(location)) return { kind: 'arrived', arrival: arrival(location, 'redirect'), hops };
      // 307/308 repeat the request; the others turn into a GET (as browsers do).
      step = status === 307 || status === 308 ? { ...step, url: location.href } : { method: 'GET', url: location.href };
      continue;
    }

    const html = looksLikeHtml(result) ? parseHtml(result.text) : undefined;
    if (html && status >= 200 && status < 300) {
      // response_mode=form_post: an auto-submitting form aimed at the destination.
      for (const form of html.forms) {
        const sub = trySubmission(() => buildSubmission(form, html, step.url));
        const target = sub && new URL(sub.url);
        if (sub?.method === 'POST' && target && isDestination(target)) {
          return { kind: 'arrived', arrival: { url: target.href, params: sub.body ?? new URLSearchParams(), via: 'form_post' }, hops };
        }
      }
      const refresh = html.forms.length === 0 ? resolve(html.metaRefresh ?? null, step.url) : undefined;
      if (refresh) {
        if (isDestination(refresh)) return { kind: 'arrived', arrival: arrival(refresh, 'meta-refresh'), hops };
        step = { method: 'GET', url: refresh.href };
        continue;
      }
    }

    const decision = await onPage({ url: step.url, status, html, result });
    if ('stop' in decision) return { kind: 'stopped', value: decision.stop, hops };
    step = decision.next;
  }
}

/** True when `url` is `base` apart from query and fragment (RFC 6749 §3.1.2: the response adds query parameters). */
export function sameEndpoint(url: URL, base: string): boolean {
  try {
    return stripQuery(url) === stripQuery(new URL(base));
  } catch {
    return false;
  }
}

/** The URL as recorded (redacted): safe for error messages. */
export function safeUrl(http: Http, url: string): string {
  return http.recorder ? http.recorder.redact(url) : redact(url);
}

export function describePage(page: Page): string {
  const bits = [`HTTP ${page.status}`];
  if (page.html?.title) bits.push(`"${page.html.title}"`);
  const json = page.result.json as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof json?.error === 'string') bits.push(`error=${json.error}${typeof json.error_description === 'string' ? ` (${json.error_description})` : ''}`);
  if (page.html?.alerts.length) bits.push(`page says: "${page.html.alerts.join(' / ')}"`);
  return bits.join(' ');
}

function trySubmission<S>(build: () => S): S | undefined {
  try {
    return build();
  } catch {
    return undefined; // an action no URL parser accepts
  }
}

function stripQuery(u: URL): string {
  const c = new URL(u.href);
  c.search = '';
  c.hash = '';
  return c.href;
}

function arrival(url: URL, via: Arrival['via']): Arrival {
  const params = new URLSearchParams(url.search);
  for (const [k, v] of new URLSearchParams(url.hash.slice(1))) if (!params.has(k)) params.append(k, v);
  return { url: url.href, params, via };
}

function resolve(location: string | null, base: string): URL | undefined {
  if (!location) return undefined;
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

function looksLikeHtml(result: HttpResult): boolean {
  const type = result.response.headers.get('content-type') ?? '';
  if (/html/i.test(type)) return true;
  return type === '' && /^\s*<(!doctype|html|head|body|form)/i.test(result.text);
}
