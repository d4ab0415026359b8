/** report.json: pure functions from check results to the report and its text (types.ts is its schema). */
import { toolInfo } from './tool.ts';
import { REPORT_SCHEMA_VERSION, type CheckResult, type CheckStatus, type Report, type ReportShard, type ReportSummary } from './types.ts';

export interface BuildReportInput {
  target: string;
  profile: string;
  startedAt: Date | string;
  durationMs: number;
  checks: readonly CheckResult[];
  /** Which checks keep their exchanges: default `failed` (failed, warning, errored and expected-failure). */
  exchanges?: 'all' | 'failed' | 'none';
  strict?: boolean;
  setupError?: string;
  /** The remote target's issuer; null (default) for the embedded mock. */
  issuer?: string | null;
  /** Default: startedAt + durationMs. */
  finishedAt?: Date | string;
  /** The command line's arguments, already redacted (redactArgv); default none. */
  argv?: readonly string[];
  /** Seeded defects the embedded mock served; default none. */
  defects?: readonly string[];
  /** Default: this package (tool.ts). */
  tool?: { name: string; version: string };
  /** Default: process.version. */
  node?: string;
  /** Errors of the run itself (not of a check); default none. */
  runErrors?: readonly string[];
  /** --shard: which part of the run this is. */
  shard?: ReportShard;
  /** merge-reports: the shards this report joins. */
  merged?: Report['merged'];
}

const SUMMARY_KEY: Record<CheckStatus, keyof ReportSummary> = {
  passed: 'passed',
  failed: 'failed',
  warning: 'warnings',
  errored: 'errored',
  skipped: 'skipped',
  inconclusive: 'inconclusive',
  'expected-failure': 'expectedFailures',
};

/** Statuses whose exchanges a report keeps by default: the ones a reader must be able to retrace. */
const WITH_EXCHANGES: ReadonlySet<CheckStatus> = new Set(['failed', 'warning', 'errored', 'expected-failure']);

export function summarize(checks: readonly CheckResult[]): ReportSummary {
  const summary: ReportSummary = { passed: 0, failed: 0, warnings: 0, errored: 0, skipped: 0, inconclusive: 0, expectedFailures: 0 };
  for (const c of checks) summary[SUMMARY_KEY[c.status]]++;
  return summary;
}

/**
 * The summary line of the terminal (CI greps it; the README documents it): every status with its
 * count, always in this order, e.g. `80 passed, 1 failed, 2 warnings, 0 errored, 60 skipped, 3 inconclusive, 0 expected failures`.
 */
export function summaryLine(s: ReportSummary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings, ${s.errored} errored, ${s.skipped} skipped, ${s.inconclusive} inconclusive, ${s.expectedFailures} expected failures`;
}

export function buildReport(input: BuildReportInput): Report {
  const keep = input.exchanges ?? 'failed';
  const checks = input.checks.map((c): CheckResult => {
    const { exchanges, ...rest } = c;
    const wanted = keep === 'all' || (keep === 'failed' && WITH_EXCHANGES.has(c.status));
    return wanted && exchanges?.length ? { ...rest, exchanges: [...exchanges] } : rest;
  });
  const startedAt = typeof input.startedAt === 'string' ? input.startedAt : input.startedAt.toISOString();
  const finished = input.finishedAt ?? new Date((Date.parse(startedAt) || Date.now()) + input.durationMs);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: input.tool ?? toolInfo(),
    target: input.target,
    profile: input.profile,
    issuer: input.issuer ?? null,
    startedAt,
    finishedAt: typeof finished === 'string' ? finished : finished.toISOString(),
    durationMs: Math.round(input.durationMs),
    node: input.node ?? process.version,
    argv: [...(input.argv ?? [])],
    defects: [...(input.defects ?? [])],
    summary: summarize(checks),
    ...(input.strict && { strict: true }),
    ...(input.setupError !== undefined && { setupError: input.setupError }),
    ...(input.runErrors?.length && { runErrors: [...input.runErrors] }),
    ...(input.shard && { shard: { ...input.shard } }),
    ...(input.merged && { merged: input.merged }),
    checks,
  };
}

/**
 * A command line as a report may keep it: a value following a flag whose name says secret (`--admin-token X`,
 * `--password=X`), and every known secret anywhere, replaced by `redact` (the run's recorder, say).
 */
export function redactArgv(argv: readonly string[], redact: (text: string) => string = (t) => t): string[] {
  const SECRET_FLAG = /^--?[\w-]*(token|secret|password|passwd|key|credential)[\w-]*$/i;
  return argv.map((arg, i) => {
    const eq = /^(--?[\w-]+)=/.exec(arg);
    if (eq && SECRET_FLAG.test(eq[1]!)) return `${eq[1]}=[redacted]`;
    if (i > 0 && SECRET_FLAG.test(argv[i - 1]!) && !arg.startsWith('-')) return '[redacted]';
    return redact(arg);
  });
}

/** The content of report.json. */
export function reportToJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
