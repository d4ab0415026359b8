/**
 * The conformance reporter: prints one line per check as it finishes, then writes report.json
 * and junit.xml, whatever happened during the run (a crashed file still leaves a report).
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { CHECKS, GROUPS } from '../checks/index.ts';
import { buildReport, writeReports, type Report } from '../harness/report/index.ts';
import type { InstanceResult } from './run.ts';
import { safeText } from '../harness/safe-text.ts';

export interface ConformanceReporterOptions {
  reportDir: string;
  target: string;
  profile: string;
  verbose?: boolean;
  color?: boolean;
  out?: (line: string) => void;
  /** Extra outputs (HTML), given the finished report. */
  extraOutputs?: (report: Report, results: InstanceResult[]) => Promise<string[]>;
}

const order = new Map(CHECKS.map((c, i) => [c.id, GROUPS.indexOf(c.group) * 1000 + i]));

export class ConformanceReporter implements Reporter {
  readonly results: InstanceResult[] = [];
  readonly problems: string[] = [];
  report: Report | undefined;
  readonly #started = new Date();
  readonly #out: (line: string) => void;

  constructor(private readonly options: ConformanceReporterOptions) {
    this.#out = options.out ?? ((line) => process.stdout.write(`${line}\n`));
  }

  #paint(code: number, text: string): string {
    return this.options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  onTestCaseResult(testCase: TestCase): void {
    const r = testCase.meta().conformance;
    if (!r) {
      const state = testCase.result().state;
      if (state === 'failed') this.problems.push(`${testCase.fullName}: ${testCase.result().errors?.[0]?.message ?? 'failed'}`);
      return;
    }
    this.results.push(r);
    const name = `${r.id} [${r.client}]`;
    if (r.status === 'passed') this.#out(`${this.#paint(32, '✓')} ${name}${r.message ? `  (${r.message})` : ''}`);
    else if (r.status === 'failed') this.#out(`${this.#paint(31, '✗')} ${name}\n${indent(r.message ?? '')}`);
    else if (r.status === 'expected-failure') this.#out(`${this.#paint(33, '≈')} ${name}  (expected failure)`);
    else if (this.options.verbose) this.#out(`${this.#paint(90, '-')} ${name}  (skipped: ${r.message})`);
  }

  async onTestRunEnd(_modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<{ message?: string }>): Promise<void> {
    for (const e of errors) this.problems.push(e.message ?? 'unhandled error');
    const checks = [...this.results].sort(
      (a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0) || (a.client ?? '').localeCompare(b.client ?? ''),
    );
    const report = buildReport({
      target: this.options.target,
      profile: this.options.profile,
      startedAt: this.#started,
      durationMs: Date.now() - this.#started.getTime(),
      checks,
    });
    this.report = report;
    const written = await writeReports(this.options.reportDir, report);
    const extra = (await this.options.extraOutputs?.(report, checks)) ?? [];
    const s = report.summary;
    for (const p of this.problems) this.#out(`${this.#paint(31, 'error:')} ${safeText(p)}`);
    this.#out('');
    this.#out(
      `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped` +
        (s.expectedFailures ? `, ${s.expectedFailures} expected failures` : '') +
        ` (${(report.durationMs / 1000).toFixed(1)} s)`,
    );
    this.#out(`reports: ${[written.json, written.junit, ...extra].join(', ')}`);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
