/**
 * Which hosts and origins the mock answers to. A request for another host (DNS rebinding: a web
 * page whose name now points at 127.0.0.1) gets 421; a form posted from another site is refused.
 */
import { OAuthError } from './errors.ts';
import type { IdpRequest } from './http.ts';

/**
 * The issuer's host (with its port) plus the ones the operator allowed: `name` (any port) or
 * `name:port`, normalised as a URL would (lower case, IPv6 in brackets).
 */
export function allowedHosts(issuer: string, extra: readonly string[] = []): ReadonlySet<string> {
  const normal = (h: string) => {
    const bracketed = h.includes(':') && h.indexOf(':') !== h.lastIndexOf(':') && !h.startsWith('[') ? `[${h}]` : h;
    try {
      return new URL(`http://${bracketed}`).host;
    } catch {
      throw new TypeError(`not a host name: ${JSON.stringify(h)}`);
    }
  };
  return new Set([new URL(issuer).host, ...extra.map(normal)]);
}

/** Is the host of this URL one the mock answers for? */
export function isAllowedHost(hosts: ReadonlySet<string>, url: URL): boolean {
  return hosts.has(url.host) || hosts.has(url.hostname);
}

/** RFC 9110 §15.5.20: 421 for a request this server is not configured to answer for that host. */
export function requireAllowedHost(hosts: ReadonlySet<string>, url: URL): void {
  if (!isAllowedHost(hosts, url)) {
    throw new OAuthError('invalid_request', 'this server does not answer for that host (start it with --allow-host to add one)', 421);
  }
}

/**
 * Refuses a cross-site form post (login CSRF, logout CSRF): a browser says where a POST came from in
 * Origin (and Sec-Fetch-Site); only the mock's own pages may post its forms. Clients that send
 * neither (an HTTP client with a cookie jar) are judged by the cookie binding instead.
 */
export function refuseCrossSite(issuer: string, hosts: ReadonlySet<string>, request: IdpRequest): void {
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  let sameOrigin = true;
  if (site !== null && site !== 'same-origin' && site !== 'none') sameOrigin = false;
  if (origin !== null) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.protocol !== new URL(issuer).protocol || !isAllowedHost(hosts, parsed)) sameOrigin = false;
  }
  if (!sameOrigin) throw new OAuthError('access_denied', 'a form of this server was posted from another site; refused', 403);
}
