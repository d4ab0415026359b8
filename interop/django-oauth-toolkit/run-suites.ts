/**
 * For the interop test and the CLI: DOT started (launch.ts), the whole catalogue run against it
 * with its expected failures, and a close that stops gunicorn's process group and removes its dirs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import { runInterop, type InteropRun } from '../run.ts';
import { startDot, type RunningDot, type StartDotOptions } from './launch.ts';
import { CONCURRENCY, loadExpectedFailures, writeDotTarget } from './target.ts';


export interface DotRun {
  run: InteropRun;
  running: RunningDot;
  expected: Array<ExpectedFailure & { client: string }>;
  close(): Promise<void>;
}

export async function runAgainstDot(options: StartDotOptions = {}): Promise<DotRun> {
  const expected = await loadExpectedFailures();
  const dir = await mkdtemp(path.join(tmpdir(), 'interop-dot-target-'));
  let running: RunningDot | undefined;
  const close = async () => {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    running = await startDot(options);
    const written = await writeDotTarget(running, dir);
    const run = await runInterop(written.targetFile, { ...process.env, ...written.env }, expected, { concurrency: CONCURRENCY });
    return { run, running, expected, close };
  } catch (e) {
    await close();
    throw e;
  }
}
