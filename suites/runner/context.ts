/**
 * The CheckContext a check runs with: the target's clients, endpoints and drivers, bound to one
 * recorder, so every exchange of the check is recorded (redacted) for its failure message.
 */
import { decodeJwt, jwtVerify } from 'jose';
import type { CheckContext, CheckClient, LoginSession, Tokens, Answer, TimelineEvent } from '../checks/types.ts';
import { createClock, createControlClient, createLoginDriver, createLogoutDriver, type ClockControl, type SsoControl } from '../harness/drivers/index.ts';
import type { CookieJar } from 'tough-cookie';
import type { Http, HttpResult } from '../harness/http.ts';
import * as oauth from '../harness/oauth.ts';
import { Recorder } from '../harness/record.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import type { Connection } from './connection.ts';
import { asCheckClient } from './plan.ts';

export interface TimelineEntry extends TimelineEvent {
  /** Seconds since the check started, on the target's clock (mock time moves with advances). */
  at: number;
}

export interface CheckRun {
  context: CheckContext;
  recorder: Recorder;
  timeline: TimelineEntry[];
}

function answer(r: HttpResult): Answer {
  const body = r.json !== null && typeof r.json === 'object' && !Array.isArray(r.json) ? (r.json as Record<string, unknown>) : undefined;
  return { status: r.response.status, headers: r.response.headers, body, exchange: r.exchange };
}

function tokens(r: HttpResult): Tokens {
  const a = answer(r);
  const b = a.body ?? {};
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const t: Tokens = { ...a };
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

interface SessionHandle {
  cookieJar: CookieJar;
  idToken?: string;
}

export interface ContextOptions {
  target: Target;
  connection: Connection;
  http: Http;
  client: TargetClient;
  otherClients: TargetClient[];
  signal?: AbortSignal;
  onWait?: (progress: { why: string; totalSeconds: number; secondsLeft: number }) => void;
}

export function createCheckRun(o: ContextOptions): CheckRun {
  const { target, connection: conn, client } = o;
  const recorder = new Recorder();
  for (const c of [client, ...o.otherClients]) recorder.addSecret(c.secret, 'client_secret');
  if (target.login.driver === 'form') recorder.addSecret(target.login.password, 'password');
  recorder.addSecret(conn.adminToken, 'admin_token');
  const http = o.http.withRecorder(recorder);
  const control: (ClockControl & SsoControl) | undefined =
    conn.localControl ?? (conn.adminToken ? createControlClient({ http, issuer: conn.issuer, adminToken: conn.adminToken }) : undefined);

  const clock = createClock(target.clock, {
    ...(control && { control }),
    ...(o.signal && { signal: o.signal }),
    ...(o.onWait && { onProgress: o.onWait }),
  });
  let elapsed = 0;
  const timeline: TimelineEntry[] = [];
  const note = (e: TimelineEvent) => timeline.push({ ...e, at: elapsed });

  const loginDriver = createLoginDriver(target.login, { ...(conn.username !== undefined && { defaultUsername: conn.username }) });
  const logoutDriver = createLogoutDriver(target.logout, {
    endpoints: conn.endpoints,
    issuer: conn.issuer,
    ...(control && { control }),
    ...(conn.adminToken !== undefined && { adminToken: conn.adminToken }),
  });
  const username = target.login.driver === 'mock' ? (target.login.username ?? conn.username) : target.login.username;

  const byId = new Map([client, ...o.otherClients].map((c) => [c.id, c]));
  const resolve = (c?: CheckClient): TargetClient => (c ? byId.get(c.id) ?? client : client);
  const remember = (t: Tokens): Tokens => {
    recorder.addSecret(t.access_token, 'access_token');
    recorder.addSecret(t.refresh_token, 'refresh_token');
    recorder.addSecret(t.id_token, 'id_token');
    return t;
  };

  const refresh: CheckContext['refresh'] = async (rt, opt = {}) => {
    let c = resolve(opt.as);
    if (opt.wrongSecret) c = { ...c, secret: `${c.secret ?? ''}-wrong` };
    const r = await oauth.refresh(http, conn.endpoints, c, rt, {
      ...(opt.scope !== undefined && { scope: opt.scope }),
      ...(opt.omitAuth && { auth: 'none' as const }),
      ...(o.signal && { signal: o.signal }),
    });
    const t = remember(tokens(r));
    note({ kind: t.status === 200 ? (t.refresh_token && t.refresh_token !== rt ? 'rotation' : 'refresh') : 'rejected' });
    return t;
  };

  const context: CheckContext = {
    profile: target.profile,
    policy: client.policyRules,
    client: asCheckClient(client),
    otherClients: o.otherClients.map(asCheckClient),
    clock: {
      kind: clock.kind,
      async wait(seconds, why) {
        await clock.wait(seconds, why, { ...(o.signal && { signal: o.signal }) });
        elapsed += seconds;
        note({ kind: 'wait', label: why });
      },
    },
    async login(opt = {}) {
      const base = (opt.scope ?? client.scope).split(' ').filter(Boolean);
      const offline = target.profile.offlineAccessScope;
      const scope = [...new Set(opt.offline ? [...base, offline] : base.filter((s) => s !== offline))].join(' ');
      const pkce = oauth.generatePkce();
      const state = oauth.randomValue();
      const nonce = oauth.randomValue();
      const authorizationUrl = oauth.buildAuthorizationUrl({
        endpoint: conn.endpoints.authorization,
        client,
        scope,
        state,
        nonce,
        codeChallenge: pkce.challenge,
      });
      const result = await loginDriver.login(http, { authorizationUrl, redirectUri: client.redirectUri, state, ...(o.signal && { signal: o.signal }) });
      const r = await oauth.exchangeCode(http, conn.endpoints, client, { code: result.code, codeVerifier: pkce.verifier });
      const t = remember(tokens(r));
      note({ kind: 'login', label: t.refresh_token ? 'refresh token issued' : 'no refresh token' });
      const handle: SessionHandle = { cookieJar: result.cookieJar, ...(t.id_token !== undefined && { idToken: t.id_token }) };
      return { tokens: t, handle };
    },
    refresh,
    refreshConcurrently: (rt, n) => Promise.all(Array.from({ length: n }, () => refresh(rt))),
    async clientCredentials(opt = {}) {
      const r = await oauth.clientCredentials(http, conn.endpoints, client, { ...(opt.scope !== undefined && { scope: opt.scope }) });
      return remember(tokens(r));
    },
    has: (endpoint) => Boolean(conn.endpoints[endpoint]),
    async revoke(token, hint) {
      const r = answer(await oauth.revoke(http, conn.endpoints, client, token, hint));
      note({ kind: 'revocation' });
      return r;
    },
    async introspect(token, hint) {
      const candidates = [client, ...o.otherClients].filter((c) => c.secret !== undefined && c.auth !== 'none');
      const by = candidates[0];
      if (!by) return undefined;
      return answer(await oauth.introspect(http, conn.endpoints, by, token, hint));
    },
    async logout(session: LoginSession) {
      const h = session.handle as SessionHandle;
      await logoutDriver.logout(http, {
        ...(username !== undefined && { username }),
        ...(h.idToken !== undefined && { idToken: h.idToken }),
        clientId: client.id,
        cookieJar: h.cookieJar,
        state: oauth.randomValue(),
      });
      note({ kind: 'logout' });
    },
    async verifyIdToken(idToken) {
      // Judge signature, iss and aud; time claims against the token's own iat, since a mock clock may run ahead.
      const { iat } = decodeJwt(idToken);
      const { payload } = await jwtVerify(idToken, conn.jwks, {
        issuer: conn.issuer,
        audience: client.id,
        ...(typeof iat === 'number' && { currentDate: new Date(iat * 1000) }),
      });
      return payload;
    },
    metadata: () => conn.metadata,
    note,
  };
  return { context, recorder, timeline };
}
