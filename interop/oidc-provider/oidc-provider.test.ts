/**
 * The suites against node-oidc-provider 9, configured for the TelenorID+ policies with lifetimes
 * scaled down (interop/scale.ts), over loopback HTTP with the real clock, through its own login,
 * consent and logout pages. Everything passes except the documented expected failures; an expected
 * failure that passes (or matches nothing) is stale and fails the test too. The provider runs in its
 * own process, as a real target would, so its CPU does not slow the harness's waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import { formatRun, key, runInterop, staleExpectations, type InteropRun } from '../run.ts';
import { runAgainstOidcProvider, type OidcProviderRun } from './run-suites.ts';

/** Beyond the longest wait: ~100 logins through HTML pages, refreshes, process start-up, CI noise. */
const OVERHEAD_MS = 15_000;
describe('node-oidc-provider 9 as a target (TelenorID+ policies, scaled lifetimes, real clock)', () => {
  let started: OidcProviderRun | undefined;
  let run: InteropRun;
  let expected: ExpectedFailure[];

  beforeAll(async () => {
    started = await runAgainstOidcProvider();
    ({ run, expected } = started);
    console.log(formatRun(run, 'node-oidc-provider 9'));
  }, 120_000);

  afterAll(async () => {
    await started?.close();
  });

  it('passes every applicable check except the documented expected failures', () => {
    const bad = run.results.filter((r) => r.status === 'failed' || r.status === 'errored');
    expect(bad.map((r) => `${r.status} ${key(r)}\n${r.message}`)).toEqual([]);
    expect(run.results.filter((r) => r.status === 'passed').length).toBeGreaterThan(50);
  });

  it('every expected failure still fails (no stale entries), and each has a reason', () => {
    expect(staleExpectations(run.raw, expected)).toEqual([]);
    for (const e of expected) expect(e.reason.length).toBeGreaterThan(20);
  });

  it('runs the time-based checks for real: nothing is skipped for want of clock time', () => {
    const tooLong = run.results.filter((r) => r.status === 'skipped' && /maxWaitSeconds|real-time wait/.test(r.message ?? ''));
    expect(tooLong.map(key)).toEqual([]);
    const timed = ['expiry.lives-declared-lifetime', 'expiry.fixed-not-extended', 'expiry.sliding-chain-outlives-lifetime', 'expiry.idle-gap-kills-token', 'sso.refresh-after-session-expiry'];
    for (const id of timed) expect(run.results.some((r) => r.id === id && r.status === 'passed'), id).toBe(true);
  });

  it('overlaps the waits of independent checks: wall time is about the longest wait, not the sum', () => {
    console.log(
      `node-oidc-provider: wall ${(run.wallMs / 1000).toFixed(1)} s, longest wait ${run.longestWaitSeconds} s, waits summed ${run.summedWaitSeconds} s`,
    );
    // At least the longest wait a check really made (waits follow measured boundaries), at most the plan's longest plus overhead.
    expect(run.longestWaitedSeconds).toBeGreaterThan(0);
    expect(run.wallMs).toBeGreaterThanOrEqual(Math.floor(run.longestWaitedSeconds * 1000));
    expect(run.wallMs).toBeLessThan(run.longestWaitSeconds * 1000 + OVERHEAD_MS);
    expect(run.summedWaitSeconds * 1000).toBeGreaterThan(run.longestWaitSeconds * 1000 + OVERHEAD_MS);
  });
});
