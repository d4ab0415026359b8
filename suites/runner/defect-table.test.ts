/**
 * fixtures/defects.json is data, validated: wrong keys, defects, profiles and check ids are clear
 * errors; and every check of the catalogue is shown able to fail (a defect it catches somewhere).
 */
import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { DEFECTS } from '../../mock-idp/index.ts';
import { CHECKS } from '../checks/index.ts';
import { DEFECT_TABLE, DefectTableError, LIBRARY_PROFILES, expectationFor, loadDefectTable, loadMatrixProfiles, parseDefectTable } from './defect-table.ts';

// The seeds, their variants and the library profiles: every profile the self-test runs.
const variants = await loadMatrixProfiles();
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
    ['a profile that does not exist', (t: typeof raw) => (t.defects['no-rotation']!.caughtBy['no-such-idp'] = ['rotation.old-token-rejected']), /defects\.no-rotation\.caughtBy\.no-such-idp: no such profile or variant/],
    ['a library profile without its entry', (t: typeof raw) => delete t.defects['no-pragma']!.caughtBy['keycloak'], /defects\.no-pragma\.caughtBy\.keycloak: missing \(library profiles are mapped explicitly\)/],
    ['a library profile named as a variant', (t: typeof raw) => (t.variants['okta'] = 'telenorid-plus'), /variants\.okta: a library profile is not a variant/],
    ['an empty list of catchers (nothing caught is notApplicable, with why)', (t: typeof raw) => (t.defects['no-pragma']!.caughtBy['okta'] = []), /defects\.no-pragma\.caughtBy\.okta/],
    ['a defect the mock does not have', (t: typeof raw) => (t.defects['no-such-defect'] = { description: 'x', caughtBy: { 'telenorid-plus': ['rotation.old-token-rejected'], 'erp-net': ['rotation.old-token-rejected'] } }), /defects\.no-such-defect: no such defect/],
    ['a defect without its entry', (t: typeof raw) => delete t.defects['no-pragma'], /defects\.no-pragma: missing/],
    ['a seed without its entry', (t: typeof raw) => delete t.defects['no-pragma']!.caughtBy['erp-net'], /defects\.no-pragma\.caughtBy\.erp-net: missing/],
    ['a variant without its seed', (t: typeof raw) => delete t.variants['erp-net-reject-grace-mixed'], /no seed named for variant erp-net-reject-grace-mixed/],
    ['a seed named as a variant', (t: typeof raw) => (t.variants['erp-net'] = 'erp-net'), /variants\.erp-net: a seed profile is not a variant/],
    ['an unknown seed', (t: typeof raw) => (t.variants['erp-net-reject-grace-mixed'] = 'keycloak'), /variants\.erp-net-reject-grace-mixed/],
    ['an empty gap (a gap names what is missing)', (t: typeof raw) => (t.defects['no-pragma']!.caughtBy['okta'] = { gap: '' }), /defects\.no-pragma\.caughtBy\.okta/],
    ['an empty notApplicable', (t: typeof raw) => (t.defects['no-rotation']!.caughtBy['erp-net'] = { notApplicable: '' }), /defects\.no-rotation\.caughtBy\.erp-net/],
  ])('%s is a clear error', (_what, change, message) => {
    const parse = changed(change);
    expect(parse).toThrow(DefectTableError);
    expect(parse).toThrow(message);
  });

  test('every library profile of fixtures/profiles/ is in the table, mapped for every defect', async () => {
    expect(LIBRARY_PROFILES.length).toBeGreaterThanOrEqual(6);
    const table = await loadDefectTable(variants);
    for (const name of LIBRARY_PROFILES) for (const d of DEFECTS) expect(table.defects[d].caughtBy[name], `${d} under ${name}`).toBeDefined();
  });

  test('a variant inherits its seed’s catchers unless it has its own entry', async () => {
    const table = await loadDefectTable(variants);
    expect(expectationFor(table, 'no-pragma', 'telenorid-plus-sso-invalid-grant')).toEqual(table.defects['no-pragma'].caughtBy['telenorid-plus']);
    expect(expectationFor(table, 'non-atomic-rotation', 'erp-net-reject-grace-mixed')).toMatchObject({ notApplicable: expect.stringMatching(/grace/) });
  });
});

describe('the matrix runs in npm test', () => {
  test('every profile of the self-test (seed, variant, library) has its own self-test.<profile>.test.ts, and no file names another', async () => {
    const files = (await readdir(new URL('.', import.meta.url))).flatMap((f) => /^self-test\.(.+)\.test\.ts$/.exec(f)?.[1] ?? []);
    expect(files.sort()).toEqual(variants.map((p) => p.name).sort());
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
