/**
 * Where a login may send the user's credentials: the issuer's origin, the authorization endpoint's
 * origin (where the harness was sent by the target or by the issuer's discovery), and the origins the
 * target lists in `login.allowedOrigins`. Anything else (a redirect from /authorize to another host, a
 * form whose action points elsewhere) stops the login with LOGIN_FOREIGN_ORIGIN before a byte is sent.
 */
import { LoginError } from '../../errors.ts';
import type { Http } from '../../http.ts';

export interface OriginPolicy {
  /** The issuer (its origin is allowed). */
  issuer?: string;
  /** `login.allowedOrigins`: further origins, e.g. a login host apart from the issuer's. */
  allowedOrigins?: readonly string[];
}

/** The origins a login starting at `authorizationUrl` may talk to. */
export function allowedOrigins(authorizationUrl: string, policy: OriginPolicy = {}): ReadonlySet<string> {
  const out = new Set<string>([originOf(authorizationUrl)]);
  if (policy.issuer) out.add(originOf(policy.issuer));
  for (const o of policy.allowedOrigins ?? []) out.add(originOf(o));
  return out;
}

/** `scheme://host[:port]`; for URLs without an origin (`data:`, private-use schemes) the scheme and host. */
export function originOf(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return u.origin !== 'null' ? u.origin : `${u.protocol}${u.host ? `//${u.host}` : ''}`;
  } catch {
    return String(url);
  }
}

export function foreignOriginError(who: string, action: string, origin: string): LoginError {
  return new LoginError(
    'LOGIN_FOREIGN_ORIGIN',
    `${who}: refused to ${action} ${origin}: it is neither the issuer's origin nor listed in login.allowedOrigins, and the login's credentials go nowhere else`,
    { url: origin },
  );
}

/** `http` refusing any request to an origin outside `allowed` (before it is sent). */
export function guardOrigins(http: Http, allowed: ReadonlySet<string>, who: string): Http {
  return {
    requestTimeoutMs: http.requestTimeoutMs,
    recorder: http.recorder,
    withRecorder: (r) => guardOrigins(http.withRecorder(r), allowed, who),
    request: (method, url, options) => {
      const origin = originOf(url);
      if (!allowed.has(origin)) {
        return Promise.reject(foreignOriginError(who, method === 'GET' ? 'follow a redirect to' : 'submit a form to', origin));
      }
      return http.request(method, url, options);
    },
  };
}
