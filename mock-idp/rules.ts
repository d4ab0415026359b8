/**
 * The mock's rules, annotated: for each rule the IdP enforces, the citations it implements (the same
 * tokens the checks cite, mock-idp/citations.ts), where the code is, and the ids of the checks that
 * observe it. A check id or a clause is thus one search away from the rule that serves it and back.
 * suites/runner/mock-rules.test.ts keeps this table honest: every check id exists, every check
 * observes some rule with which it shares a citation, every rule is observed, every refresh guard
 * is listed. Data only: the mock's behaviour lives in behaviour.ts and profile/model.ts.
 */
import { cite, type Citation } from './citations.ts';

export interface MockRule {
  /** `refresh-guard.<guard name>` for the refresh grant's guards (Behaviour.refreshGuards); otherwise `<area>.<rule>`. */
  name: string;
  /** What the mock does, in one sentence. */
  rule: string;
  /** Where the code is: a Behaviour member, a function, a file. */
  where: string;
  citations: Citation[];
  /** Ids of the checks (suites/checks) that would see this rule broken. */
  observedBy: string[];
}

const RFC6749 = (section: string, note?: string) => cite.spec('RFC 6749', section, note);
const field = (name: string) => cite.field(name);

export const MOCK_RULES: readonly MockRule[] = [
  // -- The refresh grant's guards, in order (Behaviour.refreshGuards)
  {
    name: 'refresh-guard.client-binding',
    rule: 'A refresh token works only for the client it was issued to (invalid_grant otherwise).',
    where: "Behaviour.refreshGuards 'client-binding' (profile/model.ts)",
    citations: [RFC6749('6'), RFC6749('10.4')],
    observedBy: ['token-endpoint.bound-to-client'],
  },
  {
    name: 'refresh-guard.sender-constraint',
    rule: "A refresh token bound to a DPoP key (a public client's, policies.*.senderConstraint) is refused without a proof of that key; with dpop-required every refresh needs a proof (invalid_dpop_proof).",
    where: "Behaviour.refreshGuards 'sender-constraint'; senderBinding at the code exchange (profile/model.ts)",
    citations: [cite.spec('RFC 9449', '5'), field('policies.*.senderConstraint')],
    observedBy: ['sender-constraint.refused-without-proof', 'sender-constraint.refused-other-key', 'sender-constraint.same-key-accepted', 'rotation.public-refresh-protected'],
  },
  {
    name: 'refresh-guard.family-revoked',
    rule: 'A token of a revoked family (revocation, detected reuse) is refused.',
    where: "Behaviour.refreshGuards 'family-revoked' (profile/model.ts)",
    citations: [cite.spec('RFC 9700', '4.14.2'), cite.spec('RFC 7009', '2.1'), RFC6749('5.2')],
    observedBy: ['rotation.reuse-revokes-family', 'token-endpoint.revocation-kills-refresh-token'],
  },
  {
    name: 'refresh-guard.reuse',
    rule: 'A rotated-out token is refused; with reuseOfRotatedToken "revoke-family" its family is revoked too; graceWindowSeconds allows graceReuseCount retries of a lost response; concurrentRefresh "same-successor" lets a same-second retry through (a repeat).',
    where: "Behaviour.refreshGuards 'reuse' (profile/model.ts); the count in commitRefresh via store.rotateRefreshToken (store.ts)",
    citations: [cite.spec('RFC 9700', '4.14.2'), field('reuseOfRotatedToken'), field('graceWindowSeconds'), field('graceReuseCount'), field('concurrentRefresh')],
    observedBy: [
      'rotation.reuse-revokes-family',
      'rotation.reuse-rejected-family-kept',
      'rotation.old-token-rejected',
      'rotation.concurrent-single-winner',
      'rotation.grace-retry-within-window',
      'rotation.grace-window-ends',
      'rotation.public-refresh-protected',
    ],
  },
  {
    name: 'refresh-guard.state',
    rule: 'A consumed token (presentedTokenAfterSsoEnd "consumed") or a revoked one is refused.',
    where: "Behaviour.refreshGuards 'state' (profile/model.ts)",
    citations: [cite.spec('RFC 7009', '2.1'), RFC6749('5.2'), field('presentedTokenAfterSsoEnd')],
    observedBy: ['token-endpoint.revocation-kills-refresh-token', 'token-endpoint.refused-token-error', 'sso.refresh-after-logout'],
  },
  {
    name: 'refresh-guard.expiry',
    rule: 'A token at or past its expiry is refused.',
    where: "Behaviour.refreshGuards 'expiry' (profile/model.ts)",
    citations: [field('policies.*.lifetimeSeconds'), RFC6749('5.2')],
    observedBy: ['expiry.idle-gap-kills-token', 'expiry.lives-declared-lifetime', 'expiry.fixed-not-extended'],
  },
  {
    name: 'refresh-guard.scope',
    rule: 'A refresh asking for a scope not originally granted is refused with invalid_scope; a narrower one is granted as asked.',
    where: "Behaviour.refreshGuards 'scope' (profile/model.ts)",
    citations: [RFC6749('6'), RFC6749('3.3'), RFC6749('5.2')],
    observedBy: ['token-endpoint.scope-may-not-widen', 'token-endpoint.scope-may-narrow'],
  },

  // -- The refresh decision (decideRefresh, profile/model.ts) and how it is carried out
  {
    name: 'refresh.rotation',
    rule: 'A policy with rotation issues a new refresh token on each refresh (with rotateAfterLifetimePercent: once the presented token lived that share of its lifetime; before, it is kept); one without issues none (the presented token is extended or kept).',
    where: 'decideRefresh, rotationDue: rotate / extend / keep (profile/model.ts)',
    citations: [field('policies.*.rotation'), field('policies.*.rotateAfterLifetimePercent'), RFC6749('6')],
    observedBy: ['rotation.new-token-each-refresh', 'rotation.not-rotated-when-declared-off', 'sso.new-token-while-session-active'],
  },
  {
    name: 'refresh.expiry-renewal',
    rule: 'Sliding expiry: a refresh sets the expiry to now + lifetime, never past first issue + maxLifetimeSeconds; fixed: it stays the first issue + lifetime. Online tokens live the onlineTokens terms. With refreshExpiresIn, token responses state that expiry as refresh_expires_in (seconds left).',
    where: 'decideIssue / decideRefresh: expiresAt (profile/model.ts); refreshExpiresIn (tokens.ts)',
    citations: [
      field('policies.*.expiry'),
      field('policies.*.lifetimeSeconds'),
      field('policies.*.maxLifetimeSeconds'),
      field('onlineTokens.lifetimeSeconds'),
      field('onlineTokens.maxLifetimeSeconds'),
      field('refreshExpiresIn'),
    ],
    observedBy: ['expiry.sliding-chain-outlives-lifetime', 'expiry.fixed-not-extended', 'expiry.lives-declared-lifetime', 'expiry.absolute-max-caps-sliding', 'token-endpoint.refresh-expires-in'],
  },
  {
    name: 'refresh.after-sso-end',
    rule: 'Once the SSO session has ended, refreshAfterSsoEnd decides: a new refresh token, an access token only (the presented token kept or consumed per presentedTokenAfterSsoEnd), or invalid_grant.',
    where: 'decideRefresh: termsOf, keep / consume / refuse (profile/model.ts)',
    citations: [field('refreshAfterSsoEnd'), field('presentedTokenAfterSsoEnd')],
    observedBy: ['sso.refresh-after-logout', 'sso.refresh-after-session-expiry', 'sso.offline-token-survives-logout'],
  },
  {
    name: 'refresh.online-after-sso-end',
    rule: 'An online token (issued without offline access) follows onlineTokens.refreshAfterSsoEnd once the SSO session has ended (default invalid_grant: it ends with the session).',
    where: 'termsOf, decideRefresh (profile/model.ts)',
    citations: [field('onlineTokens.refreshAfterSsoEnd'), field('refreshTokenIssuance')],
    observedBy: ['sso.online-token-ends-with-session'],
  },
  {
    name: 'refresh.retire-rotated',
    rule: 'Rotation retires the presented token: it no longer refreshes and introspects inactive.',
    where: 'Behaviour.retiredByRotation (profile/model.ts); store.rotateRefreshToken via commitRefresh (store.ts)',
    citations: [RFC6749('6'), cite.spec('RFC 9700', '4.14.2')],
    observedBy: ['rotation.old-token-rejected', 'token-endpoint.introspection-after-rotation'],
  },
  {
    name: 'refresh.atomic',
    rule: 'Rotation is a compare-and-set on the token as the decision saw it (a loser reads again and decides again): concurrent refreshes of one token have one winner; with concurrentRefresh "same-successor" the others, in the second of the rotation and while the successor is unused, get that same successor (recomputed as an HMAC of the presented token, never stored raw).',
    where: "Behaviour.commitStep (grants/refresh-token.ts); compare-and-set in store.rotateRefreshToken / useRefreshToken (store.ts); decideRefresh 'repeat' (profile/model.ts), successorToken (tokens.ts)",
    citations: [cite.spec('RFC 9700', '4.14.2'), cite.spec('Keycloak GHSA-m2w5-7xhv-w6fh'), field('concurrentRefresh')],
    observedBy: ['rotation.concurrent-single-winner', 'rotation.concurrent-same-successor'],
  },
  {
    name: 'refresh.client-auth',
    rule: 'A confidential client must authenticate to refresh; a missing or wrong secret is invalid_client, 401 with a WWW-Authenticate challenge for the scheme used.',
    where: 'Behaviour.confidentialMustAuthenticate (endpoints/token.ts); authenticateClient (client-auth.ts)',
    citations: [RFC6749('6'), RFC6749('5.2')],
    observedBy: ['token-endpoint.confidential-must-authenticate', 'token-endpoint.wrong-secret-rejected'],
  },

  // -- Issuing refresh tokens
  {
    name: 'issue.offline-access',
    rule: 'The code exchange issues a refresh token only when the client\'s policy refreshes, and the offline-access scope was granted or refreshTokenIssuance is "always" (then without it an online token, on the onlineTokens terms).',
    where: 'Behaviour.issuesRefreshToken → decideIssue (grants/authorization-code.ts, profile/model.ts)',
    citations: [cite.spec('OIDC Core', '11'), field('offlineAccessScope'), field('policies.*.refresh'), field('refreshTokenIssuance')],
    observedBy: [
      'offline-access.none-without-offline-access',
      'offline-access.issued-with-offline-access',
      'offline-access.none-for-no-refresh-policy',
      'offline-access.online-token-without-offline-access',
    ],
  },
  {
    name: 'issue.not-from-client-credentials',
    rule: 'The client_credentials grant never issues a refresh token.',
    where: 'Behaviour.issuesRefreshToken (grants/client-credentials.ts)',
    citations: [RFC6749('4.4.3')],
    observedBy: ['offline-access.none-from-client-credentials'],
  },

  // -- Token endpoint responses
  {
    name: 'token.no-store',
    rule: 'Token responses, successes and errors, carry Cache-Control: no-store and Pragma: no-cache.',
    where: 'Behaviour.noStore, Behaviour.tokenResponse (endpoints/token.ts, idp.ts)',
    citations: [RFC6749('5.1'), cite.spec('RFC 9111', '5.4')],
    observedBy: ['token-endpoint.no-store', 'token-endpoint.no-cache-pragma'],
  },
  {
    name: 'token.error-response',
    rule: 'Errors are JSON with an RFC 6749 error code (invalid_grant for a refused refresh token), HTTP 400, or 401 for invalid_client; an invalid_grant refusal of the refresh grant has the status invalidGrantStatus (400 or 403).',
    where: 'Behaviour.errorCode (idp.ts); errors.ts; refused (grants/refresh-token.ts)',
    citations: [RFC6749('5.2'), field('invalidGrantStatus')],
    observedBy: ['token-endpoint.error-shape', 'token-endpoint.refused-token-error'],
  },
  {
    name: 'token.refresh-token-entropy',
    rule: 'A refresh token is 32 random bytes, base64url: unguessable, and VSCHAR only.',
    where: 'Behaviour.refreshTokenBytes (tokens.ts newRefreshToken; successorToken derives a rotation\'s token as an HMAC under the instance key)',
    citations: [RFC6749('10.10'), RFC6749('A.17')],
    observedBy: ['token-endpoint.refresh-token-syntax'],
  },
  {
    name: 'token.access-token-lifetime',
    rule: 'expires_in is the profile\'s accessTokenLifetimeSeconds, a number.',
    where: 'Behaviour.accessTokenLifetime (tokens.ts issueAccessToken)',
    citations: [field('accessTokenLifetimeSeconds'), RFC6749('5.1')],
    observedBy: ['expiry.access-token-expires-in'],
  },
  {
    name: 'token.id-token-on-refresh',
    rule: 'A refresh of an openid grant returns an ID token (none where idTokenOnRefresh is "never") with the same sub, iss and aud, iat now and exp idTokenLifetimeSeconds later.',
    where: 'Behaviour.refreshIdTokenSubject (grants/refresh-token.ts); issueIdToken (tokens.ts)',
    citations: [cite.spec('OIDC Core', '12.2'), cite.spec('OIDC Core', '3.1.3.7'), field('idTokenLifetimeSeconds'), field('idTokenOnRefresh')],
    observedBy: ['token-endpoint.id-token-on-refresh', 'token-endpoint.id-token-times'],
  },

  // -- Revocation, introspection, discovery, sessions
  {
    name: 'revocation.revokes-family',
    rule: 'Revoking a refresh token (RFC 7009) revokes its family; the answer is 200 for any token.',
    where: 'Behaviour.revokedByRevocation (endpoints/revocation.ts); store.revokeFamily (store.ts)',
    citations: [cite.spec('RFC 7009', '2.1'), cite.spec('RFC 7009', '2.2')],
    observedBy: ['token-endpoint.revocation-kills-refresh-token', 'token-endpoint.introspection-after-revocation', 'token-endpoint.revocation-ends-access-tokens'],
  },
  {
    name: 'introspection.active',
    rule: 'Introspection answers active: false for a revoked, rotated-out, expired or unknown token, and for refresh tokens where the profile\'s introspection covers access tokens only.',
    where: 'Behaviour.refreshTokenActive, Behaviour.accessTokenActive (endpoints/introspection.ts)',
    citations: [cite.spec('RFC 7662', '2.2'), field('introspection')],
    observedBy: ['token-endpoint.introspection-after-revocation', 'token-endpoint.introspection-after-rotation', 'token-endpoint.introspection-coverage'],
  },
  {
    name: 'discovery.grant-types',
    rule: 'Discovery lists refresh_token in grant_types_supported.',
    where: 'Behaviour.metadata (endpoints/discovery.ts)',
    citations: [cite.spec('RFC 8414', '2'), cite.spec('OpenID Connect Discovery 1.0', '3')],
    observedBy: ['token-endpoint.metadata-advertises-refresh'],
  },
  {
    name: 'session.logout',
    rule: 'RP-initiated logout ends the SSO session; refresh then follows refresh.after-sso-end.',
    where: 'endpoints/end-session.ts; endSessions (sessions.ts)',
    citations: [cite.spec('OpenID RP-Initiated Logout 1.0', '2')],
    observedBy: ['sso.refresh-after-logout', 'sso.offline-token-survives-logout', 'sso.online-token-ends-with-session'],
  },
  {
    name: 'session.lifetime',
    rule: 'The SSO session ends ssoSessionLifetimeSeconds after login; refreshing does not extend it.',
    where: 'startSession / currentSession (sessions.ts)',
    citations: [field('ssoSessionLifetimeSeconds')],
    observedBy: ['sso.refresh-after-session-expiry', 'sso.new-token-while-session-active'],
  },
  {
    name: 'dpop.proof-validation',
    rule: 'A DPoP proof is checked in RFC 9449 §4.3 order: one JWT, typ dpop+jwt, an accepted alg, a public jwk that verifies it, htm and htu of the request, iat within 60 s, ath at a resource, a jti not seen before (invalid_dpop_proof otherwise).',
    where: 'validateProof, Behaviour.dpopProofChecks (dpop.ts)',
    citations: [cite.spec('RFC 9449', '4.3'), cite.spec('RFC 9449', '11.1'), field('dpopSigningAlgs')],
    observedBy: ['sender-constraint.proof-replay-refused', 'sender-constraint.proof-htm-htu-checked'],
  },
  {
    name: 'dpop.nonce',
    rule: 'With dpopNonce a proof without the current (or previous) server nonce gets use_dpop_nonce and a DPoP-Nonce header; every token response to a DPoP client carries the nonce.',
    where: 'createDpopState, useDpopNonce (dpop.ts); endpoints/token.ts',
    citations: [cite.spec('RFC 9449', '8'), field('dpopNonce')],
    observedBy: ['sender-constraint.nonce-required'],
  },
];
