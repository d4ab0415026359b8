/**
 * How this IdP behaves, as one object: the profile it follows plus the few rule points a
 * deliberate defect (defects.ts) may replace. The correct behaviour is the default here (the
 * refresh rules are the model's, profile/model.ts); endpoint and grant code call these functions
 * and never branch on whether one was replaced.
 */
import type { Policy, Profile } from './profile/index.ts';
import { correctRefreshRules, decideIssue, isAlive, type FamilyRecord, type IssueDecision, type RefreshRules, type TokenRecord } from './profile/model.ts';
import type { OAuthErrorCode } from './errors.ts';
import type { DpopProofChecks } from './dpop.ts';

export type { RefreshGuard } from './profile/model.ts';

/** A token-endpoint response as it is about to be sent (success or error). */
export interface TokenEndpointResponse {
  /** The request's grant_type and scope, when it got that far. */
  grantType?: string;
  requestedScope?: string;
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface Behaviour extends RefreshRules {
  /** The profile the IdP follows (a defect may alter a declaration). */
  profile: Profile;
  /** Does a token response of this grant carry a refresh token, and on what terms (the model's decideIssue)? */
  issuesRefreshToken(input: { policy: Policy; grantType: 'authorization_code' | 'client_credentials'; scope: string[]; now: number }): IssueDecision;
  /**
   * Runs the refresh grant's state change, `change(seen)`: a compare-and-set of the store's that
   * applies only while the presented token is as `seen`. Correct: on the token as the decision saw
   * it (`decided`), so a change that finds the token changed since is not applied (the grant then
   * decides again) and concurrent refreshes have one winner. `current` reads the token as it is now.
   */
  commitStep<S, T>(change: (seen: S) => T, decided: S, current: () => S | Promise<S>): T | Promise<T>;
  /** Must a confidential client authenticate for this grant? (RFC 6749 §3.2.1, §6: always.) */
  confidentialMustAuthenticate(grantType: string): boolean;
  /** The families an RFC 7009 revocation of one of the family's refresh tokens revokes (§2.1: its own). */
  revokedByRevocation<F extends FamilyRecord>(family: F): F[];
  /** Introspection of an unexpired refresh token: active unless retired or revoked (RFC 7662 §2.2). */
  refreshTokenActive(record: TokenRecord, family: FamilyRecord): boolean;
  /** Introspection of an unexpired access token: active unless revoked (RFC 7662 §2.2). */
  accessTokenActive(token: { revokedAt?: number }): boolean;
  /** The sub claim of an ID token issued by the refresh grant (OIDC Core §12.2: unchanged). */
  refreshIdTokenSubject(sub: string): string;
  /** Access-token lifetime actually used, from the declared one. */
  accessTokenLifetime(declared: number): number;
  /** Error code as sent, from the correct one. */
  errorCode(code: OAuthErrorCode): OAuthErrorCode;
  /** Cache-Control: no-store / Pragma: no-cache on token responses (RFC 6749 §5.1). */
  noStore: boolean;
  /** The discovery document as served, from the correct one. */
  metadata(document: Record<string, unknown>): Record<string, unknown>;
  /** Random bytes in a refresh token (RFC 6749 §10.10: at least 128 bits). */
  refreshTokenBytes: number;
  /** The token endpoint's response as sent, from the correct one (its members and headers). */
  tokenResponse(response: TokenEndpointResponse): TokenEndpointResponse;
  /** The RFC 9449 §4.3 checks DPoP proof validation makes (dpop.ts): all of them. */
  dpopProofChecks: DpopProofChecks;
}

export function correctBehaviour(profile: Profile): Behaviour {
  return {
    profile,
    issuesRefreshToken: ({ policy, grantType, scope, now }) =>
      // RFC 6749 §4.4.3: no refresh token from client_credentials; the code exchange as the model decides
      // (OIDC Core §11: with offline access; profile refreshTokenIssuance "always": also without, online).
      grantType === 'authorization_code' ? decideIssue(profile, policy, scope, now) : { issue: false, reason: 'client_credentials issues no refresh token (RFC 6749 §4.4.3)' },
    ...correctRefreshRules,
    commitStep: (change, decided) => change(decided),
    confidentialMustAuthenticate: () => true,
    revokedByRevocation: (family) => [family],
    refreshTokenActive: isAlive,
    accessTokenActive: (token) => token.revokedAt === undefined,
    refreshIdTokenSubject: (sub) => sub,
    accessTokenLifetime: (declared) => declared,
    errorCode: (code) => code,
    noStore: true,
    metadata: (document) => document,
    refreshTokenBytes: 32,
    tokenResponse: (response) => response,
    dpopProofChecks: { jti: true, htmHtu: true },
  };
}
