/**
 * The conformance reporter: prints one line per check as it finishes, then writes report.json
 * and junit.xml, whatever happened during the run (a crashed file still leaves a report). Every
 * planned check instance is accounted for: one without a result (its group file failed to load,
 * vitest stopped it) is reported as errored, saying why.
 */
import path from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { CHECKS, GROUPS } from '../checks/index.ts';
import { buildReport, summaryLine, writeReports, type BuildReportInput, type CheckResult, type Report } from '../harness/report/index.ts';
import { notReported, type InstanceResult } from './run.ts';
import type { CheckInstance } from './plan.ts';
import { safeText } from '../harness/safe-text.ts';
import { Recorder, sealResult } from '../harness/record.ts';

export interface ConformanceReporterOptions {
  reportDir: string;
  target: string;
  profile: string;
  verbose?: boolean;
  color?: boolean;
  /** --strict: warnings fail the run. */
  strict?: boolean;
  /** The instances the run must report (computed by the CLI process); any missing is errored. */
  planned?: readonly CheckInstance[];
  out?: (line: string) => void;
  /** What report.json says of the run besides its checks: issuer, redacted command line, defects, tool. */
  meta?: Pick<BuildReportInput, 'issuer' | 'argv' | 'defects' | 'tool' | 'shard'>;
  /** The secrets the CLI process knows from the start (the target's); the workers send theirs (`learn`). */
  secrets?: Iterable<{ value: string; label: string }>;
  /** Extra outputs (HTML), given the finished report. */
  extraOutputs?: (report: Report, results: InstanceResult[]) => Promise<string[]>;
}

const order = new Map(CHECKS.map((c, i) => [c.id, GROUPS.indexOf(c.group) * 1000 + i]));

/** The order of a report's checks: the catalogue's (group, then check), then client; merge-reports keeps it. */
export function catalogueOrder(a: Pick<CheckResult, 'id' | 'client'>, b: Pick<CheckResult, 'id' | 'client'>): number {
  return (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0) || (a.client ?? '').localeCompare(b.client ?? '');
}

export class ConformanceReporter implements Reporter {
  readonly results: InstanceResult[] = [];
  readonly problems: string[] = [];
  report: Report | undefined;
  readonly #started = new Date();
  readonly #out: (line: string) => void;
  /** Tests that ended without a result (vitest's own error, e.g. its test timeout), by test name. */
  readonly #noResult = new Map<string, string>();

  /**
   * Seals every result again before it is printed or written: a worker seals with the secrets it knows, and
   * a target may echo in one worker's answer a value another worker handled (secret-channel.ts).
   */
  readonly #sealer: Recorder;

  constructor(private readonly options: ConformanceReporterOptions) {
    this.#out = options.out ?? ((line) => process.stdout.write(`${line}\n`));
    this.#sealer = Recorder.of(options.secrets ?? []);
  }

  /** A secret a worker learnt (the secret channel's `learn`). */
  learn(value: string, label: string): void {
    this.#sealer.addSecret(value, label);
  }

  #paint(code: number, text: string): string {
    return this.options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  onTestCaseResult(testCase: TestCase): void {
    const r = testCase.meta().conformance;
    if (!r) {
      const result = testCase.result();
      if (result.state === 'failed') {
        const message = this.#sealer.seal(result.errors?.[0]?.message ?? 'failed');
        this.#noResult.set(testCase.name, message);
        this.problems.push(`${testCase.fullName}: ${message}`);
      }
      return;
    }
    this.#print(r);
  }

  #print(given: InstanceResult): void {
    const r = sealResult(given, this.#sealer);
    this.results.push(r);
    const name = `${r.id} [${r.client}]`;
    const level = r.level === 'MUST' ? '' : `  (${r.level})`;
    if (r.status === 'passed') this.#out(`${this.#paint(32, '✓')} ${name}${r.message ? `  (${r.message})` : ''}`);
    else if (r.status === 'failed') this.#out(`${this.#paint(31, '✗')} ${name}${level}\n${indent(r.message ?? '')}`);
    else if (r.status === 'warning') this.#out(`${this.#paint(33, '!')} ${name}  (warning, ${r.level}${this.options.strict ? ', fails the run under --strict' : ''})\n${indent(r.message ?? '')}`);
    else if (r.status === 'errored') this.#out(`${this.#paint(35, 'E')} ${name}  (errored: not a verdict on the IdP)\n${indent(r.message ?? '')}`);
    else if (r.status === 'inconclusive') this.#out(`${this.#paint(36, '?')} ${name}  (inconclusive: ${r.message})`);
    else if (r.status === 'expected-failure') this.#out(`${this.#paint(33, '≈')} ${name}  (expected failure)`);
    else if (this.options.verbose) this.#out(`${this.#paint(90, '-')} ${name}  (skipped: ${r.message})`);
  }

  /** Errored results for the planned instances nobody reported, naming why where vitest knows. */
  #missing(modules: ReadonlyArray<TestModule>): void {
    const reported = new Set(this.results.map((r) => `${r.id} [${r.client}]`));
    const loadErrors = new Map<string, string>();
    for (const m of modules) {
      const errors = m.errors();
      if (errors.length) loadErrors.set(path.basename(m.moduleId), errors.map((e) => e.message ?? String(e)).join('; '));
    }
    for (const instance of this.options.planned ?? []) {
      if (reported.has(instance.name)) continue;
      const file = `${instance.check.group}.test.ts`;
      const loadError = loadErrors.get(file);
      const why = loadError
        ? `the group file suites/${file} failed to load: ${loadError}`
        : this.#noResult.has(instance.name)
          ? `vitest ended the test without a result: ${this.#noResult.get(instance.name)}`
          : `the run ended without a result for it`;
      this.#print(notReported(instance, why));
    }
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<{ message?: string }>): Promise<void> {
    for (const e of errors) this.problems.push(this.#sealer.seal(e.message ?? 'unhandled error'));
    this.#missing(modules);
    // Sealed again with every secret of the run: one a worker learnt late may be in a result printed earlier.
    const checks = this.results.map((r) => sealResult(r, this.#sealer)).sort(catalogueOrder);
    const report = buildReport({
      target: this.options.target,
      profile: this.options.profile,
      startedAt: this.#started,
      durationMs: Date.now() - this.#started.getTime(),
      checks,
      ...this.options.meta,
      ...(this.options.strict && { strict: true }),
      // Sealed again, like the results: the run's errors are what `problems` printed, and they decide exit code 3.
      runErrors: this.problems.map((p) => this.#sealer.seal(p)),
    });
    this.report = report;
    const written = await writeReports(this.options.reportDir, report);
    const extra = (await this.options.extraOutputs?.(report, checks)) ?? [];
    for (const p of this.problems) this.#out(`${this.#paint(31, 'error:')} ${safeText(p)}`);
    this.#out('');
    const strict = this.options.strict ? '; --strict: warnings fail the run' : '';
    this.#out(`${summaryLine(report.summary)} (${(report.durationMs / 1000).toFixed(1)} s${strict})`);
    this.#out(`reports: ${[written.json, written.junit, ...extra].join(', ')}`);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
