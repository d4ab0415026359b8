/**
 * The CLI enforces timeouts.runMs: past the deadline, checks under way are aborted and the rest
 * are errored at once with RUN_TIMEOUT (our limit, no verdict on the IdP); the run ends, exits 3,
 * and the reports are still written.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

test('a run past timeouts.runMs stops, errors the unfinished checks with RUN_TIMEOUT, and writes the report', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rc-runms-'));
  const target = path.join(dir, 'target.json');
  await writeFile(
    target,
    JSON.stringify({
      name: 'embedded mock, 300 ms budget',
      embedded: { transport: 'msw' },
      profile: 'telenorid-plus',
      login: { driver: 'mock' },
      logout: { driver: 'mock' },
      clock: { driver: 'mock' },
      timeouts: { requestMs: 5000, runMs: 300 },
    }),
  );
  const started = Date.now();
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(path.resolve('node_modules/.bin/tsx'), ['scripts/conformance.ts', '--target', target, '--report-dir', dir], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (c) => {
      clearTimeout(kill);
      resolve({ code: c, stdout: out });
    });
  });
  expect(code).toBe(3);
  expect(Date.now() - started).toBeLessThan(60_000);
  const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8'));
  const errored = report.checks.filter((c: { status: string }) => c.status === 'errored');
  expect(errored.length).toBeGreaterThan(0);
  // The run pipeline's one deadline, as every entry point has it (suites/runner/pipeline.test.ts): stopped or not started.
  for (const c of errored) {
    expect(c.message).toMatch(/RUN_TIMEOUT: (not started, the run exceeded timeouts\.runMs \(300 ms\)|the run exceeded timeouts\.runMs \(300 ms\); the check was stopped)/);
  }
  expect(report.summary.errored).toBe(errored.length);
  expect(report.summary.failed).toBe(0);
  expect(stdout).toMatch(/RUN_TIMEOUT/);
}, 120_000);
