/** Registers the defect matrix for one profile (a seed, a variant or a library profile) as vitest tests (shared by the per-profile test files). */
import { describe, expect, test } from 'vitest';
import { DEFECTS, type Defect } from '../../mock-idp/index.ts';
import { loadTarget } from '../harness/target.ts';
import { deviationsOf, expectationFor, loadMatrixProfiles } from './defect-table.ts';
import { loadDefectTable, matrixRow } from './self-test.ts';

export function defineDefectMatrix(profileName: string): void {
  describe(`defect matrix · ${profileName}`, async () => {
    const profiles = await loadMatrixProfiles();
    const table = await loadDefectTable(profiles);
    const profile = profiles.find((p) => p.name === profileName);
    if (!profile) throw new Error(`no profile, variant or library profile ${profileName}`);
    const base = await loadTarget('fixtures/targets/mock.json');
    const cases: (Defect | undefined)[] = [undefined, ...DEFECTS];
    test.each(cases.map((defect) => {
      const entry = defect ? expectationFor(table, defect, profileName) : [];
      const expected = Array.isArray(entry) ? entry.join(', ') : 'gap' in entry ? 'a known gap, nothing catches it: nothing may fail' : 'not applicable: nothing may fail';
      const label = defect ? `${defect} → ${expected}` : 'correct mock → nothing fails';
      return { label, defect };
    }))('$label', async ({ defect }) => {
      const row = await matrixRow(base, table, profile, defect);
      // Exactly the mapped checks fail: a missed one means the suites cannot see the defect,
      // an extra one is a false positive.
      expect(row.failed, Object.values(row.messages).join('\n---\n')).toEqual(row.expected);
      // An errored check saw nothing: our side failed, which is never a catch and never acceptable here.
      expect(row.errored, Object.values(row.messages).join('\n---\n')).toEqual([]);
      // The correct mock shows exactly the deviations the profile documents (defects.json deviations).
      if (defect === undefined) expect(row.deviations).toEqual(deviationsOf(table, profileName));
    }, 60_000);
  });
}
