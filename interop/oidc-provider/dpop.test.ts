/**
 * node-oidc-provider 9 with its DPoP feature on (launcher --dpop, features.dPoP with nonces): the
 * profile it serves declares every public refreshing policy DPoP-bound (dpop-profile.ts), and the
 * sender-constraint checks and the rotation group (with RFC 9700 §4.14.2) run against it on the real
 * clock, with the profile's own lifetimes (no waits are needed): a real implementation of RFC 9449
 * passes them, so they judge the RFC and not the mock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRefreshPolicy } from '../../mock-idp/profile/index.ts';
import { senderConstraintChecks } from '../../suites/checks/dpop.ts';
import { formatRun, key, type InteropRun } from '../run.ts';
import { runAgainstOidcProvider, type OidcProviderRun } from './run-suites.ts';

describe('node-oidc-provider 9 with DPoP (features.dPoP, nonces): sender-constrained refresh tokens', () => {
  let started: OidcProviderRun | undefined;
  let run: InteropRun;

  beforeAll(async () => {
    started = await runAgainstOidcProvider(['--dpop', '--scale', '1'], { groups: ['sender-constraint', 'rotation'] });
    run = started.run;
    console.log(formatRun(run, 'node-oidc-provider 9 with DPoP'));
  }, 120_000);

  afterAll(async () => {
    await started?.close();
  });

  it('serves a profile that declares DPoP for its public refreshing clients, with nonces', () => {
    const profile = run.target.profile;
    expect(profile.dpopNonce).toBe(true);
    const publicRefreshing = Object.entries(profile.policies).filter(([, p]) => !p.confidential && isRefreshPolicy(p));
    expect(publicRefreshing.length).toBeGreaterThan(0);
    for (const [, p] of publicRefreshing) expect(p.senderConstraint).toBe('dpop');
  });

  it('passes every sender-constraint check for every public refreshing client, and the rotation group, with nothing failed or errored', () => {
    const bad = run.results.filter((r) => r.status === 'failed' || r.status === 'errored');
    expect(bad.map((r) => `${r.status} ${key(r)}\n${r.message}`)).toEqual([]);
    const clients = run.target.clients.filter((c) => !c.policyRules.confidential && isRefreshPolicy(c.policyRules)).map((c) => c.id);
    for (const check of [...senderConstraintChecks.map((c) => c.id), 'rotation.public-refresh-protected']) {
      for (const client of clients) {
        const r = run.results.find((x) => x.id === check && x.client === client);
        expect(r?.status, `${check} [${client}]: ${r?.message ?? 'not run'}`).toBe('passed');
      }
    }
  });
});
