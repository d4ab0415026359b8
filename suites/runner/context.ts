/**
 * The CheckContext a check runs with: the target's clients, endpoints and drivers, bound to one
 * recorder, so every exchange of the check is recorded (redacted) for its failure message.
 */
import { decodeJwt, jwtVerify } from 'jose';
import type { CheckContext, CheckClient, LoginSession, Tokens, Answer, TimelineEvent } from '../checks/types.ts';
import { createClock, createControlClient, createLoginDriver, createLogoutDriver, type ClockControl, type SsoControl } from '../harness/drivers/index.ts';
import type { CookieJar } from 'tough-cookie';
import { SetupError } from '../harness/errors.ts';
import type { Http, HttpResult } from '../harness/http.ts';
import * as oauth from '../harness/oauth.ts';
import { Recorder } from '../harness/record.ts';
import { ControlError } from '../harness/errors.ts';
import { fingerprint } from '../harness/redact.ts';
import type { TimelineDetails, TokenMark } from '../harness/report/timeline.ts';
import { isRefreshPolicy } from '../../mock-idp/profile/index.ts';
import { clientSecrets, targetSecrets, type Target, type TargetClient } from '../harness/target.ts';
import type { Connection } from './connection.ts';
import { asCheckClient } from './plan.ts';
import { createTokenLives } from './token-lives.ts';
import { inconclusive } from '../checks/expect.ts';

/** A timeline event with what the harness saw: token fingerprints, declared expiries, error codes (report/timeline.ts). */
export interface TimelineEntry extends TimelineEvent, TimelineDetails {
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
  for (const s of targetSecrets(target)) recorder.addSecret(s.value, s.label);
  for (const c of [client, ...o.otherClients]) for (const s of clientSecrets(c)) recorder.addSecret(s.value, s.label);
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
  const { timeline, record, note, book } = createTimeline(target, client, () => elapsed);
  // The check's clock: the mock's virtual time, or measured time (monotonic) on a real one.
  const origin = performance.now();
  const now = (): number => (clock.kind === 'mock' ? elapsed : (performance.now() - origin) / 1000);
  let longestRoundTrip = 0;
  const lives = createTokenLives(target.profile, client.policyRules, now);
  /** Sends a token request, noting when it left and when its answer came (the server issued in between). */
  const timed = async (send: () => Promise<HttpResult>): Promise<Tokens> => {
    const sentAt = now();
    const r = await send();
    const receivedAt = now();
    longestRoundTrip = Math.max(longestRoundTrip, receivedAt - sentAt);
    return remember(tokens(r, sentAt, receivedAt));
  };

  const loginDriver = createLoginDriver(target.login, { issuer: conn.issuer, ...(conn.username !== undefined && { defaultUsername: conn.username }) });
  const logoutDriver = createLogoutDriver(target.logout, {
    endpoints: conn.endpoints,
    issuer: conn.issuer,
    ...(control && { control }),
    ...(conn.adminToken !== undefined && { adminToken: conn.adminToken }),
  });
  const username = target.login.driver === 'mock' ? (target.login.username ?? conn.username) : target.login.driver === 'form' ? target.login.username : undefined;

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
    const t = await timed(() =>
      oauth.refresh(http, conn.endpoints, c, rt, {
        ...(opt.scope !== undefined && { scope: opt.scope }),
        ...(opt.omitAuth && { auth: 'none' as const }),
        ...(o.signal && { signal: o.signal }),
      }),
    );
    record(book.refreshed(rt, t));
    // Time only moves when a check waits on the mock's clock: nothing there ends by accident.
    const refusal = clock.kind === 'real' ? lives.refusalUnjudgeable(rt, t) : undefined;
    const sso = clock.kind === 'real' ? lives.ssoUnjudgeable(rt, t) : undefined;
    lives.refreshed(rt, t);
    if (refusal !== undefined) inconclusive(refusal);
    if (sso !== undefined) t.unjudgeable = sso;
    return t;
  };

  const context: CheckContext = {
    profile: target.profile,
    policy: client.policyRules,
    client: asCheckClient(client),
    otherClients: o.otherClients.map(asCheckClient),
    clock: {
      kind: clock.kind,
      now,
      // The embedded mock's clock is frozen between advances: exact. A remote mock clock (npm run
      // mock-idp) is real time plus the advances, counted in whole seconds: real time moves under the
      // check too, up to a second boundary plus the round trips.
      jitter: () => (clock.kind === 'real' ? 0.5 + longestRoundTrip : target.kind === 'embedded' ? 0 : 1 + longestRoundTrip),
      async wait(seconds, why) {
        // The mock's clock moves in whole seconds: fractional waits add up, the mock moves by the seconds they cross.
        const by = clock.kind === 'mock' ? Math.floor(elapsed + seconds) - Math.floor(elapsed) : seconds;
        await clock.wait(by, why, { ...(o.signal && { signal: o.signal }) });
        elapsed += seconds;
        record({ kind: 'wait', label: why, seconds });
      },
      async targetTime() {
        if (clock.kind === 'real' || !control) return Math.floor(Date.now() / 1000);
        // Advancing by nothing reads the mock's clock through the one control both transports offer.
        const r: unknown = await control.advance(0);
        const now = typeof r === 'number' ? r : (r as { now?: unknown } | undefined)?.now;
        if (typeof now !== 'number') throw new ControlError('CONTROL_FAILED', 'the mock clock did not report its time');
        return now;
      },
    },
    async login(opt = {}) {
      const { redirectUri } = client;
      if (redirectUri === undefined) throw new SetupError('TARGET_INVALID', `client ${client.id} has no redirectUri, so it cannot log in`);
      const startedAt = now();
      const base = (opt.scope ?? client.scope).split(' ').filter(Boolean);
      const offline = target.profile.offlineAccessScope;
      const scope = [...new Set(opt.offline ? [...base, offline] : base.filter((s) => s !== offline))].join(' ');
      const pkce = oauth.generatePkce();
      recorder.addSecret(pkce.verifier, 'code_verifier');
      const state = oauth.randomValue();
      const nonce = oauth.randomValue();
      const authorizationUrl = oauth.buildAuthorizationUrl({
        endpoint: conn.endpoints.authorization,
        client: { id: client.id, redirectUri },
        scope,
        state,
        nonce,
        codeChallenge: pkce.challenge,
        // OIDC Core §11: asking for offline access, the RP MUST send prompt=consent (servers such as
        // oidc-provider drop offline_access otherwise).
        ...(opt.offline && { prompt: 'consent' }),
      });
      const result = await loginDriver.login(http, { authorizationUrl, redirectUri, state, ...(o.signal && { signal: o.signal }) });
      const t = await timed(() => oauth.exchangeCode(http, conn.endpoints, client, { code: result.code, codeVerifier: pkce.verifier }));
      record(book.loggedIn(t));
      lives.loggedIn(startedAt, t);
      const handle: SessionHandle = { cookieJar: result.cookieJar, ...(t.id_token !== undefined && { idToken: t.id_token }) };
      return { tokens: t, handle, startedAt };
    },
    refresh,
    refreshConcurrently: (rt, n) => Promise.all(Array.from({ length: n }, () => refresh(rt))),
    async clientCredentials(opt = {}) {
      return timed(() => oauth.clientCredentials(http, conn.endpoints, client, { ...(opt.scope !== undefined && { scope: opt.scope }) }));
    },
    has: (endpoint) => Boolean(conn.endpoints[endpoint]),
    async revoke(token, hint) {
      const r = answer(await oauth.revoke(http, conn.endpoints, client, token, hint));
      record(book.revoked(token, hint, r.status));
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
        ...(client.redirectUri !== undefined && { redirectUri: client.redirectUri }),
        cookieJar: h.cookieJar,
        state: oauth.randomValue(),
      });
      record(book.loggedOut());
      lives.loggedOut();
    },
    async verifyIdToken(idToken) {
      // Judge signature, iss and aud only: time claims are token-endpoint.id-token-times' condition (against
      // the target's clock), so verify at a moment the token's own claims make valid (iat, or just before exp).
      const { iat, exp } = decodeJwt(idToken);
      const at = typeof exp === 'number' ? Math.min(typeof iat === 'number' ? iat : exp - 1, exp - 1) : iat;
      const { payload } = await jwtVerify(idToken, conn.jwks, {
        issuer: conn.issuer,
        audience: client.id,
        ...(typeof at === 'number' && { currentDate: new Date(at * 1000) }),
      });
      return payload;
    },
    metadata: () => conn.metadata,
    note,
  };
  return { context, recorder, timeline };
}

// ---------------------------------------------------------------------------------------------
// The token timeline (report/timeline.ts): every refresh token by fingerprint, with its issue time
// and its declared expiry by the client's policy, so the report can draw sliding against fixed.

/** What the harness records (`record`), what a check notes (`note`), and the book of tokens seen. */
function createTimeline(target: Target, client: TargetClient, now: () => number) {
  const timeline: TimelineEntry[] = [];
  const book = createTokenBook(target, client, now);
  const record = (e: Omit<TimelineEntry, 'at'>): void => {
    timeline.push({ ...e, at: now() });
  };
  /**
   * A check's note usually names a step the harness just recorded (a refresh it then judged): it is merged
   * into that entry, adding its label, and `noted` when the check called it something else (`rejected` for
   * a refresh that succeeded). Anything else becomes an entry of its own.
   */
  const merged = new WeakSet<TimelineEntry>();
  const note = (e: TimelineEvent): void => {
    const last = timeline.at(-1);
    const refreshLike = (k: string) => k === 'refresh' || k === 'rotation' || k === 'rejected';
    if (last && !last.byCheck && last.at === now() && !merged.has(last) && (last.kind === e.kind || (refreshLike(last.kind) && refreshLike(e.kind)))) {
      merged.add(last);
      if (e.label !== undefined) last.label = e.label;
      // A rotation is a refresh; anything else the check calls differently is worth showing.
      if (e.kind !== last.kind && !(e.kind === 'refresh' && last.kind === 'rotation')) last.noted = e.kind;
      return;
    }
    timeline.push({ ...e, at: now(), byCheck: true });
  };
  return { timeline, record, note, book };
}

interface Family {
  /** First issue of the login: the fixed expiry counts from here. */
  start: number;
  ssoEnded: boolean;
}

function createTokenBook(target: Target, client: TargetClient, now: () => number) {
  const policy = isRefreshPolicy(client.policyRules) ? client.policyRules : undefined;
  const profile = target.profile;
  const known = new Map<string, { mark: TokenMark; family: Family }>();
  const families: Family[] = [];

  const declared = (issuedAt: number, family: Family): Pick<TokenMark, 'expiresAt' | 'expiry'> =>
    policy ? { expiry: policy.expiry, expiresAt: (policy.expiry === 'sliding' ? issuedAt : family.start) + policy.lifetimeSeconds } : {};
  const issue = (token: string, family: Family): TokenMark => {
    const mark: TokenMark = { id: fingerprint(token), issuedAt: now(), ...declared(now(), family) };
    known.set(mark.id, { mark, family });
    return mark;
  };
  /** The SSO session of the login is active: no logout since, and within the profile's session lifetime. */
  const ssoActive = (f: Family) => !f.ssoEnded && now() < f.start + profile.ssoSessionLifetimeSeconds;

  return {
    loggedIn(t: Tokens): Omit<TimelineEntry, 'at'> {
      if (!t.refresh_token) return { kind: 'login', label: 'no refresh token' };
      const family: Family = { start: now(), ssoEnded: false };
      families.push(family);
      return { kind: 'login', token: issue(t.refresh_token, family) };
    },
    refreshed(presented: string, t: Tokens): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(presented);
      const seen = known.get(id);
      if (t.status !== 200) {
        const error = typeof t.body?.error === 'string' ? t.body.error : undefined;
        return { kind: 'rejected', presented: id, status: t.status, ...(error !== undefined && { error }) };
      }
      if (t.refresh_token && t.refresh_token !== presented) {
        const family = seen?.family ?? { start: now(), ssoEnded: false };
        return { kind: 'rotation', presented: id, token: issue(t.refresh_token, family) };
      }
      // No new token: a sliding policy without rotation renews the presented one (while the SSO rule allows new lifetimes).
      if (seen && policy?.expiry === 'sliding' && !policy.rotation && (profile.refreshAfterSsoEnd === 'new-refresh-token' || ssoActive(seen.family))) {
        seen.mark = { ...seen.mark, expiresAt: now() + policy.lifetimeSeconds };
      }
      return { kind: 'refresh', presented: id, ...(seen && { token: seen.mark }) };
    },
    revoked(token: string, hint: string | undefined, status: number): Omit<TimelineEntry, 'at'> {
      const id = fingerprint(token);
      const isRefresh = known.has(id) || hint === 'refresh_token';
      return { kind: 'revocation', status, ...(isRefresh ? { presented: id } : { label: hint === 'access_token' ? 'access token' : 'token' }) };
    },
    loggedOut(): Omit<TimelineEntry, 'at'> {
      for (const f of families) f.ssoEnded = true;
      return { kind: 'logout' };
    },
  };
}
