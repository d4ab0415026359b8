/** npm run conformance -- --self-test: the defect × checks matrix, and whether every defect is caught as mapped. */
import { loadVariants } from '../mock-idp/profile/variants.ts';
import { loadTarget } from '../suites/harness/target.ts';
import { loadDefectTable, matrixJobs, matrixRows, type MatrixRow } from '../suites/runner/self-test.ts';
import { EXIT, type CliOptions } from './cli/options.ts';

export async function runSelfTest(_options: CliOptions): Promise<number> {
  const started = performance.now();
  // Every profile variant (the seeds and the derived ones): each value of each profile field.
  const profiles = await loadVariants();
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
  for (const row of rows) {
    const name = row.defect ?? '(correct mock)';
    const mark = row.ok ? '✓' : '✗';
    if (row.defect && !row.notApplicable) {
      applicable++;
      if (row.ok) caught++;
    }
    const unexpected = row.failed.filter((id) => !row.expected.includes(id));
    falsePositives += unexpected.length;
    const missed = row.expected.filter((id) => !row.failed.includes(id));
    const caughtBy = row.notApplicable ? `not applicable: ${row.notApplicable}` : row.failed.join(', ') || '(nothing failed)';
    out(`${mark} ${row.profile.padEnd(33)} ${name.padEnd(42)} ${caughtBy}`);
    if (missed.length) out(`    missed: ${missed.join(', ')}`);
    if (unexpected.length) out(`    unexpected failures: ${unexpected.join(', ')}`);
    if (row.errored.length) out(`    errored (our side, catches nothing): ${row.errored.join(', ')}`);
    if (row.inconclusive.length) out(`    inconclusive: ${row.inconclusive.join(', ')}`);
    if (row.deviations.length) out(`    warned as the profile documents (a deviation from the standard, no catch): ${row.deviations.join(', ')}`);
  }
  out();
  out(`caught ${caught}/${applicable} defects, ${falsePositives} false positives (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return caught === applicable && falsePositives === 0 && rows.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}
