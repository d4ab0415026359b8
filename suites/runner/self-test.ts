/**
 * The self-test: run the whole catalogue against the embedded mock with each seeded defect,
 * for each profile, and compare the failing check ids with fixtures/defects.json. The suites'
 * sensitivity, proven: every defect caught by exactly its mapped checks, and nothing else failing.
 * A check catches a defect when it fails, or warns (a SHOULD-level check says so as a warning: the
 * run shows it, and --strict fails on it). A check that errors or is inconclusive has seen nothing
 * and catches nothing; any errored check makes its row wrong (our side could not do its job).
 */
import { DEFECTS, type Defect, type Profile } from '../../mock-idp/index.ts';
import type { Target } from '../harness/target.ts';
import { deviationsOf, expectationFor, type DefectTable, type Expectation } from './defect-table.ts';
import { runCatalogue } from './pipeline.ts';
import type { InstanceResult } from './run.ts';

export { DEFECT_TABLE, LIBRARY_PROFILES, loadDefectTable, loadMatrixProfiles, type DefectTable, type Expectation } from './defect-table.ts';

/** Every (profile, defect) pair of the matrix: a control row (no defect) per profile, then each defect. */
export function matrixJobs(profiles: readonly Profile[]): { profile: Profile; defect?: Defect }[] {
  return profiles.flatMap((profile) => [{ profile }, ...DEFECTS.map((defect) => ({ profile, defect }))]);
}

export interface MatrixRow {
  profile: string;
  /** undefined: the correct mock (control row). */
  defect?: Defect;
  expected: string[];
  notApplicable?: string;
  /** A known gap of the catalogue (defects.json `gap`): nothing catches the defect; the row is missed, never caught. */
  gap?: string;
  /**
   * Check ids with at least one instance that failed or warned: the ones that caught the defect. A
   * warning the profile documents (defects.json deviations) shows on the correct mock too: no catch.
   */
  failed: string[];
  /** The documented deviations that warned (the control row must show every one). */
  deviations: string[];
  /** Check ids with an errored instance (never a catch; the row is wrong). */
  errored: string[];
  /** Check ids with an inconclusive instance (never a catch). */
  inconclusive: string[];
  /** A sample failure message per failing id (first instance). */
  messages: Record<string, string>;
  ok: boolean;
}

/** Runs the catalogue once against the embedded mock serving (and declaring) `profile`, with `defects` applied. */
export async function catalogueResults(base: Target, profile: Profile, defects: readonly Defect[] = []): Promise<InstanceResult[]> {
  const target = { ...base, profile, profileRef: profile.name, embedded: { transport: 'direct' } } as Target;
  const { results } = await runCatalogue(target, { defects });
  return results;
}

/** Runs the catalogue once against the embedded mock with `defects` applied: the ids that caught them. */
export async function failingChecks(base: Target, profile: Profile, defects: readonly Defect[]) {
  const results = await catalogueResults(base, profile, defects);
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'warning');
  const errored = results.filter((r) => r.status === 'errored');
  const messages: Record<string, string> = {};
  for (const r of [...failed, ...errored]) messages[r.id] ??= r.message ?? '';
  const ids = (list: typeof results) => [...new Set(list.map((r) => r.id))].sort();
  return {
    failed: ids(failed),
    /** Ids with a failed instance (not only warnings). */
    failures: ids(results.filter((r) => r.status === 'failed')),
    errored: ids(errored),
    inconclusive: ids(results.filter((r) => r.status === 'inconclusive')),
    messages,
  };
}

export async function matrixRow(base: Target, table: DefectTable, profile: Profile, defect?: Defect): Promise<MatrixRow> {
  const expectation: Expectation = defect ? expectationFor(table, defect, profile.name) : [];
  const expected = Array.isArray(expectation) ? [...expectation].sort() : [];
  const documented = deviationsOf(table, profile.name);
  const seen = await failingChecks(base, profile, defect ? [defect] : []);
  const { errored, inconclusive, messages } = seen;
  // A documented deviation's warning is no catch; its check failing outright is.
  const failed = seen.failed.filter((id) => !documented.includes(id) || seen.failures.includes(id));
  const deviations = seen.failed.filter((id) => documented.includes(id) && !seen.failures.includes(id));
  const row: MatrixRow = {
    profile: profile.name,
    expected,
    failed,
    deviations,
    errored,
    inconclusive,
    messages,
    // The control row shows every documented deviation: the table cannot list one the mock does not show.
    ok: JSON.stringify(expected) === JSON.stringify(failed) && errored.length === 0 && (defect !== undefined || JSON.stringify(deviations) === JSON.stringify(documented)),
    ...(defect && { defect }),
    ...('notApplicable' in expectation && { notApplicable: expectation.notApplicable }),
    ...('gap' in expectation && { gap: expectation.gap }),
  };
  return row;
}

/**
 * The rows of the given jobs, `parallel` catalogue runs at a time: all at once would starve the
 * checks' own request timeouts on a busy machine (our side erroring, not the mock).
 */
export async function matrixRows(base: Target, table: DefectTable, jobs: readonly { profile: Profile; defect?: Defect }[], parallel = 4): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) rows[i] = await matrixRow(base, table, jobs[i]!.profile, jobs[i]!.defect);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return rows;
}
