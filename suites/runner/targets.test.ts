/** The shipped target files load and validate (the QA template with its env vars set). */
import { describe, expect, test } from 'vitest';
import { loadTarget } from '../harness/target.ts';
import { planChecks } from './plan.ts';

describe('fixtures/targets', () => {
  test('mock.json is the embedded mock with mock drivers', async () => {
    const t = await loadTarget('fixtures/targets/mock.json');
    expect(t.kind).toBe('embedded');
    expect([t.login.driver, t.logout.driver, t.clock.driver]).toEqual(['mock', 'mock', 'mock']);
  });

  test('example-staging.json validates once its secrets are in the environment', async () => {
    const env = { CONF_SECRET: 's3cret-value', QA_USER: 'qa@example.com', QA_PASSWORD: 'pw-value' };
    const t = await loadTarget('fixtures/targets/example-staging.json', env);
    if (t.kind !== 'remote') throw new Error('expected a remote target');
    expect(t.clients.map((c) => c.policy)).toEqual(['Confidential', 'Mobile', 'PublicWeb']);
    expect(t.clients[0]!.secret).toBe('s3cret-value');
    // With a 120 s real clock, the 14- and 90-day checks are planned as skipped, never passed.
    const plan = planChecks({ profile: t.profile, clients: t.clients, clock: t.clock });
    const fixed = plan.find((i) => i.check.id === 'expiry.fixed-not-extended' && i.client.policy === 'Confidential')!;
    expect(fixed.skip).toMatch(/maxWaitSeconds is 120/);
    const spa = plan.find((i) => i.check.id === 'expiry.sliding-chain-outlives-lifetime' && i.client.policy === 'PublicWeb')!;
    expect(spa.skip).toMatch(/needs \d+ s of real time/);
  });

  test('example-staging.json without its env vars names the missing variable', async () => {
    await expect(loadTarget('fixtures/targets/example-staging.json', {})).rejects.toThrow(/CONF_SECRET/);
  });
});
