/**
 * A check: one small condition, with a stable id, its group, a title and the clause it enforces
 * (OpenID Foundation conformance-suite style). Checks are data plus one async function; the
 * runner turns (check × target client) into instances, vitest or the self-test runs them.
 */
import type { JWTPayload } from 'jose';
import type { Policy, Profile } from '../../mock-idp/profile/index.ts';
import type { Citation } from '../../mock-idp/citations.ts';

export type Group = 'offline-access' | 'rotation' | 'expiry' | 'sso' | 'token-endpoint' | 'sender-constraint';
export const GROUPS: readonly Group[] = ['offline-access', 'rotation', 'expiry', 'sso', 'token-endpoint', 'sender-constraint'];

export interface CheckClient {
  id: string;
  auth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Absent only for a client whose policy has no authorization_code grant. */
  redirectUri?: string;
  policy: string;
  /** Base scope (without the offline-access scope); default "openid". */
  scope?: string;
}

/** One recorded HTTP exchange, already redacted (harness/record.ts). */
export type { Exchange } from '../harness/record.ts';
import type { Exchange } from '../harness/record.ts';

/** A token-endpoint (or revocation/introspection) answer, raw and parsed. */
export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: Record<string, unknown> | undefined;
  exchange: Exchange;
  /** The token_type a success must carry: DPoP when the request carried a DPoP proof (RFC 9449 §5); default Bearer. */
  tokenType?: 'DPoP';
}

export interface Tokens extends Answer {
  /** When the request left, and when its response arrived, in seconds on the check's clock (CheckClock.now): the server issued the tokens in between. */
  sentAt: number;
  receivedAt: number;
  /**
   * Set on a real clock when the SSO session a new refresh token depends on may have ended while this
   * request was under way: a failure that cites this answer is inconclusive instead (runner/token-lives.ts).
   */
  unjudgeable?: string;
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  scope?: string;
  /** The DPoP proof the request carried (registered as a secret), for a check that replays it. */
  dpopProof?: string;
}

/**
 * How a refresh's DPoP proof departs from a correct one (RFC 9449 §4.3), for the checks that the IdP
 * refuses it: none at all, another key, a proof sent before (same jti), another method or URI, or no
 * nonce (and no retry with the one the server gives). Without an override the client's proof is
 * sent, and a use_dpop_nonce answer is retried once with the nonce given (§8), as a client library does.
 */
export type DpopOverride =
  | { proof: 'none' }
  | { proof: 'other-key' }
  | { proof: 'replay'; of: string }
  | { proof: 'wrong-htm' }
  | { proof: 'wrong-htu' }
  | { proof: 'no-nonce' };

export interface LoginSession {
  tokens: Tokens;
  /** When the login began (check's clock): the SSO session started no earlier. */
  startedAt: number;
  /** Driver state needed to log this session out (cookie jar, id_token). */
  handle: unknown;
}

export interface CheckContext {
  profile: Profile;
  policy: Policy;
  client: CheckClient;
  /** Other clients of the target (for cross-client checks). */
  otherClients: CheckClient[];
  clock: CheckClock;
  /** Interactive login through the target's login driver, then the code exchange. */
  login(options?: { offline?: boolean; scope?: string }): Promise<LoginSession>;
  refresh(refreshToken: string, options?: { scope?: string; omitAuth?: boolean; wrongSecret?: boolean; as?: CheckClient; dpop?: DpopOverride }): Promise<Tokens>;
  /** The client's DPoP key (alg, RFC 7638 thumbprint), when its policy declares a sender constraint (RFC 9449). */
  dpopKey?: () => Promise<{ jkt: string; alg: string }>;
  clientCredentials(options?: { scope?: string }): Promise<Tokens>;
  /** The target's endpoints present? (revocation, introspection, endSession) */
  has(endpoint: 'revocation' | 'introspection' | 'endSession'): boolean;
  revoke(token: string, hint?: 'refresh_token' | 'access_token'): Promise<Answer>;
  /** Introspects with an authenticated confidential client of the target; undefined if none. */
  introspect(token: string, hint?: 'refresh_token' | 'access_token'): Promise<Answer | undefined>;
  logout(session: LoginSession): Promise<void>;
  verifyIdToken(idToken: string): Promise<JWTPayload>;
  metadata(): Record<string, unknown>;
  /** Adds an event to the client's token timeline (report). */
  note(event: TimelineEvent): void;
  /** Sends N refresh requests at once. */
  refreshConcurrently(refreshToken: string, n: number): Promise<Tokens[]>;
}

/** How a check reads and lets pass time: the mock's virtual clock, or the measured real one. */
export interface CheckClock {
  kind: 'mock' | 'real';
  /** Seconds on the check's clock: the mock's time since the check began, or measured monotonic time. */
  now(): number;
  /**
   * Slack for scheduling around a computed boundary: 0 on the mock clock (exact), on a real clock
   * 0.5 s plus the longest round trip this check measured so far.
   */
  jitter(): number;
  wait(seconds: number, why: string): Promise<void>;
  /** The target's time (Unix seconds): the mock's clock for a mock clock, the harness's for a real one (util.ts targetNow). */
  targetTime?(): Promise<number>;
}

export interface TimelineEvent {
  kind: 'login' | 'refresh' | 'rotation' | 'revocation' | 'logout' | 'rejected' | 'wait';
  label?: string;
}

export interface ApplicabilityInput {
  profile: Profile;
  policy: Policy;
  client: CheckClient;
  otherClients: CheckClient[];
}

/**
 * The normative level of the rule a check enforces, from its clause (RFC 2119): MUST (and rules a
 * profile declares: the IdP documented them) fail the run; SHOULD and MAY give warnings.
 */
export type Level = 'MUST' | 'SHOULD' | 'MAY';

/** What a check needs of the target beyond login and the token endpoint; the plan skips it where the target cannot give it. */
export type Need = 'logout' | 'revocation' | 'introspection';

export interface Check {
  id: string;
  group: Group;
  title: string;
  /** The normative level of the clause it enforces. */
  level: Level | ((input: ApplicabilityInput) => Level);
  /** Where the rule it enforces is written (specs, seed sections, profile fields): mock-idp/citations.ts. */
  clause: readonly Citation[] | ((input: ApplicabilityInput) => readonly Citation[]);
  /** true, or the reason it cannot apply to this client. */
  applies(input: ApplicabilityInput): true | string;
  /** Clock time the check needs to pass (seconds), so a real clock can skip what it cannot wait for. */
  waits?(input: ApplicabilityInput): number;
  /** Capabilities of the target it cannot run without (a logout driver and an IdP that can log out, ...). */
  needs?: readonly Need[];
  /**
   * An observe probe (suites/observe), not a check: its answers come back as they are; the declared
   * profile's timing never turns a refusal inconclusive (observe does not trust the declaration).
   */
  observes?: boolean;
  run(t: CheckContext): Promise<void>;
}
