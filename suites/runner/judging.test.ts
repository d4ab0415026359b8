/**
 * How checks judge (issue 10): each bug gets a check run against a scripted IdP answer, and the
 * verdict it must give. The context is a stub: its token endpoint answers from a script, its clock
 * only counts, so each verdict follows from the answers alone.
 */
import { UnsecuredJWT } from 'jose';
import { describe as group, expect, test } from 'vitest';
import { CheckFailure, CheckInconclusive, CheckWarning, collectAssertions, describe, expectSuccess } from '../checks/expect.ts';
import { CHECKS, type Answer, type CheckClient, type CheckContext, type Tokens } from '../checks/index.ts';
import { challengeSchemes } from '../checks/token-endpoint.ts';
import { loadProfile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { prepareRun, runCatalogue } from './pipeline.ts';

const profile = await loadProfile('telenorid-plus');

/** A token-endpoint answer: JSON body members copied onto Tokens as the context does. */
function answer(status: number, body: Record<string, unknown> | undefined, headers: Record<string, string> = {}): Tokens {
  const a: Tokens = {
    status,
    headers: new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers }),
    body,
    exchange: { method: 'POST', url: 'https://idp.test/token', requestHeaders: [], startedAt: '', durationMs: 0 },
    sentAt: 0,
    receivedAt: 0,
  };
  for (const k of ['access_token', 'refresh_token', 'id_token', 'scope'] as const) if (typeof body?.[k] === 'string') a[k] = body[k] as string;
  if (typeof body?.expires_in === 'number') a.expires_in = body.expires_in;
  return a;
}

let n = 0;
const ok = (extra: Record<string, unknown> = {}) =>
  answer(200, { access_token: `at-${++n}`, token_type: 'Bearer', expires_in: 300, refresh_token: `rt-${n}-0123456789abcdefghijkl`, ...extra });
const refused = (error: string) => answer(400, { error });

const idToken = (claims: Record<string, unknown>) => new UnsecuredJWT({ iss: 'https://idp.test', sub: 'alice', aud: 'c', ...claims }).encode();

interface Script {
  policy?: string;
  /** Default: telenorid-plus as loaded. */
  profile?: typeof profile;
  client?: Partial<CheckClient>;
  login?: () => Tokens;
  refresh?: (rt: string, call: number, options: Parameters<CheckContext['refresh']>[1]) => Tokens;
  metadata?: Record<string, unknown>;
  now?: number;
  has?: string[];
  revoke?: () => Answer;
  introspect?: (call: number) => Answer;
}

function context(s: Script): CheckContext {
  const policyName = s.policy ?? 'Confidential';
  let calls = 0;
  let introspections = 0;
  let elapsed = 0;
  const stamp = (t: Tokens): Tokens => ({ ...t, sentAt: elapsed, receivedAt: elapsed });
  const client: CheckClient = { id: 'c', auth: 'client_secret_basic', redirectUri: 'https://rp.test/cb', policy: policyName, scope: 'openid profile', ...s.client };
  const p = s.profile ?? profile;
  return {
    profile: p,
    policy: p.policies[policyName]!,
    client,
    otherClients: [],
    clock: { kind: 'mock', wait: async (seconds) => void (elapsed += seconds), now: () => elapsed, jitter: () => 0, targetTime: async () => (s.now ?? 1_000_000) + Math.floor(elapsed) },
    // Answers arrive at once on this clock: sent and received now.
    login: async () => ({ tokens: stamp((s.login ?? (() => ok()))()), startedAt: elapsed, handle: undefined }),
    refresh: async (rt, o) => stamp((s.refresh ?? (() => ok()))(rt, ++calls, o)),
    clientCredentials: async () => ok(),
    has: (e) => (s.has ?? []).includes(e),
    revoke: async () => (s.revoke ?? (() => answer(200, undefined)))(),
    introspect: async () => (s.introspect ? s.introspect(++introspections) : undefined),
    logout: async () => undefined,
    verifyIdToken: async (t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()),
    metadata: () => s.metadata ?? {},
    note: () => undefined,
    refreshConcurrently: async () => [],
  };
}

const check = (id: string) => {
  const c = CHECKS.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
};

/** Runs a check: its verdict (the error class it threw, or passed) and what it asserted. */
async function verdict(id: string, s: Script): Promise<{ verdict: string; message: string; asserted: string[] }> {
  const asserted: string[] = [];
  try {
    await collectAssertions(() => check(id).run(context(s)), asserted);
    return { verdict: asserted.length ? 'passed' : 'asserted nothing', message: '', asserted };
  } catch (e) {
    const name = e instanceof CheckFailure ? 'failed' : e instanceof CheckWarning ? 'warning' : e instanceof CheckInconclusive ? 'inconclusive' : `threw ${String(e)}`;
    return { verdict: name, message: (e as Error).message, asserted };
  }
}

group('token responses are parsed strictly where a check expects success', () => {
  test('a 200 without token_type fails, naming the member', () => {
    expect(() => expectSuccess(answer(200, { access_token: 'a', expires_in: 300 }), 'the refresh')).toThrow(/seen: HTTP 200 but token_type missing/);
  });

  test('expires_in "300" (a string) fails', () => {
    expect(() => expectSuccess(answer(200, { access_token: 'a', token_type: 'Bearer', expires_in: '300' }), 'the refresh')).toThrow(
      /expires_in is "300" \(a string\), must be a number/,
    );
  });

  test('token_type is compared case-insensitively', () => {
    expect(() => expectSuccess(answer(200, { access_token: 'a', token_type: 'bearer' }), 'the refresh')).not.toThrow();
  });

  test('a check judging a refresh fails on the malformed success', async () => {
    const r = await verdict('rotation.not-rotated-when-declared-off', { refresh: () => answer(200, { access_token: 'a', expires_in: 300 }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/token_type missing/);
  });
});

group('seen: lines show the values that differed', () => {
  test('introspection active=false, token members only as present', () => {
    expect(describe(answer(200, { active: false }))).toBe('HTTP 200 active=false');
    expect(describe(answer(200, { access_token: 'secret-at', expires_in: '300', scope: 'openid' }))).toBe('HTTP 200 access_token=<present>, expires_in="300", scope="openid"');
  });
});

group('metadata-advertises-refresh', () => {
  const id = 'token-endpoint.metadata-advertises-refresh';
  test('scopes_supported without offline_access is no failure (RECOMMENDED; servers need not list every scope)', async () => {
    const r = await verdict(id, { metadata: { scopes_supported: ['openid'], grant_types_supported: ['authorization_code', 'refresh_token'] } });
    expect(r.verdict).toBe('passed');
  });

  test('grant_types_supported absent: its default excludes refresh_token, a warning', async () => {
    const r = await verdict(id, { metadata: {} });
    expect(r.verdict).toBe('warning');
    expect(r.message).toMatch(/default \["authorization_code", "implicit"\]/);
  });

  test('grant_types_supported without refresh_token: a warning', async () => {
    expect((await verdict(id, { metadata: { grant_types_supported: ['authorization_code'] } })).verdict).toBe('warning');
  });
});

group('lifetime, rotation and SSO checks judge refusal; the error code is the error checks\' business', () => {
  test('expiry.fixed-not-extended: a token dead at its fixed expiry with the wrong error code passes', async () => {
    const r = await verdict('expiry.fixed-not-extended', { refresh: (_rt, call) => (call === 1 ? ok() : refused('invalid_request')) });
    expect(r.verdict).toBe('passed');
  });

  test('expiry.fixed-not-extended: a token that still works fails', async () => {
    expect((await verdict('expiry.fixed-not-extended', { refresh: () => ok() })).verdict).toBe('failed');
  });

  test('rotation.old-token-rejected: a rotated-out token refused with the wrong code passes', async () => {
    const r = await verdict('rotation.old-token-rejected', { policy: 'Mobile', refresh: (_rt, call) => (call === 1 ? ok() : refused('invalid_request')) });
    expect(r.verdict).toBe('passed');
  });

  test('refused-token-error: the wrong code for a rotated-out token fails there', async () => {
    const r = await verdict('token-endpoint.refused-token-error', { policy: 'Mobile', refresh: (_rt, call) => (call === 1 ? ok() : refused('invalid_request')) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/error=invalid_grant[\s\S]*seen: HTTP 400 error=invalid_request/);
  });

  test('refused-token-error: a revoked token (no rotation) with invalid_grant passes', async () => {
    const r = await verdict('token-endpoint.refused-token-error', { has: ['revocation'], refresh: () => refused('invalid_grant') });
    expect(r.verdict).toBe('passed');
  });
});

group('id_tokens', () => {
  test('id-token-on-refresh: no id_token from the refresh fails where the profile declares one always (idTokenOnRefresh default)', async () => {
    const r = await verdict('token-endpoint.id-token-on-refresh', {
      login: () => ok({ id_token: idToken({ iat: 1000, exp: 2000 }) }),
      refresh: () => ok(),
    });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/expected an id_token in the refresh response \(profile: idTokenOnRefresh always\)/);
  });

  test('id-token-on-refresh: none from the refresh is inconclusive where the profile makes it optional (OIDC Core §12.2 allows omitting it)', async () => {
    const r = await verdict('token-endpoint.id-token-on-refresh', {
      profile: { ...profile, idTokenOnRefresh: 'optional' },
      login: () => ok({ id_token: idToken({ iat: 1000, exp: 2000 }) }),
      refresh: () => ok(),
    });
    expect(r.verdict).toBe('inconclusive');
  });

  test('id-token-on-refresh: one from the refresh fails where the profile declares none (never)', async () => {
    const never = { ...profile, idTokenOnRefresh: 'never' as const };
    const r = await verdict('token-endpoint.id-token-on-refresh', { profile: never, refresh: () => ok({ id_token: idToken({ iat: 1000, exp: 2000 }) }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/expected no id_token in the refresh response \(profile: idTokenOnRefresh never\)/);
    expect((await verdict('token-endpoint.id-token-on-refresh', { profile: never })).verdict).toBe('passed');
  });

  test('refresh-expires-in: fixed expiry counts down (Confidential, 14 d): the full lifetime again on a refresh 5 s in fails; absent or a string fails', async () => {
    const declared = { ...profile, refreshExpiresIn: true };
    const L = 1_209_600;
    const good = await verdict('token-endpoint.refresh-expires-in', { profile: declared, login: () => ok({ refresh_expires_in: L }), refresh: () => ok({ refresh_expires_in: L - 5 }) });
    expect(good.verdict).toBe('passed');
    const full = await verdict('token-endpoint.refresh-expires-in', { profile: declared, login: () => ok({ refresh_expires_in: L }), refresh: () => ok({ refresh_expires_in: L }) });
    expect(full.verdict).toBe('failed');
    expect(full.message).toMatch(/expected the refresh 5 s after login: refresh_expires_in 1209595 \(the refresh token's remaining lifetime\)\nseen: refresh_expires_in=1209600/);
    expect((await verdict('token-endpoint.refresh-expires-in', { profile: declared })).message).toMatch(/the code exchange: refresh_expires_in, an integer/);
    expect((await verdict('token-endpoint.refresh-expires-in', { profile: declared, login: () => ok({ refresh_expires_in: String(L) }) })).verdict).toBe('failed');
  });

  test('id-token-times: an id_token already expired when received fails', async () => {
    const r = await verdict('token-endpoint.id-token-times', { now: 10_000, login: () => ok({ id_token: idToken({ iat: 10_000, exp: 9_940 }) }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/exp in the future[\s\S]*seen: exp=9940, 60 s before receipt/);
  });

  test('id-token-times: an id_token issued in the future fails', async () => {
    const r = await verdict('token-endpoint.id-token-times', { now: 10_000, login: () => ok({ id_token: idToken({ iat: 10_100, exp: 10_400 }) }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/iat not in the future/);
  });

  test('id-token-times: valid times on the code exchange and the refresh pass', async () => {
    const r = await verdict('token-endpoint.id-token-times', {
      now: 10_000,
      login: () => ok({ id_token: idToken({ iat: 10_000, exp: 10_300 }) }),
      refresh: () => ok({ id_token: idToken({ iat: 10_000, exp: 10_300 }) }),
    });
    expect(r.verdict).toBe('passed');
    expect(r.asserted).toHaveLength(4);
  });
});

group('wrong-secret-rejected', () => {
  const bearer = () => answer(401, { error: 'invalid_client' }, { 'www-authenticate': 'Bearer realm="idp"' });
  test('a Bearer challenge after HTTP Basic fails (RFC 6749 §5.2: the scheme the client used)', async () => {
    const r = await verdict('token-endpoint.wrong-secret-rejected', { refresh: (_rt, call) => (call === 1 ? bearer() : bearer()) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/WWW-Authenticate: Bearer/);
  });

  test('a Basic challenge passes', async () => {
    const r = await verdict('token-endpoint.wrong-secret-rejected', {
      refresh: () => answer(401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="idp", error="invalid_client"' }),
    });
    expect(r.verdict).toBe('passed');
  });

  test('challenge schemes are read per challenge, not from auth-params', () => {
    expect(challengeSchemes('Basic realm="x", error="invalid_client"')).toEqual(['basic']);
    expect(challengeSchemes('Bearer realm="x", Basic realm="y"')).toEqual(['bearer', 'basic']);
    expect(challengeSchemes('Bearer')).toEqual(['bearer']);
    expect(challengeSchemes(null)).toEqual([]);
  });
});

group('Cache-Control and Pragma are separate checks', () => {
  test('a missing Pragma warns in no-cache-pragma and leaves no-store passing', async () => {
    const s: Script = { login: () => answer(200, ok().body, { pragma: '' }), refresh: () => answer(200, ok().body, { pragma: '' }) };
    expect((await verdict('token-endpoint.no-store', s)).verdict).toBe('passed');
    expect((await verdict('token-endpoint.no-cache-pragma', s)).verdict).toBe('warning');
  });

  test('a missing Cache-Control: no-store fails no-store, whatever Pragma says', async () => {
    const s: Script = { login: () => answer(200, ok().body, { 'cache-control': 'private' }), refresh: () => ok() };
    const r = await verdict('token-endpoint.no-store', s);
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/seen: Cache-Control: private/);
    expect((await verdict('token-endpoint.no-cache-pragma', s)).verdict).toBe('passed');
  });
});

group('scope-may-narrow (RFC 6749 §6, §3.3)', () => {
  const id = 'token-endpoint.scope-may-narrow';
  const login = () => ok({ scope: 'openid profile offline_access' });
  test('a response claiming a scope never granted fails', async () => {
    const r = await verdict(id, { login, refresh: (_rt, _c, o) => ok({ scope: `${o?.scope} admin` }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/claims admin, never granted/);
  });

  test('a server that ignores the narrowing (and says so) gets a warning', async () => {
    expect((await verdict(id, { login, refresh: () => ok({ scope: 'openid profile offline_access' }) })).verdict).toBe('warning');
  });

  test('the narrowed scope, or no scope member, passes', async () => {
    expect((await verdict(id, { login, refresh: (_rt, _c, o) => ok({ scope: o?.scope }) })).verdict).toBe('passed');
    expect((await verdict(id, { login, refresh: () => ok() })).verdict).toBe('passed');
  });
});

group('no vacuous pass', () => {
  test('a check that returns having asserted nothing is inconclusive', async () => {
    const base = await loadTarget('fixtures/targets/mock.json');
    const target = { ...base, embedded: { transport: 'direct' } } as Target;
    const run = await prepareRun(target, { only: ['token-endpoint.error-shape'] });
    const instance = run.plan.find((i) => i.skip === undefined);
    const silent = { ...instance!, check: { ...instance!.check, run: async () => undefined } };
    const r = await run.runOne(silent);
    expect(r.status).toBe('inconclusive');
    expect(r.message).toBe('the check asserted nothing');
    expect((await run.runOne(instance!)).status).toBe('passed');
    await run.close();
  });
});

group('rotation.reuse-rejected-family-kept can fail (no profile declares reject: a declaration variant)', () => {
  async function run(served: 'reject' | 'revoke-family') {
    const real = await loadProfile('telenorid-plus');
    const declared = { ...structuredClone(real), reuseOfRotatedToken: 'reject' as const };
    const base = await loadTarget('fixtures/targets/mock.json');
    const target = { ...base, profile: declared, embedded: { transport: 'direct' } } as Target;
    const servedProfile = { ...structuredClone(real), reuseOfRotatedToken: served };
    const { results } = await runCatalogue(target, { servedProfile, only: ['rotation.reuse-rejected-family-kept'], concurrency: 4 });
    return results.filter((r) => r.status !== 'skipped');
  }

  test('a server that revokes the family on reuse fails it; one that only rejects passes it', async () => {
    const revoking = await run('revoke-family');
    expect(revoking.length).toBeGreaterThan(0);
    for (const r of revoking) {
      expect(r.status).toBe('failed');
      expect(r.message).toMatch(/the newest refresh token to keep working after the reuse/);
    }
    const rejecting = await run('reject');
    expect(rejecting.map((r) => r.status)).toEqual(rejecting.map(() => 'passed'));
  });
});

group('introspection-after-revocation: exp and client_id are OPTIONAL (RFC 7662 §2.2)', () => {
  const id = 'token-endpoint.introspection-after-revocation';
  const base: Script = { has: ['introspection', 'revocation'] };
  test('their absence warns once active and inactive held', async () => {
    const r = await verdict(id, { ...base, introspect: (call) => answer(200, { active: call === 1 }) });
    expect(r.verdict).toBe('warning');
    expect(r.message).toMatch(/seen: exp, client_id missing: HTTP 200 active=true/);
  });

  test('a revoked token introspected active fails, showing active=true', async () => {
    const r = await verdict(id, { ...base, introspect: () => answer(200, { active: true, exp: 1, client_id: 'c' }) });
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/seen: HTTP 200 active=true, exp=1, client_id="c"/);
  });
});

group('id_token times are judged against the mock\'s clock for a mock target', () => {
  test('ten years ahead on the mock clock, a fresh id_token is neither expired nor from the future', async () => {
    const base = await loadTarget('fixtures/targets/mock.json');
    const target = { ...base, embedded: { transport: 'direct' } } as Target;
    const run = await prepareRun(target, { only: ['token-endpoint.id-token-times'] });
    const instance = run.plan.find((i) => i.skip === undefined)!;
    const times = instance.check;
    const ahead = {
      ...instance,
      check: { ...times, run: async (t: CheckContext) => (await t.clock.wait(10 * 365 * 86400, 'ten years'), times.run(t)) },
    };
    const r = await run.runOne(ahead);
    await run.close();
    // Against the harness's clock its iat would be ten years in the future.
    expect(r.status, r.message ?? '').toBe('passed');
  });
});
