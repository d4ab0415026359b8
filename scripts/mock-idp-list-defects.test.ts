/**
 * `npm run mock-idp -- --list-defects` names each seeded defect with its one-line description (from
 * fixtures/defects.json), so a user choosing `--defect NAME` knows what it breaks without reading code.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFECTS } from '../mock-idp/index.ts';
import { DEFECTS_FILE, defectDescriptions, formatDefectList } from '../mock-idp/defect-list.ts';

describe('--list-defects', () => {
  it('prints every defect with the description fixtures/defects.json gives it, one line each', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/mock-idp.ts', '--list-defects'], { timeout: 60_000 });
    const table = JSON.parse(await readFile(DEFECTS_FILE, 'utf8')) as { defects: Record<string, { description: string }> };
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(DEFECTS.length);
    DEFECTS.forEach((d, i) => expect(lines[i]).toMatch(new RegExp(`^${d} +${table.defects[d]!.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)));
  }, 60_000);

  it('says so for a defect the table lacks, rather than dropping it', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'defects-')), 'defects.json');
    await writeFile(file, JSON.stringify({ defects: { 'no-rotation': { description: 'one\n  line' } } }));
    const text = formatDefectList(await defectDescriptions(file));
    expect(text.split('\n')[0]).toMatch(/^no-rotation +one line$/);
    expect(text).toContain(`no-pragma`);
    expect(text).toContain(`(no description in ${file})`);
  });
});
