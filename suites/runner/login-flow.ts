/**
 * The login flow of one check: an authorization request with PKCE, state and nonce through the target's
 * login driver, the code exchanged at the token endpoint; and the logout of that session through the
 * target's logout driver. Each step is recorded on the check's timeline and in its token lives.
 */
import type { CheckContext, LoginSession } from '../checks/types.ts';
import { createLoginDriver, createLogoutDriver, type ClockControl, type SsoControl } from '../harness/drivers/index.ts';
import type { CookieJar } from 'tough-cookie';
import { SetupError } from '../harness/errors.ts';
import type { Http } from '../harness/http.ts';
import * as oauth from '../harness/oauth.ts';
import type { Recorder } from '../harness/record.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import type { Connection } from './connection.ts';
import type { Timeline } from './timeline.ts';
import type { TokenEndpointClient } from './token-endpoint.ts';
import type { createTokenLives } from './token-lives.ts';

interface SessionHandle {
  cookieJar: CookieJar;
  idToken?: string;
}

export interface LoginFlowOptions {
  target: Target;
  connection: Connection;
  /** Bound to the check's recorder. */
  http: Http;
  recorder: Recorder;
  client: TargetClient;
  control?: ClockControl & SsoControl;
  tokenEndpoint: Pick<TokenEndpointClient, 'exchangeCode'>;
  timeline: Pick<Timeline, 'record' | 'book'>;
  lives: ReturnType<typeof createTokenLives>;
  now: () => number;
  signal?: AbortSignal;
}

export function createLoginFlow(o: LoginFlowOptions): Pick<CheckContext, 'login' | 'logout'> {
  const { target, connection: conn, http, client, recorder, lives, now } = o;
  const { record, book } = o.timeline;
  const loginDriver = createLoginDriver(target.login, { issuer: conn.issuer, ...(conn.username !== undefined && { defaultUsername: conn.username }) });
  const logoutDriver = createLogoutDriver(target.logout, {
    endpoints: conn.endpoints,
    issuer: conn.issuer,
    ...(o.control && { control: o.control }),
    ...(conn.adminToken !== undefined && { adminToken: conn.adminToken }),
  });
  const username = target.login.driver === 'mock' ? (target.login.username ?? conn.username) : target.login.driver === 'form' ? target.login.username : undefined;

  return {
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
      const { tokens: t, sent } = await o.tokenEndpoint.exchangeCode(result.code, pkce.verifier);
      record(book.loggedIn(t, sent, opt.offline === true));
      lives.loggedIn(startedAt, t);
      const handle: SessionHandle = { cookieJar: result.cookieJar, ...(t.id_token !== undefined && { idToken: t.id_token }) };
      return { tokens: t, handle, startedAt };
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
  };
}
