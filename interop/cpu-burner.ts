/**
 * A bounded CPU load for real-clock stress tests: a child process running one busy loop per core
 * (worker threads), in its own process group, that exits by itself after `limitSeconds` even if
 * nobody stops it. `stop()` kills the whole group.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuBurner {
  pid: number;
  threads: number;
  stop(): Promise<void>;
}

// argv: [node, threads, limitMs]. The main thread stays idle, so its exit timer fires under full load.
const SCRIPT = `
const { Worker } = require('node:worker_threads');
const threads = Number(process.argv[1]);
for (let i = 0; i < threads; i++) new Worker('for (;;) {}', { eval: true });
setTimeout(() => process.exit(0), Number(process.argv[2]));
`;

export async function startCpuBurner(options: { limitSeconds: number; threads?: number }): Promise<CpuBurner> {
  const threads = options.threads ?? availableParallelism();
  const child = spawn(process.execPath, ['-e', SCRIPT, String(threads), String(Math.round(options.limitSeconds * 1000))], {
    detached: true,
    stdio: 'ignore',
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  return {
    pid,
    threads,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
  };
}
