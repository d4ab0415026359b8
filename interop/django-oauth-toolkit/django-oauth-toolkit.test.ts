/**
 * The suites against Django OAuth Toolkit 1.7 from Debian (python3-django-oauth-toolkit, Django
 * 3.2, under Debian's gunicorn, sqlite), checked against the django-oauth-toolkit profile (its
 * documented defaults) with refresh-token lifetimes of a few seconds, on the real clock, through
 * Django's login form and DOT's authorization form.
 *
 * Nothing may error; every failure is pinned in expected-failures.json with the documented
 * behaviour it contradicts, and a pinned pair that no longer fails (or matches nothing) fails
 * this test, so the list stays exact. Without the Debian packages the file is skipped, saying
 * so, except in CI (CI=true), where their absence is a failure: .ci/run installs them.
 */
import { access, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRun, key, staleExpectations, type InteropRun } from '../run.ts';
import { DotError, missingDebianPackages, startDot } from './launch.ts';
import { runAgainstDot, type DotRun } from './run-suites.ts';

const missing = await missingDebianPackages();
const inCi = process.env.CI === 'true';
const skipReason = missing.length && !inCi ? `Debian packages missing (${missing.join(', ')}): apt-get install python3-django-oauth-toolkit gunicorn` : undefined;
if (skipReason) console.warn(`django-oauth-toolkit interop skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('Django OAuth Toolkit 1.7 (Debian) as a target (its documented defaults, lifetimes of seconds, real clock)', () => {
  let started: DotRun | undefined;
  let run: InteropRun;

  beforeAll(async () => {
    // In CI a missing package fails here, naming it (DOT_UNAVAILABLE).
    // gunicorn's warnings and Django's tracebacks (a 500), if any, show beside the verdicts.
    started = await runAgainstDot({ onLog: (line) => console.error(`dot: ${line}`) });
    run = started.run;
    console.log(formatRun(run, 'Django OAuth Toolkit 1.7'));
    console.log(`  passed: ${run.results.filter((r) => r.status === 'passed').map(key).join(', ')}`);
  }, 240_000);

  afterAll(async () => {
    const running = started?.running;
    await started?.close();
    if (running) {
      // Stopped means stopped: gunicorn's whole process group is gone, and its temp dir.
      expect(() => process.kill(-running.pid, 0)).toThrow();
      await expect(access(running.dir)).rejects.toThrow();
    }
  }, 30_000);

  it('errors nowhere, and fails only the pinned (check, client) pairs', () => {
    expect(run.results.filter((r) => r.status === 'errored').map((r) => `${key(r)}\n${r.message}`)).toEqual([]);
    expect(run.results.filter((r) => r.status === 'failed').map((r) => `${key(r)}\n${r.message}`)).toEqual([]);
    expect(staleExpectations(run.raw, started!.expected)).toEqual([]);
  });

  it('pins each pair once, with the documented behaviour it contradicts', () => {
    const pinned = started!.expected;
    expect(new Set(pinned.map(key)).size).toBe(pinned.length);
    for (const p of pinned) {
      expect(p.client, key(p)).toMatch(/\S/);
      // A reason names DOT's documentation or its setting, not just the symptom.
      expect(p.reason, key(p)).toMatch(/DOT|Django OAuth Toolkit/);
      expect(p.reason.length, key(p)).toBeGreaterThan(40);
    }
  });

  it('passes what DOT documents: issuance on every code exchange, rotation, reuse only rejected, no refresh token from client credentials', () => {
    const status = new Map(run.results.map((r) => [key(r), r.status]));
    for (const client of ['confidential', 'public']) {
      for (const id of ['offline-access.issued-with-offline-access', 'rotation.new-token-each-refresh', 'token-endpoint.bound-to-client', 'token-endpoint.revocation-kills-refresh-token', 'token-endpoint.introspection-coverage']) {
        expect(status.get(`${id} [${client}]`), `${id} [${client}]`).toBe('passed');
      }
      // These judge a refusal or a life on the real clock: on a loaded machine an answer may come too
      // late to judge (inconclusive, with the numbers); they never fail against DOT.
      for (const id of ['rotation.old-token-rejected', 'rotation.reuse-rejected-family-kept', 'expiry.lives-declared-lifetime']) {
        expect(['passed', 'inconclusive'], `${id} [${client}]`).toContain(status.get(`${id} [${client}]`));
      }
    }
    expect(status.get('offline-access.none-from-client-credentials [service]')).toBe('passed');
    // Declared v2 terms, observed: a refresh token without offline_access, one successor for concurrent refreshes.
    for (const client of ['confidential', 'public']) {
      expect(status.get(`offline-access.online-token-without-offline-access [${client}]`), client).toBe('passed');
      expect(status.get(`rotation.concurrent-same-successor [${client}]`), client).toBe('passed');
    }
    // Its discovery has no grant_types_supported (a SHOULD: a warning, not a failure).
    expect(run.results.filter((r) => r.status === 'warning').map(key)).toContain('token-endpoint.metadata-advertises-refresh [confidential]');
  });

  it('skips only what does not apply or cannot be driven (no logout in DOT 1.7), never for want of clock time', () => {
    const skipped = run.results.filter((r) => r.status === 'skipped');
    expect(skipped.filter((r) => /maxWaitSeconds|real-time wait/.test(r.message ?? '')).map(key)).toEqual([]);
    // The target declares no logout: the checks that need one say so, and none of them ran.
    expect(skipped.some((r) => /logout\.driver none/.test(r.message ?? ''))).toBe(true);
    const needLogout = new Set(skipped.filter((r) => /logout\.driver none/.test(r.message ?? '')).map((r) => r.id));
    expect(run.results.filter((r) => needLogout.has(r.id) && r.status !== 'skipped').map(key)).toEqual([]);
  });
});

describe.skipIf(skipReason !== undefined)('Django OAuth Toolkit launcher: a start that fails names the step and leaves nothing behind', () => {
  const leftovers = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('interop-dot-'));

  it.each([
    ['provisioning', { provisionTimeoutMs: 1 }, 'DOT_PROVISION_FAILED', /^DOT_PROVISION_FAILED: provision\.py \(migrations, users, applications\) did not finish in time/],
    ['gunicorn', { startTimeoutMs: 1 }, 'DOT_START_FAILED', /^DOT_START_FAILED: (gunicorn did not report "Listening at" within 1 ms|DOT's discovery did not answer 200 within 1 ms)/],
  ] as const)('%s too slow: %s', async (_step, options, code, message) => {
    const before = await leftovers();
    const error = await startDot(options).then(
      (r) => r.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DotError);
    expect((error as DotError).code).toBe(code);
    expect((error as DotError).message).toMatch(message);
    expect((await leftovers()).filter((n) => !before.includes(n))).toEqual([]);
  }, 120_000);
});
