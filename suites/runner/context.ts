/**
 * The CheckContext a check runs with, composed of three parts bound to one recorder (so every exchange
 * of the check is recorded, redacted, for its failure message): the token-endpoint client
 * (token-endpoint.ts), the login flow (login-flow.ts) and the timeline (timeline.ts); plus the clock.
 */
import { decodeJwt, jwtVerify } from 'jose';
import type { CheckContext } from '../checks/types.ts';
import { createClock, createControlClient, type ClockControl, type SsoControl } from '../harness/drivers/index.ts';
import { ControlError } from '../harness/errors.ts';
import type { Http } from '../harness/http.ts';
import { Recorder } from '../harness/record.ts';
import { clientSecrets, targetSecrets, type Target, type TargetClient } from '../harness/target.ts';
import type { Connection } from './connection.ts';
import { createLoginFlow } from './login-flow.ts';
import { createTimeline, type TimelineEntry } from './timeline.ts';
import { createTokenEndpointClient } from './token-endpoint.ts';
import { createTokenLives } from './token-lives.ts';
import { createDpopProver } from '../harness/dpop.ts';
import { usesDpop } from '../../mock-idp/profile/model.ts';
import { recordedControl, recordedWait } from './recorded-control.ts';

export type { TimelineEntry } from './timeline.ts';

export interface CheckRun {
  context: CheckContext;
  recorder: Recorder;
  timeline: TimelineEntry[];
}

export interface ContextOptions {
  target: Target;
  connection: Connection;
  http: Http;
  client: TargetClient;
  otherClients: TargetClient[];
  signal?: AbortSignal;
  onWait?: (progress: { why: string; totalSeconds: number; secondsLeft: number }) => void;
  /** Judge refusals against the declared profile's timing on a real clock (token-lives.ts); default true. */
  judgeLives?: boolean;
}

/** The recorder of one check, knowing every secret of the target (targetSecrets), of its clients and of the connection. */
export function checkRecorder(target: Target, clients: readonly TargetClient[], connection: Pick<Connection, 'adminToken'>): Recorder {
  const recorder = Recorder.of(targetSecrets(target));
  for (const c of clients) for (const s of clientSecrets(c)) recorder.addSecret(s.value, s.label);
  recorder.addSecret(connection.adminToken, 'admin_token');
  return recorder;
}

export function createCheckRun(o: ContextOptions): CheckRun {
  const { target, connection: conn, client } = o;
  const recorder = checkRecorder(target, [client, ...o.otherClients], conn);
  const http = o.http.withRecorder(recorder);
  const control: (ClockControl & SsoControl) | undefined =
    (conn.localControl && recordedControl(conn.localControl, recorder, conn.issuer)) ?? (conn.adminToken ? createControlClient({ http, issuer: conn.issuer, adminToken: conn.adminToken }) : undefined);
  const clock = createClock(target.clock, {
    ...(control && { control }),
    ...(o.signal && { signal: o.signal }),
    ...(o.onWait && { onProgress: o.onWait }),
  });
  let elapsed = 0;
  // The check's clock: the mock's virtual time, or measured time (monotonic) on a real one.
  const origin = performance.now();
  const now = (): number => (clock.kind === 'mock' ? elapsed : (performance.now() - origin) / 1000);
  /** The target's time: the mock's clock for a mock clock (it may run days ahead), the harness's for a real one. */
  const targetTime = async (): Promise<number> => {
    if (clock.kind === 'real' || !control) return Math.floor(Date.now() / 1000);
    // Advancing by nothing reads the mock's clock through the one control both transports offer.
    const r: unknown = await control.advance(0);
    const now = typeof r === 'number' ? r : (r as { now?: unknown } | undefined)?.now;
    if (typeof now !== 'number') throw new ControlError('CONTROL_FAILED', 'the mock clock did not report its time');
    return now;
  };
  // RFC 9449: a client whose policy declares a sender constraint proves possession of its key on each token request.
  const dpop = usesDpop(client.policyRules) ? createDpopProver({ alg: target.dpop?.alg ?? 'ES256', secrets: recorder, iat: targetTime }) : undefined;
  const timeline = createTimeline(target, client, () => elapsed);
  const lives = createTokenLives(target.profile, client.policyRules, now);
  const signal = o.signal && { signal: o.signal };
  const tokenEndpoint = createTokenEndpointClient({
    http,
    endpoints: conn.endpoints,
    recorder,
    client,
    otherClients: o.otherClients,
    clockKind: clock.kind,
    judgeLives: o.judgeLives ?? true,
    now,
    timeline,
    lives,
    ...(dpop && { dpop }),
    ...signal,
  });
  const loginFlow = createLoginFlow({ target, connection: conn, http, recorder, client, tokenEndpoint, timeline, lives, now, ...(control && { control }), ...signal });

  const context: CheckContext = {
    profile: target.profile,
    policy: client.policyRules,
    // One client shape through the harness: the checks see the TargetClient as a CheckClient.
    client,
    otherClients: o.otherClients,
    clock: {
      kind: clock.kind,
      now,
      // The embedded mock's clock is frozen between advances: exact. A remote mock clock (npm run
      // mock-idp) is real time plus the advances, counted in whole seconds: real time moves under the
      // check too, up to a second boundary plus the round trips.
      jitter: () => (clock.kind === 'real' ? 0.5 + tokenEndpoint.longestRoundTrip() : target.kind === 'embedded' ? 0 : 1 + tokenEndpoint.longestRoundTrip()),
      async wait(seconds, why) {
        // The mock's clock moves in whole seconds: fractional waits add up, the mock moves by the seconds they cross.
        const by = clock.kind === 'mock' ? Math.floor(elapsed + seconds) - Math.floor(elapsed) : seconds;
        // A mock clock's move is recorded as its control call; a real wait is recorded as a step of its own.
        if (clock.kind === 'real') await recordedWait(recorder, conn.issuer, by, why, () => clock.wait(by, why, { ...signal }));
        else await clock.wait(by, why, { ...signal });
        elapsed += seconds;
        timeline.record({ kind: 'wait', label: why, seconds });
      },
      targetTime,
    },
    ...loginFlow,
    ...tokenEndpoint.calls,
    has: (endpoint) => Boolean(conn.endpoints[endpoint]),
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
    note: timeline.note,
    ...(dpop && { dpopKey: async () => ({ jkt: (await dpop.key()).jkt, alg: dpop.alg }) }),
  };
  return { context, recorder, timeline: timeline.timeline };
}
