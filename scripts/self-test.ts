/** npm run conformance -- --self-test: the defect × checks matrix, and whether every defect is caught as mapped. */
import { DEFECTS } from '../mock-idp/index.ts';
import { loadTarget } from '../suites/harness/target.ts';
import { loadDefectTable, loadMatrixProfiles, matrixJobs, matrixRows, type MatrixRow } from '../suites/runner/self-test.ts';
import { EXIT, type CliOptions } from './cli/options.ts';

export async function runSelfTest(_options: CliOptions): Promise<number> {
  const started = performance.now();
  // Every profile variant (the seeds and the derived ones: each value of each profile field), then
  // every library profile (fixtures/profiles/: the IdPs people run, as their vendors document them).
  const profiles = await loadMatrixProfiles();
  const table = await loadDefectTable(profiles);
  const base = await loadTarget(new URL('../fixtures/targets/mock.json', import.meta.url).pathname);
  const jobs = matrixJobs(profiles);
  const rows: MatrixRow[] = await matrixRows(base, table, jobs);

  const out = (l = '') => process.stdout.write(`${l}\n`);
  out('defect × profile → checks that failed or warned (✓ = exactly as mapped in fixtures/defects.json, none errored)');
  out('an errored or inconclusive check catches nothing');
  out();
  let caught = 0;
  let applicable = 0;
  let falsePositives = 0;
  const gaps: MatrixRow[] = [];
  for (const row of rows) {
    const name = row.defect ?? '(correct mock)';
    // A known gap is missed even when the row is as pinned: nothing caught the defect.
    const mark = row.ok && !row.gap ? '✓' : '✗';
    if (row.defect && !row.notApplicable) {
      applicable++;
      if (row.gap) gaps.push(row);
      else if (row.ok) caught++;
    }
    const unexpected = row.failed.filter((id) => !row.expected.includes(id));
    falsePositives += unexpected.length;
    const missed = row.expected.filter((id) => !row.failed.includes(id));
    const caughtBy = row.notApplicable
      ? `not applicable: ${row.notApplicable}`
      : row.gap
        ? `GAP, nothing catches it: ${row.gap}`
        : row.failed.join(', ') || '(nothing failed)';
    out(`${mark} ${row.profile.padEnd(33)} ${name.padEnd(42)} ${caughtBy}`);
    if (missed.length) out(`    missed: ${missed.join(', ')}`);
    if (unexpected.length) out(`    unexpected failures: ${unexpected.join(', ')}`);
    if (row.errored.length) out(`    errored (our side, catches nothing): ${row.errored.join(', ')}`);
    if (row.inconclusive.length) out(`    inconclusive: ${row.inconclusive.join(', ')}`);
    if (row.deviations.length) out(`    warned as the profile documents (a deviation from the standard, no catch): ${row.deviations.join(', ')}`);
  }
  out();
  out(`${profiles.length} profiles × (a control row + ${DEFECTS.length} defects) = ${rows.length} rows; ${rows.length - profiles.length - applicable} defect rows not applicable`);
  for (const row of gaps) out(`known gap: ${row.defect} under ${row.profile}: ${row.gap}`);
  out(`caught ${caught}/${applicable} defects, ${gaps.length} known gaps, ${falsePositives} false positives (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return caught === applicable && gaps.length === 0 && falsePositives === 0 && rows.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}
