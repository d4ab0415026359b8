/**
 * `--list-defects`: each seeded defect with its one-line description. The descriptions are written once,
 * in fixtures/defects.json beside the checks that must catch each defect (suites/runner/defect-table.ts
 * validates that file: an entry per defect, a non-empty description); this reads only them.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEFECTS, type Defect } from './defects.ts';

export const DEFECTS_FILE = fileURLToPath(new URL('../fixtures/defects.json', import.meta.url));

/** Each defect's description, from the table; a defect the table lacks says so rather than vanishing. */
export async function defectDescriptions(file = DEFECTS_FILE): Promise<Record<Defect, string>> {
  const table = JSON.parse(await readFile(file, 'utf8')) as { defects?: Record<string, { description?: unknown }> };
  return Object.fromEntries(
    DEFECTS.map((d) => {
      const text = table.defects?.[d]?.description;
      return [d, typeof text === 'string' && text.trim() !== '' ? text.replace(/\s+/g, ' ').trim() : `(no description in ${file})`];
    }),
  ) as Record<Defect, string>;
}

/** One line per defect: the name, padded, then what it breaks. */
export function formatDefectList(descriptions: Record<Defect, string>): string {
  const width = Math.max(...DEFECTS.map((d) => d.length));
  return DEFECTS.map((d) => `${d.padEnd(width)}  ${descriptions[d]}`).join('\n') + '\n';
}
