/**
 * The time-based checks on a real clock: their probes must fall inside the windows they test, from
 * measured times, however the clock's jitter and a busy machine's late timers go. A fake real clock
 * (no sleeping) presents the check with a real clock's kind and jitter, starts it 0.9 s into a second
 * and makes every wait overrun; its time drives the embedded mock's whole-second clock, so tokens
 * expire as on a server comparing `exp <= floor(now)`.
 */
import { describe, expect, test } from 'vitest';
import { CHECKS } from '../checks/index.ts';
import { CheckInconclusive } from '../checks/expect.ts';
import type { CheckContext } from '../checks/types.ts';
import { loadProfile, type Profile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { withLifetimesOf } from '../../interop/wall-clock-mock/profile.ts';
import { connectEmbedded, embeddedClients } from './connection.ts';
import { createCheckRun } from './context.ts';
import { createHttp } from '../harness/http.ts';

interface FakeRealClock {
  /** Seconds every wait overruns by (a late timer on a busy machine). */
  late?: number;
  jitter?: number;
}

async function runOnFakeRealClock(profile: Profile, checkId: string, clientId: string, fake: FakeRealClock = {}) {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, profile, embedded: { transport: 'direct' } } as Target;
  const conn = await connectEmbedded(target as Extract<Target, { kind: 'embedded' }>);
  try {
    const clients = embeddedClients(target as Extract<Target, { kind: 'embedded' }>);
    const client = clients.find((c) => c.id === clientId)!;
    const run = createCheckRun({
      target: { ...target, clock: { driver: 'mock' } },
      connection: conn,
      http: createHttp({ requestTimeoutMs: 5000, ...(conn.fetch && { fetch: conn.fetch }) }),
      client,
      otherClients: clients.filter((c) => c !== client),
    });
    // The context's mock clock adds fractional waits up and moves the mock by the seconds they cross.
    const mock = run.context.clock;
    await mock.wait(0.9, 'start late in a second');
    const late = fake.late ?? 0.3;
    const ctx: CheckContext = {
      ...run.context,
      clock: { kind: 'real', now: mock.now, jitter: () => fake.jitter ?? 0.5, wait: (seconds, why) => mock.wait(seconds + late, why) },
    };
    await CHECKS.find((c) => c.id === checkId)!.run(ctx);
  } finally {
    await conn.close();
  }
}

describe('time-based checks keep their probes inside the tested window on a real clock', () => {
  test('sliding chain, Mobile (90 d lifetime, 8 h SSO session: refreshed inside the session, probed after 90 d)', async () => {
    await expect(runOnFakeRealClock(await loadProfile('telenorid-plus'), 'expiry.sliding-chain-outlives-lifetime', 'mobile')).resolves.toBeUndefined();
  });

  test('sliding chain, PublicWeb (10 min)', async () => {
    await expect(runOnFakeRealClock(await loadProfile('telenorid-plus'), 'expiry.sliding-chain-outlives-lifetime', 'public-web')).resolves.toBeUndefined();
  });

  test('fixed, Confidential (14 d)', async () => {
    await expect(runOnFakeRealClock(await loadProfile('telenorid-plus'), 'expiry.fixed-not-extended', 'confidential')).resolves.toBeUndefined();
  });

  test('idle gap, erp-net Interactive (30 d)', async () => {
    await expect(runOnFakeRealClock(await loadProfile('erp-net'), 'expiry.idle-gap-kills-token', 'interactive')).resolves.toBeUndefined();
  });
});

describe('lifetimes of a few seconds on a real clock: measured windows, inconclusive when too narrow', () => {
  const short = async (seconds: number) => withLifetimesOf(await loadProfile('telenorid-plus'), seconds);

  test('sliding chain at 3 s: the window between the first and the renewed expiry is too narrow, so inconclusive with the numbers', async () => {
    const run = runOnFakeRealClock(await short(3), 'expiry.sliding-chain-outlives-lifetime', 'public-web');
    await expect(run).rejects.toThrow(CheckInconclusive);
    await expect(run).rejects.toThrow(/^lifetime 3 s, window \d+(\.\d)? s, margin 0\.5 s: too narrow/);
  });

  test('sliding chain and fixed expiry at 6 s: refreshed as late as safe, probed inside the window', async () => {
    await expect(runOnFakeRealClock(await short(6), 'expiry.sliding-chain-outlives-lifetime', 'public-web')).resolves.toBeUndefined();
    await expect(runOnFakeRealClock(await short(6), 'expiry.fixed-not-extended', 'confidential')).resolves.toBeUndefined();
  });

  test('lives-declared-lifetime and idle gap at 3 s pass', async () => {
    await expect(runOnFakeRealClock(await short(3), 'expiry.lives-declared-lifetime', 'public-web')).resolves.toBeUndefined();
    await expect(runOnFakeRealClock(await short(3), 'expiry.idle-gap-kills-token', 'public-web')).resolves.toBeUndefined();
  });

  test('id_token iat at 3 s: waits for the next second only, so the refresh token is still alive', async () => {
    await expect(runOnFakeRealClock(await short(3), 'token-endpoint.id-token-on-refresh', 'public-web')).resolves.toBeUndefined();
  });

  test('id_token iat at 3 s with a large jitter: inconclusive before the wait, not a dead token', async () => {
    const run = runOnFakeRealClock(await short(3), 'token-endpoint.id-token-on-refresh', 'public-web', { jitter: 1.2 });
    await expect(run).rejects.toThrow(/^refresh-token lifetime 3 s, waiting for a new iat second, window .* margin 1\.2 s/);
  });

  test('new token while the SSO session is active, at 4 s, when a wait overruns by 1.5 s: inconclusive, not failed', async () => {
    const run = runOnFakeRealClock(await short(4), 'sso.new-token-while-session-active', 'public-web', { late: 1.5 });
    await expect(run).rejects.toThrow(CheckInconclusive);
    await expect(run).rejects.toThrow(/was answered at .* after .* when what it relies on was last surely alive/);
  });

  test('SSO session expiry at 6 s (session 12 s, Mobile 18 s): probed after the session, while the token lives', async () => {
    await expect(runOnFakeRealClock(await short(6), 'sso.refresh-after-session-expiry', 'mobile')).resolves.toBeUndefined();
  });
});
