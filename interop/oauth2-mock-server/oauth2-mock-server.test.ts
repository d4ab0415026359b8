/**
 * A worked vendor report: the suites against oauth2-mock-server 8, a deliberately lenient mock,
 * checked against the same scaled TelenorID+ profile and clients as node-oidc-provider, with the
 * real clock. The exact set of (check, client) it fails is pinned, with a reason each, in
 * pinned-failures.json: a failure that appears or disappears changes the report and fails this test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRun, key, runInterop, staleExpectations, type InteropRun } from '../run.ts';
import { startOauth2MockServer, type RunningOauth2MockServer } from './launch.ts';
import { loadPinnedFailures, writeOauth2MockServerTarget } from './target.ts';

/** Beyond the longest wait: ~100 logins (one redirect each), refreshes, CI noise. */
const OVERHEAD_MS = 15_000;

describe('oauth2-mock-server 8 as a target (lenient; pinned failures)', () => {
  let dir: string;
  let server: RunningOauth2MockServer | undefined;
  let pinned: Awaited<ReturnType<typeof loadPinnedFailures>>;
  let run: InteropRun;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'interop-oauth2-mock-server-'));
    pinned = await loadPinnedFailures();
    server = await startOauth2MockServer();
    const written = await writeOauth2MockServerTarget(server, dir);
    run = await runInterop(written.targetFile, { ...process.env, ...written.env }, pinned);
    console.log(formatRun(run, 'oauth2-mock-server 8'));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails exactly the pinned (check, client) pairs', () => {
    const failing = run.raw.filter((r) => r.status === 'failed').map(key).sort();
    expect(failing).toEqual(pinned.map(key).sort());
  });

  it('pins each pair once, with a reason', () => {
    expect(new Set(pinned.map(key)).size).toBe(pinned.length);
    for (const p of pinned) {
      expect(p.client, key(p)).toMatch(/\S/);
      expect(p.reason.length, key(p)).toBeGreaterThan(20);
    }
    expect(staleExpectations(run.raw, pinned)).toEqual([]);
  });

  it('with the pinned list as expected failures the run is clean: it is what a vendor hands on', () => {
    expect(run.results.filter((r) => r.status === 'failed').map(key)).toEqual([]);
    expect(run.results.filter((r) => r.status === 'expected-failure')).toHaveLength(pinned.length);
    // What it does get right, for the record (it rotates on every refresh, signs verifiable ID tokens, ...).
    const passed = run.results.filter((r) => r.status === 'passed').map(key);
    expect(passed).toContain('token-endpoint.id-token-on-refresh [mobile]');
    expect(passed).toContain('rotation.new-token-each-refresh [mobile]');
  });

  it('reports its skips: only checks that do not apply to a policy; none for want of clock time', () => {
    const skipped = run.results.filter((r) => r.status === 'skipped');
    const reasons = new Map<string, number>();
    for (const r of skipped) {
      const reason = (r.message ?? '').replace(/policy \w+/, 'policy X').replace(/\(\d+ s\)/g, '(N s)');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    console.log(`oauth2-mock-server: ${skipped.length} skipped\n${[...reasons].map(([r, n]) => `  ${n} × ${r}`).join('\n')}`);
    expect(skipped.filter((r) => /maxWaitSeconds|real-time wait/.test(r.message ?? '')).map(key)).toEqual([]);
  });

  it('overlaps the waits of independent checks: wall time is about the longest wait, not the sum', () => {
    console.log(`oauth2-mock-server: wall ${(run.wallMs / 1000).toFixed(1)} s, longest wait ${run.longestWaitSeconds} s, waits summed ${run.summedWaitSeconds} s`);
    // At least the longest wait a check really made (waits follow measured boundaries), at most the plan's longest plus overhead.
    expect(run.longestWaitedSeconds).toBeGreaterThan(0);
    expect(run.wallMs).toBeGreaterThanOrEqual(Math.floor(run.longestWaitedSeconds * 1000));
    expect(run.wallMs).toBeLessThan(run.longestWaitSeconds * 1000 + OVERHEAD_MS);
  });
});
