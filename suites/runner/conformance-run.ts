/**
 * The runner API without vitest: load a target, run the catalogue through the run pipeline (the
 * same pipeline the CLI's group files use), apply the expected failures, build the report; and
 * write report.json, junit.xml and report.html. For programs that embed the harness (the package's
 * main export); the CLI keeps vitest as its engine for scheduling and terminal output.
 */
import path from 'node:path';
import { buildReport, writeReports, type Report } from '../harness/report/index.ts';
import { writeHtmlReport, type HtmlOptions } from '../harness/report/html.ts';
import type { ExpectedFailure, Target } from '../harness/target.ts';
import type { Group } from '../checks/types.ts';
import type { Defect } from '../../mock-idp/index.ts';
import { resolveTarget } from './config.ts';
import { stopEmbeddedMsw } from './embedded.ts';
import { applyExpectations } from './expected.ts';
import { prepareRun } from './pipeline.ts';
import type { InstanceResult, WaitProgress } from './run.ts';

export interface ConformanceRunOptions {
  /** A target file (JSON, `${VAR}` substituted from process.env) or a target already loaded (loadTarget, parseTarget). */
  target: string | Target;
  /** Embedded mock only: serve and check this profile (a name or a profile file) instead of the target's. */
  profile?: string;
  /** Embedded mock only: in-process msw, a loopback HTTP server, or the handler called directly. */
  transport?: 'msw' | 'http' | 'direct';
  groups?: Group[];
  /** Check ids to run (default: all of the selected groups). */
  only?: string[];
  /** Warnings fail the run, and an expected-failure entry may cover a warning. */
  strict?: boolean;
  /** More expected failures, besides the target's own. */
  expectedFailures?: ExpectedFailure[];
  /** Embedded mock only: seeded defects (see DEFECTS), to see the checks catch them. */
  defects?: Defect[];
  /** Checks working at once (default: all for the embedded mock, one for a shared mock clock). */
  concurrency?: number;
  /** Aborts the run; checks under way end errored, the rest are not started. */
  signal?: AbortSignal;
  /** Each result as it is ready. */
  onResult?: (result: InstanceResult) => void;
  /** Progress of real-time waits (clock driver "real"). */
  onWait?: (name: string, progress: WaitProgress) => void;
}

export interface ConformanceRun {
  target: Target;
  /** What report.json holds (results without their timelines). */
  report: Report;
  /** The results in plan order, with their timelines (the HTML report draws them). */
  results: InstanceResult[];
}

async function targetOf(options: ConformanceRunOptions): Promise<Target> {
  const config = {
    ...(options.profile && { profile: options.profile }),
    ...(options.transport && { transport: options.transport }),
    ...(options.expectedFailures && { expectedFailures: options.expectedFailures }),
  };
  if (typeof options.target === 'string') return resolveTarget({ target: path.resolve(options.target), ...config });
  if (options.profile || options.transport) throw new TypeError('profile and transport apply to a target file; set them on the loaded target instead');
  return { ...options.target, expectedFailures: [...options.target.expectedFailures, ...(options.expectedFailures ?? [])] };
}

/**
 * Runs the catalogue against a target and returns the report. A target that cannot be loaded or
 * reached rejects with a HarnessError (SetupError, TargetError) or ProfileError; once checks run, the
 * outcome of each is a result, never an exception.
 */
export async function runConformance(options: ConformanceRunOptions): Promise<ConformanceRun> {
  const target = await targetOf(options);
  const started = new Date();
  const run = await prepareRun(target, {
    ...(options.groups && { groups: options.groups }),
    ...(options.only && { only: options.only }),
    ...(options.defects && { defects: options.defects }),
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.signal && { signal: options.signal }),
    ...(options.onWait && { onWait: options.onWait }),
    ...(options.onResult && { onResult: (r: InstanceResult) => options.onResult!(applyExpectations(r, target.expectedFailures, options.strict)) }),
  });
  let results: InstanceResult[];
  try {
    results = await run.runAll();
  } finally {
    await run.close();
    // The in-process interception belongs to the run: leave the caller's fetch as it was.
    stopEmbeddedMsw();
  }
  results = results.map((r) => applyExpectations(r, target.expectedFailures, options.strict));
  const report = buildReport({
    target: target.name,
    profile: target.profile.name,
    startedAt: started,
    durationMs: Date.now() - started.getTime(),
    checks: results.map(({ timeline: _timeline, ...check }) => check),
    ...(options.strict && { strict: true }),
  });
  return { target, report, results };
}

/** Writes report.json, junit.xml and report.html into `dir` (created if needed); returns their paths. */
export async function writeRunReports(dir: string, run: ConformanceRun, html: HtmlOptions = {}): Promise<{ json: string; junit: string; html: string }> {
  const written = await writeReports(dir, run.report);
  const withTimelines = { ...run.report, checks: run.report.checks.map((c, i) => ({ ...c, timeline: run.results[i]?.timeline ?? [] })) };
  const subtitle = run.target.kind === 'embedded' ? `embedded mock IdP over ${run.target.embedded.transport}` : `issuer ${run.target.issuer}`;
  const file = await writeHtmlReport(path.join(dir, 'report.html'), withTimelines, { profile: run.target.profile, subtitle, ...html });
  return { ...written, html: file };
}
