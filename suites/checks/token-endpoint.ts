/** The token endpoint's rules around refresh: RFC 6749 §5–§6, OIDC Core §12.2, RFC 7009, RFC 7662, RFC 8414. */
import { cite, policyField, profileField } from './citations.ts';
import { introspects, refusalStatus } from '../../mock-idp/profile/model.ts';
import { decodeJwt } from 'jose';
import { asserted, describe, expectOAuthError, expectRefused, expectSuccess, expectThat, fail, givenRefreshToken, inconclusive, skip, warn } from './expect.ts';
import type { Answer, Check, CheckContext, Tokens } from './types.ts';
import { aimInside, aliveUntil, secs, unlessPast, waitUntil } from './timing.ts';
import { interactive, refreshAcceptedAt, refreshExpiresInAt, refreshIdTokenRule, reuseAfterRotation, rotatesOnRefresh, rp, scopeOf, targetNow, whenRefresh } from './util.ts';

/** A logged-in refresh token to start from; without one the check is inconclusive (offline-access.* judge issuing). */
async function freshRefreshToken(t: CheckContext): Promise<{ rt: string; tokens: Tokens }> {
  const { tokens } = await t.login({ offline: true });
  return { rt: givenRefreshToken(tokens, 'the code exchange'), tokens };
}

/** A header's comma-separated directives, lower-cased. */
function directives(a: Answer, header: string): string[] {
  return (a.headers.get(header) ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The auth-schemes of a WWW-Authenticate value (RFC 9110 §11.6.1), lower-cased: the tokens that start a challenge. */
export function challengeSchemes(value: string | null): string[] {
  if (!value) return [];
  // A challenge starts at the beginning or after a comma, with a token not followed by "=" (that would be an auth-param).
  return [...value.matchAll(/(?:^|,)\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?=\s+[^=,\s]|\s*,|\s*$)/g)].map((m) => m[1]!.toLowerCase());
}

/**
 * Seconds of clock skew allowed between the target and the clock judging its id_token times:
 * one on the mock's own clock (exact), thirty against the harness's for a real target.
 */
export function idTokenSkew(t: Pick<CheckContext, 'clock'>): number {
  return t.clock.kind === 'mock' ? 1 : 30;
}

/** OIDC Core §3.1.3.7 (9, 10): at receipt, exp is in the future and iat not in the future. */
function judgeIdTokenTimes(idToken: string, now: number, skew: number, what: string, a: Answer): void {
  let claims;
  try {
    claims = decodeJwt(idToken);
  } catch (e) {
    fail(`${what}: an id_token that is a JWT`, (e as Error).message, a);
  }
  const { exp, iat } = claims;
  expectThat(typeof exp === 'number' && exp > now - skew, `${what}: id_token exp in the future at receipt (now ${now}, skew ${skew} s)`, () => `exp=${String(exp)}, ${typeof exp === 'number' ? `${now - exp} s before receipt` : 'not a number'}`, a);
  expectThat(typeof iat === 'number' && iat <= now + skew, `${what}: id_token iat not in the future at receipt (now ${now}, skew ${skew} s)`, () => `iat=${String(iat)}, ${typeof iat === 'number' ? `${iat - now} s after receipt` : 'not a number'}`, a);
}

/** A refresh token of this client that the target has just refused (rotated out, or revoked): for the error check. */
async function refusedToken(t: CheckContext): Promise<{ how: string; answer: Answer; before: Answer[] }> {
  const { rt } = await freshRefreshToken(t);
  if (rotatesOnRefresh(t) === true) {
    const r = await t.refresh(rt);
    const next = r.status === 200 ? r.refresh_token : undefined;
    if (typeof next !== 'string' || next === rt) inconclusive(`the refresh did not rotate (${describe(r)}): no rotated-out token to present (rotation.* judge that)`);
    const { after } = reuseAfterRotation(t);
    if (after > 0) await t.clock.wait(after, 'the grace window to pass');
    return { how: 'the rotated-out refresh token', answer: await t.refresh(rt), before: [r] };
  }
  if (!t.has('revocation')) skip('the policy does not rotate and the target has no revocation endpoint: no refused token to judge without waiting for expiry');
  const rev = await t.revoke(rt, 'refresh_token');
  return { how: 'the revoked refresh token', answer: await t.refresh(rt), before: [rev] };
}

/**
 * The code exchange and a refresh, as [answer, what] for each that carries tokens (a refused refresh
 * carries none; a check that judged none is inconclusive, run.ts).
 */
async function tokenResponses(t: CheckContext): Promise<Array<[Tokens, string]>> {
  const { rt, tokens } = await freshRefreshToken(t);
  const r = await t.refresh(rt);
  return ([[tokens, 'the code exchange'], [r, 'the refresh']] as Array<[Tokens, string]>).filter(([a]) => a.status === 200);
}

/**
 * An invalid_grant refusal with the status the profile declares (invalidGrantStatus; RFC 6749 §5.2
 * says 400): fails on another status or code. Returns the warning to raise once the check's other
 * conditions held, where the declared status is not the standard's (a documented deviation).
 */
function expectInvalidGrant(t: CheckContext, a: Answer, what: string, ...before: Answer[]): (() => never) | undefined {
  const status = refusalStatus(t.profile, 'invalid_grant');
  const source = status === 400 ? 'RFC 6749 §5.2' : `profile invalidGrantStatus ${status}`;
  if (a.status !== status || a.body?.error !== 'invalid_grant') fail(`${what}: HTTP ${status} with error=invalid_grant (${source})`, describe(a), ...before, a);
  asserted(`${what}: HTTP ${status} error=invalid_grant`);
  if (status === 400) return undefined;
  return () => warn(`${what}: HTTP 400 with error=invalid_grant (RFC 6749 §5.2)`, `HTTP ${a.status} error=invalid_grant, as the profile documents (invalidGrantStatus ${status}): a deviation from the standard`, a);
}

const invalidGrantClause = (note: string) => (i: { profile: CheckContext['profile'] }) => [cite.spec('RFC 6749', '5.2', note), profileField(i.profile, 'invalidGrantStatus')];

/** Where the profile declares introspection knows refresh tokens (RFC 7662 §2.1 lets a server cover some types only). */
const introspectsRefresh = (extra?: Parameters<typeof whenRefresh>[0]) =>
  whenRefresh((p, i) => (introspects(i.profile, 'refresh_token') ? (extra ? extra(p, i) : true) : 'the profile declares introspection covers access tokens only: token-endpoint.introspection-coverage'));

/** When token-endpoint.refresh-expires-in refreshes: a few seconds in, so a fixed expiry's remaining lifetime differs from the full one. */
const expiresInRefreshAt = (lifetime: number): number => Math.min(5, Math.floor(lifetime / 2));

/**
 * refresh_expires_in of `a`: present, an integer, and what the model says the refresh token then has
 * left (`model(w)`, w seconds after login), for the server's moment anywhere in `span` (measured), with
 * a second and the clock's jitter either way; exactly on the embedded mock's frozen clock.
 */
function judgeRefreshExpiresIn(t: CheckContext, a: Tokens, span: [number, number], model: (w: number) => number | undefined, what: string): void {
  const v = a.body?.refresh_expires_in;
  expectThat(typeof v === 'number' && Number.isInteger(v), `${what}: refresh_expires_in, an integer number of seconds (profile: refreshExpiresIn true)`, () => describe(a), a);
  // Whole seconds either way, and the clock's jitter: a remote mock's clock is real time plus the advances, so real time passes under the check too.
  const jitter = t.clock.jitter();
  const slack = jitter === 0 ? 0 : 1 + Math.ceil(jitter);
  const ends = [Math.floor(span[0]), Math.ceil(span[1])].map((w) => model(Math.max(0, w)));
  if (ends.some((e) => e === undefined)) inconclusive(`${what}: the model gives the client no live refresh token to count down: nothing to compare`);
  const lo = Math.min(...(ends as number[])) - slack;
  const hi = Math.max(...(ends as number[])) + slack;
  const want = lo === hi ? `${lo}` : `between ${lo} and ${hi}`;
  expectThat(typeof v === 'number' && v >= lo && v <= hi, `${what}: refresh_expires_in ${want} (the refresh token's remaining lifetime)`, () => `refresh_expires_in=${String(v)}`, a);
}

const confidentialRefresh = whenRefresh((_p, i) => (i.policy.confidential ? true : `policy ${i.client.policy} is for public clients`));

export const tokenEndpointChecks: Check[] = [
  {
    id: 'token-endpoint.metadata-advertises-refresh',
    group: 'token-endpoint',
    level: 'SHOULD',
    title: 'Discovery advertises the refresh_token grant',
    // grant_types_supported is OPTIONAL, so a server that omits it breaks no MUST; but its default,
    // ["authorization_code", "implicit"], says refresh is unsupported: a warning, as is a list without it.
    // scopes_supported is not judged: RECOMMENDED, and servers MAY leave supported scopes out (Discovery §3).
    clause: [cite.spec('RFC 8414', '2', 'grant_types_supported: OPTIONAL, default ["authorization_code", "implicit"]'), cite.spec('OpenID Connect Discovery 1.0', '3')],
    // Once per target: for the refreshing client whose id sorts first (the same one whichever client asks).
    applies: (i) => {
      const first = [i.client, ...i.otherClients].filter((c) => i.profile.policies[c.policy]?.refresh).map((c) => c.id).sort()[0];
      return first === i.client.id ? true : 'checked once per target (with the first refreshing client)';
    },
    async run(t) {
      const grants = t.metadata().grant_types_supported;
      const expected = 'grant_types_supported to include refresh_token (the profile declares refresh)';
      if (grants === undefined) warn(expected, 'grant_types_supported absent: its default ["authorization_code", "implicit"] excludes refresh_token');
      if (!Array.isArray(grants) || !grants.includes('refresh_token')) warn(expected, `grant_types_supported=${JSON.stringify(grants)}`);
      asserted(expected);
    },
  },
  {
    id: 'token-endpoint.no-store',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Token responses carry Cache-Control: no-store',
    clause: [cite.spec('RFC 6749', '5.1', 'MUST include Cache-Control: no-store')],
    applies: whenRefresh(),
    async run(t) {
      for (const [a, what] of await tokenResponses(t)) {
        const cc = directives(a, 'cache-control');
        expectThat(cc.includes('no-store'), `Cache-Control: no-store on ${what}`, () => `Cache-Control: ${a.headers.get('cache-control') ?? '(absent)'}`, a);
      }
    },
  },
  {
    id: 'token-endpoint.no-cache-pragma',
    group: 'token-endpoint',
    // RFC 6749 §5.1 says MUST, but RFC 9111 §5.4 deprecates Pragma (HTTP/1.0 caches only; Cache-Control
    // governs every cache today): judged as SHOULD, a warning, so a missing Pragma never reads as a leak.
    level: 'SHOULD',
    title: 'Token responses carry Pragma: no-cache',
    clause: [cite.spec('RFC 6749', '5.1', 'MUST include Pragma: no-cache'), cite.spec('RFC 9111', '5.4', 'Pragma deprecated: judged as SHOULD')],
    applies: whenRefresh(),
    async run(t) {
      for (const [a, what] of await tokenResponses(t)) {
        const expected = `Pragma: no-cache on ${what}`;
        if (!directives(a, 'pragma').includes('no-cache')) warn(expected, `Pragma: ${a.headers.get('pragma') ?? '(absent)'}`, a);
        asserted(expected);
      }
    },
  },
  {
    id: 'token-endpoint.error-shape',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'An unknown refresh token gets a JSON error=invalid_grant, HTTP 400 (or the status the profile documents)',
    clause: invalidGrantClause('400, error=invalid_grant'),
    applies: whenRefresh(),
    async run(t) {
      const r = await t.refresh('not-a-refresh-token-' + 'x'.repeat(32));
      const deviation = expectInvalidGrant(t, r, 'an unknown refresh token');
      const type = (r.headers.get('content-type') ?? '').toLowerCase();
      expectThat(type.startsWith('application/json'), 'Content-Type application/json on the error', () => `Content-Type: ${type || '(absent)'}`, r);
      const d = r.body?.error_description;
      expectThat(
        d === undefined || (typeof d === 'string' && !/[^\x20-\x21\x23-\x5b\x5d-\x7e]/.test(d)),
        'error_description, if present, a string of %x20-21 / %x23-5B / %x5D-7E',
        () => JSON.stringify(d),
        r,
      );
      deviation?.();
    },
  },
  {
    id: 'token-endpoint.refused-token-error',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh token the server refuses (rotated out or revoked) gets error=invalid_grant, HTTP 400 (or the status the profile documents)',
    // The one check of the refusal's error code and status: the lifetime, rotation, revocation and SSO
    // checks judge only that a token is refused, so a wrong code fails here once instead of everywhere.
    clause: invalidGrantClause('invalid_grant: the refresh token is invalid, expired, revoked'),
    applies: whenRefresh(),
    async run(t) {
      const { how, answer, before } = await refusedToken(t);
      if (answer.status >= 200 && answer.status < 300) inconclusive(`${how} still worked (${describe(answer)}): no refusal to judge (rotation.old-token-rejected and token-endpoint.revocation-kills-refresh-token judge that)`);
      expectInvalidGrant(t, answer, how, ...before)?.();
    },
  },
  {
    id: 'token-endpoint.refresh-token-syntax',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Refresh tokens are VSCHAR strings long enough for 128 bits, distinct per issue',
    clause: [cite.spec('RFC 6749', '10.10'), cite.spec('RFC 6749', 'A.17')],
    applies: whenRefresh(),
    async run(t) {
      const a = await freshRefreshToken(t);
      const b = await freshRefreshToken(t);
      for (const { rt, tokens } of [a, b]) {
        expectThat(/^[\x20-\x7e]+$/.test(rt), 'a refresh_token of VSCHAR characters (%x20-7E)', () => 'other characters', tokens);
        expectThat(rt.length >= 22, 'a refresh_token of at least 22 characters (128 bits as base64url)', () => `${rt.length} characters`, tokens);
      }
      expectThat(a.rt !== b.rt, 'distinct refresh tokens for two logins', () => 'the same refresh_token twice', a.tokens, b.tokens);
    },
  },
  {
    id: 'token-endpoint.bound-to-client',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh token presented by another client is refused',
    clause: [cite.spec('RFC 6749', '6', 'bound to the client'), cite.spec('RFC 6749', '10.4'), cite.spec('RFC 6749', '5.2')],
    applies: whenRefresh((_p, i) => (i.otherClients.some((c) => i.profile.policies[c.policy]?.grantTypes.includes('refresh_token')) ? true : 'the target has no other client allowed to refresh')),
    async run(t) {
      const other = t.otherClients.find((c) => t.profile.policies[c.policy]?.grantTypes.includes('refresh_token'))!;
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { as: other });
      expectRefused(r, `a refresh token issued to ${t.client.id}, presented by client ${other.id},`);
    },
  },
  {
    id: 'token-endpoint.confidential-must-authenticate',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A confidential client that refreshes without its credentials gets invalid_client',
    clause: [cite.spec('RFC 6749', '6', 'MUST authenticate'), cite.spec('RFC 6749', '5.2', 'invalid_client, 400 or 401')],
    applies: confidentialRefresh,
    async run(t) {
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { omitAuth: true });
      expectThat((r.status === 400 || r.status === 401) && r.body?.error === 'invalid_client', 'HTTP 400 or 401 with error=invalid_client for a refresh without client authentication', () => describe(r), r);
    },
  },
  {
    id: 'token-endpoint.wrong-secret-rejected',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A wrong client secret gets invalid_client (401 with a WWW-Authenticate Basic challenge when sent in the Authorization header)',
    clause: [cite.spec('RFC 6749', '5.2', 'invalid_client: 401 and WWW-Authenticate matching the scheme the client used')],
    applies: confidentialRefresh,
    async run(t) {
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { wrongSecret: true });
      expectThat(r.body?.error === 'invalid_client' && (r.status === 400 || r.status === 401), 'error=invalid_client for a wrong secret', () => describe(r), r);
      if (t.client.auth === 'client_secret_basic') {
        const challenge = r.headers.get('www-authenticate');
        expectThat(
          r.status === 401 && challengeSchemes(challenge).includes('basic'),
          'HTTP 401 with a WWW-Authenticate Basic challenge (the client used HTTP Basic in the Authorization header)',
          () => `HTTP ${r.status}, WWW-Authenticate: ${challenge ?? '(absent)'}`,
          r,
        );
      }
    },
  },
  {
    id: 'token-endpoint.scope-may-narrow',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh asking for a narrower scope succeeds, and its scope claims nothing not granted',
    // Failing: a response whose scope claims more than the original grant (§6). A server may ignore the
    // narrowing if its scope says so (§3.3): a warning. No scope member means the requested scope (§3.3).
    clause: [cite.spec('RFC 6749', '6', 'MAY request a narrower scope; MUST NOT include any scope not originally granted'), cite.spec('RFC 6749', '3.3')],
    applies: whenRefresh(),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      const granted = scopeOf(tokens.scope ?? `${t.client.scope ?? 'openid'} ${t.profile.offlineAccessScope}`);
      const narrower = granted.filter((s) => s !== t.profile.offlineAccessScope);
      if (narrower.length === 0) inconclusive(`no granted scope besides offline access to narrow to (scope=${granted.join(' ')})`);
      const r = await t.refresh(rt, { scope: narrower.join(' ') });
      expectSuccess(r, `a refresh asking for the narrower scope "${narrower.join(' ')}"`);
      if (r.scope === undefined) return; // §3.3: no scope member, the requested one was issued
      const got = scopeOf(r.scope);
      const notGranted = got.filter((s) => !granted.includes(s));
      expectThat(notGranted.length === 0, `the refreshed scope within the original grant "${granted.join(' ')}"`, () => `scope=${r.scope} claims ${notGranted.join(' ')}, never granted`, tokens, r);
      const ignored = got.filter((s) => !narrower.includes(s));
      if (ignored.length) warn(`the narrower scope "${narrower.join(' ')}" (RFC 6749 §6; a server may ignore it, §3.3)`, `scope=${r.scope}: not narrowed`, r);
    },
  },
  {
    id: 'token-endpoint.scope-may-not-widen',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh asking for a scope not originally granted gets invalid_scope',
    clause: [cite.spec('RFC 6749', '6'), cite.spec('RFC 6749', '5.2', 'invalid_scope')],
    applies: whenRefresh((_p, i) => {
      const base = scopeOf(i.client.scope ?? 'openid');
      return i.profile.scopes.some((s) => !base.includes(s)) ? true : 'every supported scope is already requested: nothing to widen with';
    }),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      const granted = scopeOf(tokens.scope ?? `${t.client.scope ?? 'openid'} ${t.profile.offlineAccessScope}`);
      const extra = t.profile.scopes.find((s) => !granted.includes(s))!;
      const r = await t.refresh(rt, { scope: [...granted, extra].join(' ') });
      expectOAuthError(r, 'invalid_scope', `a refresh that widens the scope with "${extra}"`);
    },
  },
  {
    id: 'token-endpoint.id-token-on-refresh',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh carries an ID token as the profile declares; one that comes keeps iss, sub, aud and auth_time, has a new iat, and verifies against the JWKS',
    clause: ({ profile }) => [cite.spec('OIDC Core', '12.2'), profileField(profile, 'idTokenOnRefresh')],
    applies: whenRefresh((_p, i) => (scopeOf(i.client.scope ?? 'openid').includes('openid') ? true : 'the client does not request openid')),
    async run(t) {
      const rule = refreshIdTokenRule(t);
      const declared = `profile: idTokenOnRefresh ${t.profile.idTokenOnRefresh}`;
      if (rule === 'absent') {
        const { rt } = await freshRefreshToken(t);
        const r = await t.refresh(rt);
        expectSuccess(r, 'the refresh');
        expectThat(r.body?.id_token === undefined, `no id_token in the refresh response (${declared})`, () => describe(r), r);
        return;
      }
      const { rt, tokens } = await freshRefreshToken(t);
      if (typeof tokens.id_token !== 'string') fail('an id_token from the code exchange (openid requested; OIDC Core §3.1.3.3)', describe(tokens), tokens);
      const before = await t.verifyIdToken(tokens.id_token);
      // The server's next second has surely begun 1 s after the answer came (whatever its clock's offset);
      // refresh then, but only while the refresh token surely lives.
      const L = rp(t).lifetimeSeconds;
      const alive = aliveUntil(tokens, L);
      await waitUntil(t, aimInside(t, tokens.receivedAt + 1, alive, `refresh-token lifetime ${secs(L)}, waiting for a new iat second`), 'a new second, so iat can change');
      const r = await t.refresh(rt);
      if (r.status !== 200) unlessPast(r, alive, 'the refresh');
      expectSuccess(r, 'the refresh');
      if (typeof r.id_token !== 'string') {
        if (rule === 'required') fail(`an id_token in the refresh response (${declared})`, describe(r), r);
        // §12.2: the response "might not contain an id_token": nothing to compare, not a pass.
        inconclusive(`the refresh returned no id_token (${describe(r)}), as OIDC Core §12.2 and the profile (${declared}) allow: nothing to compare`);
      }
      let after;
      try {
        after = await t.verifyIdToken(r.id_token);
      } catch (e) {
        fail('the refreshed id_token to verify against the JWKS', (e as Error).message, r);
      }
      for (const claim of ['iss', 'sub', 'aud', 'auth_time', 'azp'] as const) {
        const same = JSON.stringify(before[claim]) === JSON.stringify(after![claim]);
        expectThat(same, `${claim} unchanged in the refreshed id_token`, () => `${claim} ${JSON.stringify(before[claim])} became ${JSON.stringify(after![claim])}`, tokens, r);
      }
      expectThat(
        typeof after.iat === 'number' && typeof before.iat === 'number' && after.iat > before.iat,
        'a new iat in the refreshed id_token',
        () => `iat ${String(before.iat)} then ${String(after!.iat)}`,
        r,
      );
      expectThat(after.nonce === undefined || after.nonce === before.nonce, 'no nonce, or the original one, in the refreshed id_token', () => `nonce ${String(after!.nonce)}`, r);
    },
  },
  {
    id: 'token-endpoint.id-token-times',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'ID tokens are not expired and not issued in the future when received',
    clause: [cite.spec('OIDC Core', '3.1.3.7', '9: exp in the future; 10: iat not in the future'), cite.spec('OIDC Core', '12.2')],
    applies: (i) => (scopeOf(i.client.scope ?? 'openid').includes('openid') ? interactive(i) : 'the client does not request openid'),
    async run(t) {
      const skew = idTokenSkew(t);
      const { tokens } = await t.login({ offline: t.policy.refresh });
      const received = await targetNow(t);
      if (typeof tokens.id_token !== 'string') inconclusive(`the code exchange returned no id_token (${describe(tokens)}): no times to judge`);
      judgeIdTokenTimes(tokens.id_token, received, skew, 'the code exchange', tokens);
      if (!t.policy.refresh || typeof tokens.refresh_token !== 'string') return;
      const r = await t.refresh(tokens.refresh_token);
      const refreshed = await targetNow(t);
      if (typeof r.id_token === 'string') judgeIdTokenTimes(r.id_token, refreshed, skew, 'the refresh', r);
    },
  },
  {
    id: 'token-endpoint.revocation-kills-refresh-token',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'After RFC 7009 revocation the refresh token is refused',
    clause: [cite.spec('RFC 7009', '2.1'), cite.spec('RFC 7009', '2.2')],
    applies: whenRefresh(),
    async run(t) {
      if (!t.has('revocation')) skip('the target has no revocation endpoint');
      const { rt } = await freshRefreshToken(t);
      const rev = await t.revoke(rt, 'refresh_token');
      expectThat(rev.status === 200, 'HTTP 200 from the revocation endpoint', () => describe(rev), rev);
      t.note({ kind: 'revocation' });
      const r = await t.refresh(rt);
      expectRefused(r, 'the revoked refresh token', rev);
    },
  },
  {
    id: 'token-endpoint.introspection-after-revocation',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Introspection reports a refresh token active, then inactive after revocation',
    clause: ({ profile }) => [cite.spec('RFC 7662', '2.2', 'active'), cite.spec('RFC 7009', '2.1'), profileField(profile, 'introspection')],
    applies: introspectsRefresh(),
    async run(t) {
      if (!t.has('introspection') || !t.has('revocation')) skip('the target lacks a revocation or introspection endpoint');
      const { rt } = await freshRefreshToken(t);
      const before = await t.introspect(rt, 'refresh_token');
      if (!before) skip('the target has no confidential client to introspect with');
      expectThat(before.status === 200 && before.body?.active === true, 'active=true for a live refresh token', () => describe(before), before);
      // exp and client_id are OPTIONAL (RFC 7662 §2.2): their absence warns, after the condition itself held.
      const missing = ['exp', 'client_id'].filter((f) => before.body?.[f] === undefined);
      const rev = await t.revoke(rt, 'refresh_token');
      expectThat(rev.status === 200, 'HTTP 200 from the revocation endpoint', () => describe(rev), rev);
      const after = (await t.introspect(rt, 'refresh_token'))!;
      expectThat(after.status === 200 && after.body?.active === false, 'active=false for a revoked refresh token', () => describe(after), rev, after);
      if (missing.length) warn('exp and client_id in the introspection of a live refresh token (RFC 7662 §2.2: OPTIONAL)', `${missing.join(', ')} missing: ${describe(before)}`, before);
    },
  },
  {
    id: 'token-endpoint.introspection-after-rotation',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Introspection reports a rotated-out refresh token inactive and its successor active',
    clause: ({ profile }) => [cite.spec('RFC 7662', '2.2'), cite.spec('RFC 6749', '6'), profileField(profile, 'introspection')],
    applies: introspectsRefresh((_p, i) => rotatesOnRefresh(i)),
    async run(t) {
      if (!t.has('introspection')) skip('the target has no introspection endpoint');
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt);
      // Whether the refresh rotates is rotation.new-token-each-refresh's business: here a precondition.
      const rt1 = givenRefreshToken(r, 'the refresh');
      if (rt1 === rt) inconclusive('the refresh returned the presented refresh token: nothing rotated out to introspect');
      const old = await t.introspect(rt, 'refresh_token');
      if (!old) skip('the target has no confidential client to introspect with');
      expectThat(old.body?.active === false, 'active=false for the rotated-out refresh token', () => describe(old), r, old);
      const cur = (await t.introspect(rt1, 'refresh_token'))!;
      expectThat(cur.body?.active === true, 'active=true for the new refresh token', () => describe(cur), cur);
    },
  },
  {
    id: 'token-endpoint.revocation-ends-access-tokens',
    group: 'token-endpoint',
    level: 'SHOULD',
    title: 'Revoking a refresh token also ends the access tokens of its grant (introspected inactive)',
    clause: ({ profile }) => [cite.spec('RFC 7009', '2.1', 'SHOULD also invalidate all access tokens based on the same authorization grant'), cite.spec('RFC 7662', '2.2', 'active'), profileField(profile, 'introspection')],
    // Access tokens are introspected whatever the profile's coverage (RFC 7662 §2.1: the ones any server knows).
    applies: whenRefresh(),
    needs: ['introspection', 'revocation'],
    async run(t) {
      if (!t.has('introspection') || !t.has('revocation')) skip('the target lacks a revocation or introspection endpoint');
      const { rt, tokens } = await freshRefreshToken(t);
      if (typeof tokens.access_token !== 'string') inconclusive(`the code exchange returned no access_token (${describe(tokens)}): nothing to introspect`);
      const before = await t.introspect(tokens.access_token, 'access_token');
      if (!before) skip('the target has no confidential client to introspect with');
      // A live access token introspected active is introspection-coverage's condition: here a precondition.
      if (!(before.status === 200 && before.body?.active === true)) inconclusive(`a live access token did not introspect as active (${describe(before)}): nothing to see end`);
      const rev = await t.revoke(rt, 'refresh_token');
      expectThat(rev.status === 200, 'HTTP 200 from the revocation endpoint', () => describe(rev), rev);
      t.note({ kind: 'revocation' });
      const after = (await t.introspect(tokens.access_token, 'access_token'))!;
      if (!(after.status === 200 && after.body?.active === false)) {
        warn('active=false for the access token of a grant whose refresh token was revoked (RFC 7009 §2.1: SHOULD)', describe(after), rev, after);
      }
      asserted('the access token of the revoked grant is inactive');
    },
  },
  {
    id: 'token-endpoint.introspection-coverage',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Introspection reports a live access token active, and a live refresh token active where the profile declares refresh tokens covered (inactive where not)',
    clause: ({ profile }) => [cite.spec('RFC 7662', '2.1', 'the server may support some token types only'), cite.spec('RFC 7662', '2.2', 'active'), profileField(profile, 'introspection')],
    applies: whenRefresh(),
    needs: ['introspection'],
    async run(t) {
      if (!t.has('introspection')) skip('the target has no introspection endpoint');
      const { rt, tokens } = await freshRefreshToken(t);
      if (typeof tokens.access_token !== 'string') inconclusive(`the code exchange returned no access_token (${describe(tokens)}): nothing to introspect`);
      const declared = `profile: introspection ${t.profile.introspection}`;
      const access = await t.introspect(tokens.access_token, 'access_token');
      if (!access) skip('the target has no confidential client to introspect with');
      const accessActive = introspects(t.profile, 'access_token');
      expectThat(access.status === 200 && access.body?.active === accessActive, `active=${accessActive} for a live access token (${declared})`, () => describe(access), access);
      const refresh = (await t.introspect(rt, 'refresh_token'))!;
      const refreshActive = introspects(t.profile, 'refresh_token');
      // RFC 7662 §2.2: a token the server cannot introspect is answered active=false, never an error.
      expectThat(
        refresh.status === 200 && refresh.body?.active === refreshActive,
        `active=${refreshActive} for a live refresh token (${declared}${refreshActive ? '' : ': the server does not introspect refresh tokens'})`,
        () => describe(refresh),
        refresh,
      );
    },
  },
  {
    id: 'token-endpoint.refresh-expires-in',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Token responses carry refresh_expires_in, an integer: the refresh token\'s remaining lifetime as the profile declares it',
    clause: (i) => [profileField(i.profile, 'refreshExpiresIn'), policyField(i, 'lifetimeSeconds'), policyField(i, 'expiry'), cite.spec('RFC 6749', '5.1', 'additional parameters')],
    applies: whenRefresh((p, i) => {
      if (!i.profile.refreshExpiresIn) return 'the profile declares no refresh_expires_in (refreshExpiresIn false)';
      const at = expiresInRefreshAt(p.lifetimeSeconds);
      return refreshAcceptedAt(i, at);
    }),
    waits: (i) => expiresInRefreshAt(rp(i).lifetimeSeconds),
    async run(t) {
      const L = rp(t).lifetimeSeconds;
      const { rt, tokens } = await freshRefreshToken(t);
      const at = expiresInRefreshAt(L);
      judgeRefreshExpiresIn(t, tokens, [0, 0], (w) => refreshExpiresInAt(t, w).login, 'the code exchange');
      await waitUntil(t, tokens.receivedAt + at, `${secs(at)} into the refresh token's life`);
      const r = await t.refresh(rt);
      if (r.status !== 200) unlessPast(r, aliveUntil(tokens, L), 'the refresh');
      expectSuccess(r, `the refresh ${secs(at)} after login`);
      // The server refreshed between the request leaving and the answer coming, measured from the login's.
      judgeRefreshExpiresIn(t, r, [r.sentAt - tokens.receivedAt, r.receivedAt - tokens.sentAt], (w) => refreshExpiresInAt(t, w).refresh, `the refresh ${secs(at)} after login`);
    },
  },
];
