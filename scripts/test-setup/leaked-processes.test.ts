/** The leak detector of the unit project's global setup finds what a test left running. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKER, leakedProcesses, markedProcesses, waitForLeaks } from './leaked-processes.ts';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('leaked-process detection', () => {
  it('finds a grandchild orphaned by its parent and a child still attached, not the runner\'s own children', async () => {
    const run = randomUUID();
    const env = { ...process.env, [MARKER]: run };
    // sh exits at once, leaving sleep behind (reparented): the shape of a killed tsx wrapper.
    const sh = spawn('sh', ['-c', 'sleep 30 & echo $!'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    const orphan = Number(await new Promise<string>((resolve) => sh.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
    started.push(orphan);
    const child = spawn('sleep', ['30'], { env, stdio: 'ignore' });
    started.push(child.pid!);
    await new Promise((r) => sh.once('exit', r));

    // Seen from the runner (this process's parent): both are leaks.
    const leaked = leakedProcesses(run, process.ppid).map((p) => p.pid);
    expect(leaked).toEqual(expect.arrayContaining([orphan, child.pid]));
    // This process counted as the runner: its direct child is a worker, the orphan still a leak.
    const asRunner = leakedProcesses(run, process.pid).map((p) => p.pid);
    expect(asRunner).toContain(orphan);
    expect(asRunner).not.toContain(child.pid);
    expect(markedProcesses(run).find((p) => p.pid === child.pid)?.command).toBe('sleep 30');

    for (const pid of started.splice(0)) process.kill(pid, 'SIGKILL');
    expect(await waitForLeaks(run, process.ppid, 3000)).toEqual([]);
  });
});
