/**
 * The whole catalogue on a real clock against the mock served on the wall clock, with refresh-token
 * lifetimes of 3, 4 and 6 s (one run each, in parallel), while a child process keeps every core busy.
 * A correct IdP may leave a check inconclusive (a window too narrow for the measured jitter) but
 * never failed or errored: the timing of the checks must come from measured times, not hopes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadProfile } from '../../mock-idp/index.ts';
import { startCpuBurner, type CpuBurner } from '../../interop/cpu-burner.ts';
import { key, runInterop, type InteropRun } from '../../interop/run.ts';
import { withLifetimesOf } from '../../interop/wall-clock-mock/profile.ts';
import { serveOnWallClock, type WallClockMock } from '../../interop/wall-clock-mock/serve.ts';

const LIFETIMES = [3, 4, 6] as const;
/**
 * Checks at once per run: enough to overlap the waits, few enough that a check's login is not queued
 * behind hundreds of others in this process (the load under test is the CPU burner's).
 */
const CONCURRENCY = 16;

describe('the catalogue on a real clock, lifetimes of 3, 4 and 6 s, every core busy', () => {
  let dir: string;
  let burner: CpuBurner | undefined;
  const mocks: WallClockMock[] = [];
  let runs: Array<{ seconds: number; run: InteropRun }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'real-clock-stress-'));
    // Stops by itself after 150 s should afterAll never run.
    burner = await startCpuBurner({ limitSeconds: 150 });
    const base = await loadProfile('telenorid-plus');
    runs = await Promise.all(
      LIFETIMES.map(async (seconds) => {
        const mock = await serveOnWallClock(withLifetimesOf(base, seconds), path.join(dir, `${seconds}s`));
        mocks.push(mock);
        return { seconds, run: await runInterop(mock.targetFile, { ...process.env, ...mock.env }, [], { concurrency: CONCURRENCY }) };
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await burner?.stop();
    await Promise.all(mocks.map((m) => m.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('no check fails or errors; inconclusive ones are counted', () => {
    const count = (run: InteropRun, status: string) => run.results.filter((r) => r.status === status).length;
    for (const { seconds, run } of runs) {
      const inconclusive = run.results.filter((r) => r.status === 'inconclusive');
      console.log(
        `lifetime ${seconds} s (${burner!.threads} busy threads): ${count(run, 'passed')} passed, ${inconclusive.length} inconclusive, ` +
          `${count(run, 'skipped')} skipped, ${count(run, 'failed')} failed, ${count(run, 'errored')} errored; wall ${(run.wallMs / 1000).toFixed(1)} s` +
          inconclusive.map((r) => `\n  inconclusive ${key(r)}: ${r.message}`).join(''),
      );
    }
    const bad = runs.flatMap(({ seconds, run }) =>
      run.results.filter((r) => r.status === 'failed' || r.status === 'errored').map((r) => `[${seconds} s] ${r.status} ${key(r)}\n${r.message}`),
    );
    expect(bad).toEqual([]);
    for (const { run } of runs) expect(count(run, 'passed')).toBeGreaterThan(30);
  });

  test('every time-based check ran: nothing is skipped for want of clock time', () => {
    const tooLong = runs.flatMap(({ seconds, run }) =>
      run.results.filter((r) => r.status === 'skipped' && /maxWaitSeconds|real-time wait/.test(r.message ?? '')).map((r) => `[${seconds} s] ${key(r)}`),
    );
    expect(tooLong).toEqual([]);
  });
});
