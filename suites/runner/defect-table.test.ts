/**
 * fixtures/defects.json is data, validated: wrong keys, defects, profiles and check ids are clear
 * errors; and every check of the catalogue is shown able to fail (a defect it catches somewhere).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { DEFECTS } from '../../mock-idp/index.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { CHECKS } from '../checks/index.ts';
import { DEFECT_TABLE, DefectTableError, expectationFor, loadDefectTable, parseDefectTable } from './defect-table.ts';

const variants = await loadVariants();
const raw = JSON.parse(await readFile(DEFECT_TABLE, 'utf8')) as { variants: Record<string, string>; defects: Record<string, { description: string; caughtBy: Record<string, unknown> }> };
const changed = (f: (t: typeof raw) => void) => {
  const copy = structuredClone(raw);
  f(copy);
  return () => parseDefectTable(copy, variants, 'defects.json');
};

describe('the defect table is validated', () => {
  test('the fixture is valid', async () => {
    await expect(loadDefectTable(variants)).resolves.toBeDefined();
  });

  test.each([
    ['an unknown top-level key', (t: typeof raw) => Object.assign(t, { extra: 1 }), /\(root\).*extra|Unrecognized key/],
    ['an unknown key in a defect', (t: typeof raw) => Object.assign(t.defects['no-rotation']!, { catchedBy: {} }), /defects\.no-rotation.*catchedBy|Unrecognized key/],
    ['a check id not in the catalogue', (t: typeof raw) => (t.defects['no-rotation']!.caughtBy['erp-net'] = ['rotation.no-such-check']), /defects\.no-rotation\.caughtBy\.erp-net: rotation\.no-such-check is not a check/],
    ['a profile that does not exist', (t: typeof raw) => (t.defects['no-rotation']!.caughtBy['keycloak'] = []), /defects\.no-rotation\.caughtBy\.keycloak: no such profile or variant/],
    ['a defect the mock does not have', (t: typeof raw) => (t.defects['no-such-defect'] = { description: 'x', caughtBy: { 'telenorid-plus': [], 'erp-net': [] } }), /defects\.no-such-defect: no such defect/],
    ['a defect without its entry', (t: typeof raw) => delete t.defects['no-pragma'], /defects\.no-pragma: missing/],
    ['a seed without its entry', (t: typeof raw) => delete t.defects['no-pragma']!.caughtBy['erp-net'], /defects\.no-pragma\.caughtBy\.erp-net: missing/],
    ['a variant without its seed', (t: typeof raw) => delete t.variants['erp-net-reject-grace-mixed'], /no seed named for variant erp-net-reject-grace-mixed/],
    ['a seed named as a variant', (t: typeof raw) => (t.variants['erp-net'] = 'erp-net'), /variants\.erp-net: a seed profile is not a variant/],
    ['an unknown seed', (t: typeof raw) => (t.variants['erp-net-reject-grace-mixed'] = 'keycloak'), /variants\.erp-net-reject-grace-mixed/],
    ['an empty notApplicable', (t: typeof raw) => (t.defects['no-rotation']!.caughtBy['erp-net'] = { notApplicable: '' }), /defects\.no-rotation\.caughtBy\.erp-net/],
  ])('%s is a clear error', (_what, change, message) => {
    const parse = changed(change);
    expect(parse).toThrow(DefectTableError);
    expect(parse).toThrow(message);
  });

  test('a variant inherits its seed’s catchers unless it has its own entry', async () => {
    const table = await loadDefectTable(variants);
    expect(expectationFor(table, 'no-pragma', 'telenorid-plus-sso-invalid-grant')).toEqual(table.defects['no-pragma'].caughtBy['telenorid-plus']);
    expect(expectationFor(table, 'non-atomic-rotation', 'erp-net-reject-grace-mixed')).toMatchObject({ notApplicable: expect.stringMatching(/grace/) });
  });
});

describe('every check is shown able to fail', () => {
  test('each check id of the catalogue catches at least one defect under at least one profile or variant', async () => {
    const table = await loadDefectTable(variants);
    const catching = new Set(
      DEFECTS.flatMap((d) => variants.flatMap((p) => {
        const e = expectationFor(table, d, p.name);
        return Array.isArray(e) ? e : [];
      })),
    );
    expect(CHECKS.map((c) => c.id).filter((id) => !catching.has(id))).toEqual([]);
  });
});
