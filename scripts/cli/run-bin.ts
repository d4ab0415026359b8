/** For tests: the CLI as its users start it (scripts/bin.mjs under plain node), with no colour settings inherited. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'scripts/bin.mjs');

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` from the repository root; `env` is added to this environment (without NO_COLOR/FORCE_COLOR). */
export function runBin(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<BinRun> {
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...rest } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...rest, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}
