/**
 * The expiry checks on a real clock: their probes must fall inside the windows they test however
 * the margins scale. A fake real clock records the waits (no sleeping) against the embedded mock,
 * whose own clock is moved by the same amounts, so the timing is exactly what a real run would do.
 */
import { describe, expect, test } from 'vitest';
import { CHECKS } from '../checks/index.ts';
import type { CheckContext } from '../checks/types.ts';
import { loadProfile, type Profile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { connectEmbedded } from './connection.ts';
import { createCheckRun } from './context.ts';
import { createHttp } from '../harness/http.ts';

async function runWithRealClockTiming(profile: Profile, checkId: string, clientId: string) {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, profile, embedded: { transport: 'direct' } } as Target;
  const conn = await connectEmbedded(target as Extract<Target, { kind: 'embedded' }>);
  const client = conn.clients.find((c) => c.id === clientId)!;
  const run = createCheckRun({
    target: { ...target, clock: { driver: 'mock' } },
    connection: conn,
    http: createHttp({ requestTimeoutMs: 5000, ...(conn.fetch && { fetch: conn.fetch }) }),
    client,
    otherClients: conn.clients.filter((c) => c !== client),
  });
  // Present the check with a real clock (its margins are the real ones) that moves the mock's clock.
  const ctx: CheckContext = { ...run.context, clock: { kind: 'real', wait: run.context.clock.wait } };
  await CHECKS.find((c) => c.id === checkId)!.run(ctx);
  await conn.close();
}

describe('expiry checks keep their probes inside the tested window on a real clock', () => {
  test('sliding chain, Mobile (90 d lifetime, 8 h SSO session: refresh at 4 h, probe before 90 d + 4 h)', async () => {
    await expect(runWithRealClockTiming(await loadProfile('telenorid-plus'), 'expiry.sliding-chain-outlives-lifetime', 'mobile')).resolves.toBeUndefined();
  });

  test('sliding chain, PublicWeb (10 min)', async () => {
    await expect(runWithRealClockTiming(await loadProfile('telenorid-plus'), 'expiry.sliding-chain-outlives-lifetime', 'public-web')).resolves.toBeUndefined();
  });

  test('fixed, Confidential (14 d)', async () => {
    await expect(runWithRealClockTiming(await loadProfile('telenorid-plus'), 'expiry.fixed-not-extended', 'confidential')).resolves.toBeUndefined();
  });

  test('idle gap, erp-net Interactive (30 d)', async () => {
    await expect(runWithRealClockTiming(await loadProfile('erp-net'), 'expiry.idle-gap-kills-token', 'interactive')).resolves.toBeUndefined();
  });
});


