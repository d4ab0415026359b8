/**
 * The README's runnable blocks run: a fenced block whose info string carries `run` (```ts run,
 * ```sh run) is extracted and executed from the repository root, as a reader would paste it. A `ts`
 * block must exit 0 and print what its `// → text` comments say, in order; a `sh` block must exit 0,
 * and when the next block is marked `output` (```text output), each of its lines must be a line it
 * printed (`…` stands for what varies, such as a duration). Every process a block starts is its own
 * process group, ended whole.
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Block {
  lang: string;
  tags: string[];
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** Top-level fenced blocks (the fence in column 0), in order. */
export function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === '```');
    if (end < 0) throw new Error(`README.md:${i + 1}: a fence that never closes`);
    blocks.push({ lang: open[1]!, tags: open[2]!.trim().split(/\s+/).filter(Boolean), body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** Runs a command as the leader of its own process group; the whole group is ended when it exits or times out. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, detached: true, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs} ms)`;
      killGroup();
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, stdout, stderr });
    });
  });
}

/** A line of an output sample as a pattern: literal, but `…` matches anything. */
function linePattern(line: string): RegExp {
  return new RegExp(`^${line.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}$`, 'm');
}

const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const blocks = fencedBlocks(readme);
const runnable = blocks.flatMap((b, i) => (b.tags.includes('run') ? [{ block: b, output: blocks[i + 1]?.tags.includes('output') ? blocks[i + 1] : undefined }] : []));

describe('README.md', () => {
  it('marks the blocks meant to run (a ts snippet, and commands with their printed output)', () => {
    expect(runnable.map((r) => r.block.lang).sort()).toEqual(expect.arrayContaining(['sh', 'ts']));
    expect(runnable.some((r) => r.output)).toBe(true);
    for (const { block } of runnable) expect(['ts', 'sh'], `README.md:${block.line}`).toContain(block.lang);
  });

  for (const { block, output } of runnable) {
    it(`README.md:${block.line} (${block.lang}) runs${output ? ' and prints what the README shows' : ''}`, { timeout: 300_000 }, async () => {
      let result;
      if (block.lang === 'ts') {
        // Written beside README.md, so its relative imports resolve as for a reader at the repository root.
        const file = path.join(ROOT, `.readme-block-${block.line}-${process.pid}.ts`);
        await writeFile(file, block.body);
        try {
          result = await run(process.execPath, ['--import', 'tsx', file], 120_000);
        } finally {
          await rm(file, { force: true });
        }
        expect(result.stderr, `README.md:${block.line}`).toBe('');
        expect(result.code, `README.md:${block.line}: ${result.stderr}`).toBe(0);
        const promised = [...block.body.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
        expect(promised.length, 'a ts block says what it prints').toBeGreaterThan(0);
        expect(result.stdout.trimEnd().split('\n')).toEqual(promised);
      } else {
        result = await run('bash', ['-euo', 'pipefail', '-c', block.body], 280_000);
        expect(result.code, `README.md:${block.line}: ${result.stderr}`).toBe(0);
        expect(result.stdout.trim(), `README.md:${block.line} printed nothing`).not.toBe('');
      }
      for (const line of output?.body.split('\n').filter((l) => l.trim() !== '') ?? []) {
        expect(result.stdout, `README.md:${output!.line}: ${line}`).toMatch(linePattern(line));
      }
    });
  }
});
