/** Registers the defect matrix for one profile as vitest tests (shared by the per-profile test files). */
import { describe, expect, test } from 'vitest';
import { DEFECTS, type Defect } from '../../mock-idp/index.ts';
import { loadTarget } from '../harness/target.ts';
import { loadDefectTable, matrixRow } from './self-test.ts';

export function defineDefectMatrix(profile: string): void {
  describe(`defect matrix · ${profile}`, async () => {
    const table = await loadDefectTable();
    const base = await loadTarget('fixtures/targets/mock.json');
    const cases: (Defect | undefined)[] = [undefined, ...DEFECTS];
    for (const defect of cases) {
      const entry = defect ? table.defects[defect].caughtBy[profile] : [];
      const label = defect ? `${defect} → ${Array.isArray(entry) ? entry.join(', ') : 'not applicable: nothing may fail'}` : 'correct mock → nothing fails';
      test(label, async () => {
        const row = await matrixRow(base, table, profile, defect);
        // Exactly the mapped checks fail: a missed one means the suites cannot see the defect,
        // an extra one is a false positive.
        expect(row.failed, Object.values(row.messages).join('\n---\n')).toEqual(row.expected);
        // An errored check saw nothing: our side failed, which is never a catch and never acceptable here.
        expect(row.errored, Object.values(row.messages).join('\n---\n')).toEqual([]);
      });
    }
  });
}
