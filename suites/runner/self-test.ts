/**
 * The self-test: run the whole catalogue against the embedded mock with each seeded defect,
 * for each profile, and compare the failing check ids with fixtures/defects.json. The suites'
 * sensitivity, proven: every defect caught by exactly its mapped checks, and nothing else failing.
 * A check catches a defect when it fails, or warns (a SHOULD-level check says so as a warning: the
 * run shows it, and --strict fails on it). A check that errors or is inconclusive has seen nothing
 * and catches nothing; any errored check makes its row wrong (our side could not do its job).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEFECTS, loadProfile, type Defect } from '../../mock-idp/index.ts';
import type { Target } from '../harness/target.ts';
import { runCatalogue } from './pipeline.ts';

export const DEFECT_TABLE = fileURLToPath(new URL('../../fixtures/defects.json', import.meta.url));

export type Expectation = readonly string[] | { notApplicable: string };

export interface DefectTable {
  defects: Record<Defect, { description: string; caughtBy: Record<string, Expectation> }>;
}

export async function loadDefectTable(file = DEFECT_TABLE): Promise<DefectTable> {
  const table = JSON.parse(await readFile(file, 'utf8')) as DefectTable;
  const missing = DEFECTS.filter((d) => !table.defects[d]);
  if (missing.length) throw new Error(`${file}: no entry for defect(s) ${missing.join(', ')}`);
  return table;
}

export interface MatrixRow {
  profile: string;
  /** undefined: the correct mock (control row). */
  defect?: Defect;
  expected: string[];
  notApplicable?: string;
  /** Check ids with at least one instance that failed or warned: the ones that caught the defect. */
  failed: string[];
  /** Check ids with an errored instance (never a catch; the row is wrong). */
  errored: string[];
  /** Check ids with an inconclusive instance (never a catch). */
  inconclusive: string[];
  /** A sample failure message per failing id (first instance). */
  messages: Record<string, string>;
  ok: boolean;
}

/** Runs the catalogue once against the embedded mock with `defects` applied. */
export async function failingChecks(base: Target, profileName: string, defects: readonly Defect[]) {
  const target = { ...base, profile: await loadProfile(profileName), profileRef: profileName, embedded: { transport: 'direct' } } as Target;
  const { results } = await runCatalogue(target, { defects });
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'warning');
  const errored = results.filter((r) => r.status === 'errored');
  const messages: Record<string, string> = {};
  for (const r of [...failed, ...errored]) messages[r.id] ??= r.message ?? '';
  const ids = (list: typeof results) => [...new Set(list.map((r) => r.id))].sort();
  return { failed: ids(failed), errored: ids(errored), inconclusive: ids(results.filter((r) => r.status === 'inconclusive')), messages };
}

export async function matrixRow(base: Target, table: DefectTable, profile: string, defect?: Defect): Promise<MatrixRow> {
  const expectation: Expectation = defect ? (table.defects[defect].caughtBy[profile] ?? []) : [];
  const expected = Array.isArray(expectation) ? [...expectation].sort() : [];
  const { failed, errored, inconclusive, messages } = await failingChecks(base, profile, defect ? [defect] : []);
  const row: MatrixRow = {
    profile,
    expected,
    failed,
    errored,
    inconclusive,
    messages,
    ok: JSON.stringify(expected) === JSON.stringify(failed) && errored.length === 0,
    ...(defect && { defect }),
    ...(!Array.isArray(expectation) && { notApplicable: (expectation as { notApplicable: string }).notApplicable }),
  };
  return row;
}
