/**
 * The token-endpoint client of one check: refresh, client credentials, code exchange, revocation and
 * introspection for the check's client, each request timed (when it left, when its answer came, on the
 * check's clock), its tokens registered as secrets, and its effect on the token book recorded.
 */
import { inconclusive } from '../checks/expect.ts';
import type { Answer, CheckClient, CheckContext, DpopOverride, Tokens } from '../checks/types.ts';
import type { DpopProver } from '../harness/dpop.ts';
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

function tokens(r: HttpResult, sentAt: number, receivedAt: number, proof?: string): Tokens {
  const a = answer(r);
  if (proof !== undefined) a.tokenType = 'DPoP';
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
  if (proof !== undefined) t.dpopProof = proof;
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
  /** The client's DPoP prover, when its policy declares a sender constraint (RFC 9449). */
  dpop?: DpopProver;
  signal?: AbortSignal;
}

/** What the book is told of a request's proof: the key it proved (its jkt), none (null), or an invalid proof (the grant never ran). */
export type ProofSent = string | null | 'invalid';

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
  const { dpop } = o;
  /**
   * A token request with the client's DPoP proof (none for a client without DPoP, or as `override`
   * says), and once more with the server's nonce when it answers use_dpop_nonce (RFC 9449 §8).
   */
  const withProof = async (send: (headers: Record<string, string>) => Promise<HttpResult>, override?: DpopOverride): Promise<{ r: HttpResult; proof?: string; sent: ProofSent }> => {
    if (!dpop || override?.proof === 'none') return { r: await send({}), sent: null };
    const url = endpoints.token;
    const make = async (): Promise<string> => {
      switch (override?.proof) {
        case 'replay':
          return override.of;
        case 'other-key':
          return dpop.proof('POST', url, { key: await dpop.otherKey() });
        case 'wrong-htm':
          return dpop.proof('GET', url);
        case 'wrong-htu':
          // A proof made for another endpoint of the same server.
          return dpop.proof('POST', endpoints.userinfo ?? new URL('/userinfo', url).href);
        case 'no-nonce':
          return dpop.proof('POST', url, { nonce: null });
        default:
          return dpop.proof('POST', url);
      }
    };
    let proof = await make();
    let r = await send({ dpop: proof });
    const given = dpop.learnNonce(r.response.headers);
    const error = (r.json as { error?: unknown } | undefined)?.error;
    if (given !== undefined && r.response.status === 400 && error === 'use_dpop_nonce' && override?.proof !== 'no-nonce' && override?.proof !== 'replay') {
      proof = await make();
      r = await send({ dpop: proof });
      dpop.learnNonce(r.response.headers);
    }
    const key = override?.proof === 'other-key' ? (await dpop.otherKey()).jkt : (await dpop.key()).jkt;
    return { r, proof, sent: override === undefined || override.proof === 'other-key' ? key : 'invalid' };
  };
  /** Sends a token request, noting when it left and when its answer came (the server issued in between). */
  const timed = async (send: (headers: Record<string, string>) => Promise<HttpResult>, override?: DpopOverride): Promise<Tokens & { sent: ProofSent }> => {
    const sentAt = now();
    const { r, proof, sent } = await withProof(send, override);
    const receivedAt = now();
    longestRoundTrip = Math.max(longestRoundTrip, receivedAt - sentAt);
    return Object.assign(remember(tokens(r, sentAt, receivedAt, proof)), { sent });
  };
  const strip = ({ sent: _sent, ...t }: Tokens & { sent: ProofSent }): Tokens => t;

  const refresh: CheckContext['refresh'] = async (rt, opt = {}) => {
    let c = resolve(opt.as);
    if (opt.wrongSecret) c = { ...c, secret: `${c.secret ?? ''}-wrong` };
    const sentT = await timed(
      (headers) =>
        oauth.refresh(http, endpoints, c, rt, {
          headers,
          ...(opt.scope !== undefined && { scope: opt.scope }),
          ...(opt.omitAuth && { auth: 'none' as const }),
          ...(o.signal && { signal: o.signal }),
        }),
      opt.dpop,
    );
    const t = strip(sentT);
    record(book.refreshed(rt, t, sentT.sent));
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
    clientCredentials: async (opt = {}) => strip(await timed((headers) => oauth.clientCredentials(http, endpoints, client, { headers, ...(opt.scope !== undefined && { scope: opt.scope }) }))),
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
    exchangeCode: async (code: string, codeVerifier: string): Promise<{ tokens: Tokens; sent: ProofSent }> => {
      const t = await timed((headers) => oauth.exchangeCode(http, endpoints, client, { code, codeVerifier }, { headers }));
      return { tokens: strip(t), sent: t.sent };
    },
    /** The longest token request so far (seconds): what a real-clock check must allow for. */
    longestRoundTrip: () => longestRoundTrip,
  };
}
