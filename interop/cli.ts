/**
 * What the interop CLIs share: option parsing, the summary they print, running the conformance CLI
 * against the target they wrote, and a JSON hand-off for a parent process (spawnLauncher).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LauncherOptions {
  scale?: number;
  port: number;
  dir?: string;
  run: boolean;
  json: boolean;
  help: boolean;
}

/** "0.0001", "1e-6" or "1/648000". */
export function parseScale(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / Number(m[2]) : Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new Error(`--scale must be a number in (0, 1], like 0.0001 or 1/648000; got ${text}`);
  return value;
}

export function parseLauncherArgs(argv: string[]): LauncherOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string' },
      port: { type: 'string', default: '0' },
      dir: { type: 'string' },
      run: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  return {
    ...(values.scale !== undefined && { scale: parseScale(values.scale) }),
    port,
    ...(values.dir !== undefined && { dir: values.dir }),
    run: values.run,
    json: values.json,
    help: values.help,
  };
}

/** Runs `npm run conformance -- --target FILE [--expected-failures FILE]` as a child; resolves with its exit code. */
export function runConformanceCli(targetFile: string, env: Record<string, string>, expectedFailures?: string, extra: string[] = []): Promise<number> {
  const args = ['--import', 'tsx', 'scripts/conformance.ts', '--target', targetFile, ...(expectedFailures ? ['--expected-failures', expectedFailures] : []), ...extra];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** Serves until SIGINT/SIGTERM (or, with --json, until stdin closes: the parent went away), then closes. */
export function serveUntilStopped(close: () => Promise<void>, json: boolean): void {
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    if (!json) process.stdout.write(`\n${why}: stopping\n`);
    await close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (json) {
    process.stdin.resume();
    process.stdin.on('end', () => void stop('stdin closed'));
  }
}

/** The line a launcher prints with --json once it serves: this prefix, then one line of JSON. */
export const READY = 'interop-ready ';

/** Prints the --json hand-off line. */
export function printReady(info: unknown): void {
  process.stdout.write(`${READY}${JSON.stringify(info)}\n`);
}

export interface Spawned<T> {
  info: T;
  pid: number;
  /** Stops the child (SIGTERM to its pid) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Starts a launcher CLI with --json in its own process (a target's CPU is then not the harness's),
 * and resolves with what it hands over on its `interop-ready {json}` line. Its stderr is passed through.
 */
export async function spawnLauncher<T>(cli: string, args: string[], timeoutMs = 30_000): Promise<Spawned<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, '--json', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cli} printed nothing within ${timeoutMs} ms`)), timeoutMs);
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (l) => {
        // The launcher's own output (e.g. oidc-provider's NOTICE lines on stdout) goes to stderr.
        if (!l.startsWith(READY)) return void process.stderr.write(`${l}\n`);
        clearTimeout(timer);
        resolve(l.slice(READY.length));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${cli} exited with code ${code} before it was ready`));
      });
    });
    return { info: JSON.parse(line) as T, pid: child.pid!, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** What a launcher wrote for a run: the scaled profile, the target, and the env the target reads. */
export interface WrittenTarget {
  profileFile: string;
  targetFile: string;
  maxWaitSeconds: number;
  env: Record<string, string>;
}

/** The banner's closing lines: what was written, and the command that runs the suites against it. */
export function howToRun(written: WrittenTarget, expectedFailuresFile: string): string[] {
  return [
    `wrote ${written.profileFile}`,
    `      ${written.targetFile}  (clock real, maxWaitSeconds ${written.maxWaitSeconds})`,
    '',
    'run the suites against it (in another terminal):',
    ...Object.entries(written.env).map(([k, v]) => `  export ${k}=${v}`),
    `  npm run conformance -- --target ${written.targetFile} --expected-failures ${path.relative(ROOT, expectedFailuresFile)}`,
  ];
}

/** --run: run the suites against the server and exit with their code; otherwise serve until Ctrl-C. */
export async function runOrServe(
  options: LauncherOptions,
  input: { written: WrittenTarget; dir: string; expectedFailuresFile: string; close: () => Promise<void>; announce: string },
): Promise<void> {
  if (options.run) {
    process.stdout.write(`\n${input.announce}\n\n`);
    const code = await runConformanceCli(input.written.targetFile, input.written.env, input.expectedFailuresFile, [
      '--report-dir',
      path.join(input.dir, 'reports'),
    ]);
    await input.close();
    process.exit(code);
  }
  process.stdout.write('\nCtrl-C stops the server.\n');
  serveUntilStopped(input.close, false);
}
