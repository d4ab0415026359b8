/**
 * Client for the mock IdP's control API (`${issuer}/__control/...`, JSON, `Authorization: Bearer <adminToken>`).
 * The same operations exist in-process on the embedded mock's `control` object; the drivers accept either
 * through the small structural interfaces below.
 */
import { ControlError } from '../errors.ts';
import type { Http, HttpMethod, HttpResult } from '../http.ts';

/** Ends a user's SSO session (used by the mock logout driver). */
export interface SsoControl {
  endSsoSession(input: { username: string }): unknown;
}

/** Moves the mock's clock forward (used by the mock clock). */
export interface ClockControl {
  advance(seconds: number): unknown;
}

export interface MockControl extends SsoControl, ClockControl {
  endSsoSession(input: { username: string }): Promise<void>;
  advance(seconds: number): Promise<{ now: number }>;
  now(): Promise<{ now: number }>;
  revokeGrants(input: { username?: string; sub?: string; clientId?: string }): Promise<{ revoked: number }>;
  families(username: string): Promise<{ families: unknown[] }>;
  reset(): Promise<void>;
}

export interface ControlClientOptions {
  http: Http;
  issuer: string;
  adminToken: string;
}

export function createControlClient({ http, issuer, adminToken }: ControlClientOptions): MockControl {
  http.recorder?.addSecret(adminToken, 'admin_token');
  const base = `${issuer.replace(/\/$/, '')}/__control`;
  const call = async (method: HttpMethod, path: string, json?: unknown): Promise<HttpResult> => {
    const result = await http.request(method, `${base}${path}`, {
      headers: { authorization: `Bearer ${adminToken}`, accept: 'application/json' },
      ...(json !== undefined && { json }),
    });
    if (result.response.status < 200 || result.response.status >= 300) {
      const body = (result.exchange.responseBody ?? '').slice(0, 200);
      throw new ControlError('CONTROL_FAILED', `${method} ${base}${path} returned HTTP ${result.response.status}${body ? `: ${body}` : ''}`);
    }
    return result;
  };
  const member = <T>(result: HttpResult, name: string, check: (v: unknown) => v is T): T => {
    const v = (result.json as Record<string, unknown> | undefined)?.[name];
    if (!check(v)) throw new ControlError('CONTROL_FAILED', `${result.exchange.method} ${result.exchange.url}: response has no valid "${name}"`);
    return v;
  };
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return {
    async endSsoSession({ username }) {
      await call('POST', '/sso/end', { username });
    },
    async advance(seconds) {
      return { now: member(await call('POST', '/clock/advance', { seconds }), 'now', isNumber) };
    },
    async now() {
      return { now: member(await call('GET', '/clock'), 'now', isNumber) };
    },
    async revokeGrants(input) {
      return { revoked: member(await call('POST', '/grants/revoke', input), 'revoked', isNumber) };
    },
    async families(username) {
      return { families: member(await call('GET', `/families?username=${encodeURIComponent(username)}`), 'families', Array.isArray) };
    },
    async reset() {
      await call('POST', '/reset', {});
    },
  };
}
