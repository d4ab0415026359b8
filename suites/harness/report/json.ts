/** report.json: pure functions from check results to the report and its text. */
import type { CheckResult, Report, ReportSummary } from './types.ts';

export interface BuildReportInput {
  target: string;
  profile: string;
  startedAt: Date | string;
  durationMs: number;
  checks: readonly CheckResult[];
  /** Which checks keep their exchanges: default `failed` (failed and expected-failure). */
  exchanges?: 'all' | 'failed' | 'none';
}

export function summarize(checks: readonly CheckResult[]): ReportSummary {
  const summary: ReportSummary = { passed: 0, failed: 0, skipped: 0, expectedFailures: 0 };
  for (const c of checks) {
    if (c.status === 'passed') summary.passed++;
    else if (c.status === 'failed') summary.failed++;
    else if (c.status === 'skipped') summary.skipped++;
    else summary.expectedFailures++;
  }
  return summary;
}

export function buildReport(input: BuildReportInput): Report {
  const keep = input.exchanges ?? 'failed';
  const checks = input.checks.map((c): CheckResult => {
    const { exchanges, ...rest } = c;
    const wanted = keep === 'all' || (keep === 'failed' && (c.status === 'failed' || c.status === 'expected-failure'));
    return wanted && exchanges?.length ? { ...rest, exchanges: [...exchanges] } : rest;
  });
  return {
    target: input.target,
    profile: input.profile,
    startedAt: typeof input.startedAt === 'string' ? input.startedAt : input.startedAt.toISOString(),
    durationMs: Math.round(input.durationMs),
    summary: summarize(checks),
    checks,
  };
}

/** The content of report.json. */
export function reportToJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
