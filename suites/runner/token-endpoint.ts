/**
 * The token-endpoint client of one check: refresh, client credentials, code exchange, revocation and
 * introspection for the check's client, each request timed (when it left, when its answer came, on the
 * check's clock), its tokens registered as secrets, and its effect on the token book recorded.
 */
import { inconclusive } from '../checks/expect.ts';
import type { Answer, CheckClient, CheckContext, Tokens } from '../checks/types.ts';
import type { Endpoints } from '../harness/discovery.ts';
import type { Http, HttpResult } from '../harness/http.ts';
import * as oauth from '../harness/oauth.ts';
import type { Recorder } from '../harness/record.ts';
import type { TargetClient } from '../harness/target.ts';
import type { Timeline } from './timeline.ts';
import type { createTokenLives } from './token-lives.ts';

export function answer(r: HttpResult): Answer {
  const body = r.json !== null && typeof r.json === 'object' && !Array.isArray(r.json) ? (r.json as Record<string, unknown>) : undefined;
  return { status: r.response.status, headers: r.response.headers, body, exchange: r.exchange };
}

function tokens(r: HttpResult, sentAt: number, receivedAt: number): Tokens {
  const a = answer(r);
  const b = a.body ?? {};
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const t: Tokens = { ...a, sentAt, receivedAt };
  const at = str('access_token');
  const rt = str('refresh_token');
  const id = str('id_token');
  const scope = str('scope');
  if (at !== undefined) t.access_token = at;
  if (rt !== undefined) t.refresh_token = rt;
  if (id !== undefined) t.id_token = id;
  if (scope !== undefined) t.scope = scope;
  if (typeof b.expires_in === 'number') t.expires_in = b.expires_in;
  return t;
}

export interface TokenEndpointOptions {
  /** Bound to the check's recorder. */
  http: Http;
  endpoints: Endpoints;
  recorder: Recorder;
  client: TargetClient;
  otherClients: TargetClient[];
  /** The check's clock: mock time, or measured (monotonic) seconds on a real clock. */
  clockKind: 'mock' | 'real';
  /** On a real clock, turn refusals the declared timing cannot judge inconclusive (token-lives.ts). */
  judgeLives?: boolean;
  now: () => number;
  timeline: Pick<Timeline, 'record' | 'book'>;
  lives: ReturnType<typeof createTokenLives>;
  signal?: AbortSignal;
}

export type TokenEndpointClient = ReturnType<typeof createTokenEndpointClient>;

export function createTokenEndpointClient(o: TokenEndpointOptions) {
  const { http, endpoints, recorder, client, now, lives } = o;
  const { record, book } = o.timeline;
  let longestRoundTrip = 0;
  const byId = new Map([client, ...o.otherClients].map((c) => [c.id, c]));
  const resolve = (c?: CheckClient): TargetClient => (c ? (byId.get(c.id) ?? client) : client);
  const remember = (t: Tokens): Tokens => {
    recorder.addSecret(t.access_token, 'access_token');
    recorder.addSecret(t.refresh_token, 'refresh_token');
    recorder.addSecret(t.id_token, 'id_token');
    return t;
  };
  /** Sends a token request, noting when it left and when its answer came (the server issued in between). */
  const timed = async (send: () => Promise<HttpResult>): Promise<Tokens> => {
    const sentAt = now();
    const r = await send();
    const receivedAt = now();
    longestRoundTrip = Math.max(longestRoundTrip, receivedAt - sentAt);
    return remember(tokens(r, sentAt, receivedAt));
  };

  const refresh: CheckContext['refresh'] = async (rt, opt = {}) => {
    let c = resolve(opt.as);
    if (opt.wrongSecret) c = { ...c, secret: `${c.secret ?? ''}-wrong` };
    const t = await timed(() =>
      oauth.refresh(http, endpoints, c, rt, {
        ...(opt.scope !== undefined && { scope: opt.scope }),
        ...(opt.omitAuth && { auth: 'none' as const }),
        ...(o.signal && { signal: o.signal }),
      }),
    );
    record(book.refreshed(rt, t));
    // Time only moves when a check waits on the mock's clock: nothing there ends by accident.
    const judge = o.clockKind === 'real' && o.judgeLives !== false;
    const refusal = judge ? lives.refusalUnjudgeable(rt, t) : undefined;
    const sso = judge ? lives.ssoUnjudgeable(rt, t) : undefined;
    lives.refreshed(rt, t);
    if (refusal !== undefined) inconclusive(refusal);
    if (sso !== undefined) t.unjudgeable = sso;
    return t;
  };

  const endpointCalls: Pick<CheckContext, 'refresh' | 'refreshConcurrently' | 'clientCredentials' | 'revoke' | 'introspect'> = {
    refresh,
    refreshConcurrently: (rt, n) => Promise.all(Array.from({ length: n }, () => refresh(rt))),
    clientCredentials: async (opt = {}) => timed(() => oauth.clientCredentials(http, endpoints, client, { ...(opt.scope !== undefined && { scope: opt.scope }) })),
    async revoke(token, hint) {
      const r = answer(await oauth.revoke(http, endpoints, client, token, hint));
      record(book.revoked(token, hint, r.status));
      return r;
    },
    async introspect(token, hint) {
      // Introspection needs an authenticated client of the target: the check's own, or another one.
      const by = [client, ...o.otherClients].find((c) => c.secret !== undefined && c.auth !== 'none');
      if (!by) return undefined;
      return answer(await oauth.introspect(http, endpoints, by, token, hint));
    },
  };
  return {
    /** What the CheckContext offers of the token, revocation and introspection endpoints. */
    calls: endpointCalls,
    /** The authorization code grant's exchange (RFC 7636 verifier), timed like any token request. */
    exchangeCode: (code: string, codeVerifier: string): Promise<Tokens> => timed(() => oauth.exchangeCode(http, endpoints, client, { code, codeVerifier })),
    /** The longest token request so far (seconds): what a real-clock check must allow for. */
    longestRoundTrip: () => longestRoundTrip,
  };
}
