/**
 * How the DPoP checks judge scripted answers (the branches the mock's variants do not reach): the
 * context is a stub whose token endpoint answers from a script, so each verdict follows from the
 * answers alone (as in judging.test.ts).
 */
import { describe as group, expect, test } from 'vitest';
import { CheckFailure, CheckInconclusive, collectAssertions } from '../checks/expect.ts';
import { CHECKS, type CheckContext, type Tokens } from '../checks/index.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';

const profile = (await loadVariants()).find((p) => p.name === 'erp-net-dpop')!;

let n = 0;
function answer(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}, proof?: string): Tokens {
  const a: Tokens = {
    status,
    headers: new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers }),
    body,
    exchange: { method: 'POST', url: 'https://idp.test/token', requestHeaders: [], startedAt: '', durationMs: 0 },
    sentAt: 0,
    receivedAt: 0,
    tokenType: 'DPoP',
    ...(proof !== undefined && { dpopProof: proof }),
  };
  if (typeof body.access_token === 'string') a.access_token = body.access_token;
  if (typeof body.refresh_token === 'string') a.refresh_token = body.refresh_token;
  return a;
}
const ok = (refreshToken: string | undefined, proof = `proof-${++n}`) =>
  answer(200, { access_token: `at-${++n}`, token_type: 'DPoP', expires_in: 300, ...(refreshToken && { refresh_token: refreshToken }) }, {}, proof);
const refusedWith = (error: string, headers: Record<string, string> = {}) => answer(400, { error }, headers);

type Refresh = (rt: string, call: number, options: Parameters<CheckContext['refresh']>[1]) => Tokens;

function context(policy: string, refresh: Refresh, dpop = true): CheckContext {
  let calls = 0;
  return {
    profile,
    policy: profile.policies[policy]!,
    client: { id: 'c', auth: 'none', redirectUri: 'https://rp.test/cb', policy },
    otherClients: [],
    clock: { kind: 'mock', wait: async () => undefined, now: () => 0, jitter: () => 0 },
    login: async () => ({ tokens: ok('rt-0'), startedAt: 0, handle: undefined }),
    refresh: async (rt, o) => refresh(rt, ++calls, o),
    clientCredentials: async () => ok(undefined),
    has: () => true,
    revoke: async () => answer(200, {}),
    introspect: async () => undefined,
    logout: async () => undefined,
    verifyIdToken: async () => ({}),
    metadata: () => ({}),
    note: () => undefined,
    refreshConcurrently: async () => [],
    ...(dpop && { dpopKey: async () => ({ jkt: 'jkt', alg: 'ES256' }) }),
  };
}

async function verdict(id: string, ctx: CheckContext): Promise<{ verdict: string; message: string }> {
  const check = CHECKS.find((c) => c.id === id)!;
  const asserted: string[] = [];
  try {
    await collectAssertions(() => check.run(ctx), asserted);
    return { verdict: asserted.length ? 'passed' : 'asserted nothing', message: '' };
  } catch (e) {
    return { verdict: e instanceof CheckFailure ? 'failed' : e instanceof CheckInconclusive ? 'inconclusive' : `threw ${String(e)}`, message: (e as Error).message };
  }
}

group('rotation.public-refresh-protected (RFC 9700 §4.14.2) judges what the IdP does', () => {
  test('not rotated, refused without a proof and with the client key too: nothing about a binding is observed (inconclusive)', async () => {
    const r = await verdict('rotation.public-refresh-protected', context('InteractivePublic', (_rt, call) => (call === 1 ? ok(undefined) : refusedWith('invalid_grant'))));
    expect(r.verdict).toBe('inconclusive');
    expect(r.message).toMatch(/not rotated.*no binding could be observed/s);
  });

  test('not rotated and no DPoP proof sent: fails, saying neither half holds', async () => {
    const r = await verdict('rotation.public-refresh-protected', context('InteractivePublic', () => ok(undefined), false));
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/seen: not rotated .*no DPoP proof was sent/s);
  });

  test('not rotated, refused without a proof, accepted with it: bound, passes', async () => {
    const r = await verdict('rotation.public-refresh-protected', context('InteractivePublic', (_rt, _call, o) => (o?.dpop?.proof === 'none' ? refusedWith('invalid_grant') : ok(undefined))));
    expect(r.verdict).toBe('passed');
  });
});

group('the sender-constraint checks', () => {
  test('nonce-required: use_dpop_nonce without a DPoP-Nonce header fails, naming the header', async () => {
    const r = await verdict('sender-constraint.nonce-required', context('InteractivePublic', (_rt, _call, o) => (o?.dpop?.proof === 'no-nonce' ? refusedWith('use_dpop_nonce') : ok(undefined))));
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/expected a DPoP-Nonce header.*seen: no DPoP-Nonce header/s);
  });

  test('nonce-required: a proof without a nonce accepted fails', async () => {
    const r = await verdict('sender-constraint.nonce-required', context('InteractivePublic', () => ok(undefined)));
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/use_dpop_nonce/);
  });

  test('proof-replay-refused: a first refresh without a proof to replay is inconclusive; one that fails is too', async () => {
    const noProof = await verdict('sender-constraint.proof-replay-refused', context('InteractivePublic', () => answer(200, { access_token: 'a', token_type: 'DPoP' })));
    expect(noProof).toMatchObject({ verdict: 'inconclusive', message: expect.stringMatching(/no DPoP proof to replay/) });
    const failing = await verdict('sender-constraint.proof-replay-refused', context('InteractivePublic', () => refusedWith('invalid_grant')));
    expect(failing).toMatchObject({ verdict: 'inconclusive', message: expect.stringMatching(/did not succeed/) });
  });

  test('same-key-accepted: a rotated token that works with another key fails, naming the rotation', async () => {
    const r = await verdict('sender-constraint.same-key-accepted', context('InteractivePublicRequired', (rt) => ok(`${rt}+`)));
    expect(r.verdict).toBe('failed');
    expect(r.message).toMatch(/rotated \(new\) refresh token presented with another key's proof/);
  });
});
