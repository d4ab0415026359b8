/**
 * Vitest global setup (unit project): the run fails when a process started by a test outlives it.
 * Every process started under this run inherits a marker in its environment (RC_TEST_RUN=<id>);
 * at the end, any marked process other than vitest itself and its workers is a leak: it is listed,
 * killed (by its pid) and the run fails. test-file-leaks.ts does the same per test file, naming it.
 * A test that detaches a child and strips the environment escapes this; tests here pass
 * `{ ...process.env }` or nothing, so they are seen.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export const MARKER = 'RC_TEST_RUN';
/** Set per test file by test-file-leaks.ts. */
export const FILE_MARKER = 'RC_TEST_FILE';

export interface MarkedProcess {
  pid: number;
  ppid: number;
  command: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/** Live processes whose environment holds marker=value (Linux /proc). */
export function markedProcesses(value: string, marker = MARKER): MarkedProcess[] {
  const wanted = `${marker}=${value}`;
  const found: MarkedProcess[] = [];
  // Linux only (the project's CI and dev containers): elsewhere there is nothing to read.
  if (!existsSync('/proc/self/environ')) return found;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const env = read(`/proc/${name}/environ`);
    if (!env?.split('\0').includes(wanted)) continue;
    const stat = read(`/proc/${name}/stat`) ?? '';
    // Fields after the parenthesised command name: state, ppid, ... A zombie is already dead.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    const command = (read(`/proc/${name}/cmdline`) ?? '').split('\0').join(' ').trim();
    found.push({ pid: Number(name), ppid: Number(ppid), command });
  }
  return found;
}

/** Live (not zombie) processes of a process group. A zombie nobody reaps yet still answers kill(-pgid, 0). */
export function liveGroupMembers(pgid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const live: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`) ?? '';
    // After the parenthesised command name: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') live.push(Number(name));
  }
  return live;
}

/** Marked processes that are neither the runner (`runnerPid`) nor its direct children (the workers). */
export function leakedProcesses(value: string, runnerPid: number): MarkedProcess[] {
  return markedProcesses(value).filter((p) => p.pid !== runnerPid && p.ppid !== runnerPid);
}

/** Waits up to `graceMs` for leaks to exit by themselves (a stopped server may take a moment). */
export async function waitForLeaks(value: string, runnerPid: number, graceMs: number): Promise<MarkedProcess[]> {
  return waitUntilGone(() => leakedProcesses(value, runnerPid), graceMs);
}

export async function waitUntilGone(find: () => MarkedProcess[], graceMs: number): Promise<MarkedProcess[]> {
  const until = Date.now() + graceMs;
  for (;;) {
    const leaked = find();
    if (leaked.length === 0 || Date.now() >= until) return leaked;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the leaked processes (each by its pid) and describes them. */
export function killLeaks(leaked: MarkedProcess[], where: string): Error {
  for (const p of leaked) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return new Error(
    `${leaked.length} child process(es) outlived ${where} (now killed); stop servers with their whole process group:\n` +
      leaked.map((p) => `  pid ${p.pid}: ${p.command.slice(0, 200)}`).join('\n'),
  );
}

export default function setup(): () => Promise<void> {
  const id = randomUUID();
  process.env[MARKER] = id;
  return async () => {
    const leaked = await waitForLeaks(id, process.pid, 3000);
    if (leaked.length === 0) return;
    // Vitest only logs an error thrown here ("error during close"); the exit code is what CI sees.
    process.exitCode = 1;
    throw killLeaks(leaked, 'their tests');
  };
}
