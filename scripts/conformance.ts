/**
 * refresh-conformance [--target FILE] [--only GROUP,...] [--report-dir DIR] [--html FILE] ...
 * Loads and checks the target first (setup problems exit 2 with one line), then lets vitest run
 * the suites with the conformance reporter, which prints results and writes the reports:
 * report.json, junit.xml and report.html in --report-dir, plus any --json/--junit/--html copies.
 */
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_EXTENSION, packageInfo } from './cli/package-info.ts';
import { DEFAULT_TARGET, EXIT, exitCodeOf, groupsToRun, HELP, ignoredFlags, parseCli, unknownCheckIds, UsageError, useColor, type CliOptions } from './cli/options.ts';
import type { Report, ReportShard } from '../suites/harness/report/index.ts';
import { safeText } from '../suites/harness/safe-text.ts';
import type { HtmlOptions } from '../suites/harness/report/html.ts';
import type { ConformanceConfig } from '../suites/runner/config.ts';
import type { InstanceResult } from '../suites/runner/run.ts';
import type { Target } from '../suites/harness/target.ts';
import type { CheckInstance } from '../suites/runner/plan.ts';

// The harness loads only when there is something to run (--help and --version answer at once),
// vitest only once the target passed the preflight (a setup problem is reported sooner).
async function engine() {
  const [browser, errors, report, html, config, run, pipeline, profile, plan, checks, expected, record, target, redact, shard] = await Promise.all([
    import('../suites/harness/drivers/login/browser.ts'),
    import('../suites/harness/errors.ts'),
    import('../suites/harness/report/index.ts'),
    import('../suites/harness/report/html.ts'),
    import('../suites/runner/config.ts'),
    import('../suites/runner/run.ts'),
    import('../suites/runner/pipeline.ts'),
    import('../mock-idp/profile/index.ts'),
    import('../suites/runner/plan.ts'),
    import('../suites/checks/index.ts'),
    import('../suites/runner/expected.ts'),
    import('../suites/harness/record.ts'),
    import('../suites/harness/target.ts'),
    import('../suites/harness/redact.ts'),
    import('../suites/runner/shard.ts'),
  ]);
  return {
    checkBrowser: browser.checkBrowser,
    HarnessError: errors.HarnessError,
    buildReport: report.buildReport,
    redactArgv: report.redactArgv,
    Recorder: record.Recorder,
    targetSecrets: target.targetSecrets,
    useFingerprintKey: redact.useFingerprintKey,
    writeReports: report.writeReports,
    reportToJson: report.reportToJson,
    reportToJUnit: report.reportToJUnit,
    writeHtmlReport: html.writeHtmlReport,
    resolveTarget: config.resolveTarget,
    prepareRun: pipeline.prepareRun,
    checkTimeoutMs: run.checkTimeoutMs,
    PROGRESS_ENV: run.PROGRESS_ENV,
    ProfileError: profile.ProfileError,
    loadProfile: profile.loadProfile,
    describeChecks: plan.describeChecks,
    CHECKS: checks.CHECKS,
    unknownExpectedIds: expected.unknownExpectedIds,
    selectShard: shard.selectShard,
  };
}
type Engine = Awaited<ReturnType<typeof engine>>;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One line on stderr per option that will have no effect (cli/options.ts ignoredFlags). */
function warnIgnored(options: CliOptions, target?: Target): void {
  for (const w of ignoredFlags(options, target)) process.stderr.write(`refresh-conformance: warning: ${safeText(w)}\n`);
}

function setupFailure(message: string): never {
  process.stderr.write(`refresh-conformance: ${safeText(message.split('\n').join(' '))}\n`);
  process.exit(EXIT.setup);
}

async function loadExpectedFailures(file: string): Promise<ConformanceConfig['expectedFailures']> {
  let list: unknown;
  try {
    list = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    setupFailure(`--expected-failures ${file}: ${(e as Error).message}`);
  }
  const entries = Array.isArray(list) ? list : (list as { expectedFailures?: unknown })?.expectedFailures;
  if (!Array.isArray(entries) || !entries.every((e) => typeof e?.id === 'string' && typeof e?.reason === 'string')) {
    setupFailure(`--expected-failures ${file}: expected a list of { "id": string, "reason": string, "client"?: string }`);
  }
  return entries as NonNullable<ConformanceConfig['expectedFailures']>;
}

/**
 * Everything that can be wrong before any check runs: the file, the profile, the expected failures,
 * the issuer, the login driver's needs. Returns the target and the instances the run must report,
 * planned by the pipeline as the group files will plan them (pipeline.ts prepareRun). A problem found
 * after the target file was read still leaves reports, saying why.
 */
async function preflight(
  config: ConformanceConfig,
  e: Engine,
  onSetupError: (target: Target, reason: string) => Promise<void>,
): Promise<{ target: Target; planned: CheckInstance[] }> {
  const { resolveTarget, checkBrowser, prepareRun, HarnessError, ProfileError, CHECKS, unknownExpectedIds } = e;
  let target: Target;
  try {
    target = await resolveTarget(config);
  } catch (err) {
    if (err instanceof HarnessError || err instanceof ProfileError) setupFailure(err.message);
    throw err;
  }
  const unknown = unknownExpectedIds(target.expectedFailures, new Set(CHECKS.map((c) => c.id)));
  if (unknown.length) {
    setupFailure(`${target.origin}: expectedFailures name unknown check id(s) ${unknown.join(', ')}; --list-checks lists the ids`);
  }
  const fail = async (reason: string): Promise<never> => {
    await onSetupError(target, reason);
    setupFailure(reason);
  };
  try {
    if (target.login.driver === 'browser') await checkBrowser(target.login.executablePath);
    if (target.login.driver === 'manual' && !hasTerminal()) {
      await fail('login driver "manual" needs a person at a terminal, but there is none (stdin is not a TTY); in CI use the form or browser driver');
    }
    const run = await prepareRun(target, { ...(config.groups && { groups: config.groups }), ...(config.only && { only: config.only }) });
    await run.close();
    return { target, planned: run.plan };
  } catch (err) {
    if (err instanceof HarnessError || err instanceof ProfileError) return fail(err.message);
    throw err;
  }
}

/**
 * The report directory (and the directories of the --json/--junit/--html copies) must take files
 * before anything runs: one line and exit 2 otherwise, never a stack trace after the run.
 */
async function verifyWritable(options: CliOptions): Promise<void> {
  const dirs = [options.reportDir, ...[options.json, options.junit, options.html].filter((f): f is string => f !== undefined).map((f) => path.dirname(f))];
  for (const dir of new Set(dirs.map((d) => path.resolve(d)))) {
    const probe = path.join(dir, `.refresh-conformance-probe-${process.pid}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (err) {
      setupFailure(`cannot write reports to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}${(err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? ' (a file is in the way)' : ''}`);
    }
  }
  for (const file of [options.json, options.junit, options.html]) {
    if (file && (await stat(file).catch(() => undefined))?.isDirectory()) setupFailure(`cannot write ${path.resolve(file)}: it is a directory`);
  }
}

/** The manual driver asks on stdin, or on the controlling terminal when stdin is a pipe. */
function hasTerminal(): boolean {
  if (process.stdin.isTTY) return true;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** Writes the HTML report and the --json/--junit/--html copies; returns their paths. */
async function writeOutputs(
  { writeHtmlReport, reportToJson, reportToJUnit }: Engine,
  options: CliOptions,
  target: Target,
  report: Report,
  results: InstanceResult[],
  version: string,
): Promise<string[]> {
  const html: HtmlOptions = {
    profile: target.profile,
    generator: `refresh-conformance ${version}`,
    subtitle: target.kind === 'embedded' ? `embedded mock IdP over ${target.embedded.transport}` : `issuer ${target.issuer}`,
  };
  // report.checks are the results in the same order; the timelines come from the results.
  const withTimelines = { ...report, checks: report.checks.map((c, i) => ({ ...c, timeline: results[i]?.timeline ?? [] })) };
  const written = [await writeHtmlReport(path.resolve(options.reportDir, 'report.html'), withTimelines, html)];
  const copies: Array<[string | undefined, () => string]> = [
    [options.json, () => reportToJson(report)],
    [options.junit, () => reportToJUnit(report)],
  ];
  for (const [file, text] of copies) {
    if (!file) continue;
    const to = path.resolve(file);
    await mkdir(path.dirname(to), { recursive: true });
    await writeFile(to, text(), 'utf8');
    written.push(to);
  }
  if (options.html) written.push(await writeHtmlReport(path.resolve(options.html), withTimelines, html));
  return written;
}

/** --list-checks: one tab-separated line per check (id, group, title, clause, level), for the target's or the default profile. */
async function listChecks(options: CliOptions): Promise<number> {
  const e = await engine();
  let profile;
  try {
    profile = options.profile
      ? await e.loadProfile(options.profile)
      : (await e.resolveTarget({ target: options.target ? path.resolve(options.target) : path.join(ROOT, DEFAULT_TARGET) })).profile;
  } catch (err) {
    if (err instanceof e.HarnessError || err instanceof e.ProfileError) setupFailure(err.message);
    throw err;
  }
  const clean = (text: string) => text.replace(/[\t\n]+/g, ' ');
  const lines = ['id\tgroup\ttitle\tclause\tlevel', ...e.describeChecks(profile).map((c) => [c.id, c.group, c.title, c.clause, c.level].map(clean).join('\t'))];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** --list-profiles: one tab-separated line per built-in profile (name, title, policies). */
async function listProfiles(): Promise<number> {
  const { listProfiles, ProfileError } = await import('../mock-idp/profile/index.ts');
  try {
    process.stdout.write(await listProfiles());
  } catch (err) {
    if (err instanceof ProfileError) setupFailure(err.message);
    throw err;
  }
  return EXIT.ok;
}

async function runSuites(options: CliOptions, version: string): Promise<number> {
  const e = await engine();
  // The run's key of fingerprints, the workers' too (config.secrets): one marker per value in the whole run.
  const fingerprintKey = randomBytes(32);
  e.useFingerprintKey(fingerprintKey);
  const known = new Set(e.CHECKS.map((c) => c.id));
  const unknown = unknownCheckIds(options.checks ?? [], known);
  if (unknown.length) setupFailure(`--check: unknown check id(s) ${unknown.join(', ')}; --list-checks lists the ids`);
  const groups = groupsToRun(options);
  if (!e.CHECKS.some((c) => groups.includes(c.group) && (!options.checks || options.checks.includes(c.id)))) {
    setupFailure(`the selection (--only ${groups.join(',')}${options.checks ? ` --check ${options.checks.join(',')}` : ''}) matches no check`);
  }
  await verifyWritable(options);
  const extraExpected = options.expectedFailures ? await loadExpectedFailures(options.expectedFailures) : undefined;
  const unknownExpected = e.unknownExpectedIds(extraExpected ?? [], known);
  if (unknownExpected.length) setupFailure(`--expected-failures ${options.expectedFailures}: unknown check id(s) ${unknownExpected.join(', ')}; --list-checks lists the ids`);
  const config: ConformanceConfig = {
    target: options.target ? path.resolve(options.target) : path.join(ROOT, DEFAULT_TARGET),
    ...(options.profile && { profile: options.profile }),
    ...(options.transport && { transport: options.transport }),
    ...(options.groups && { groups: options.groups }),
    ...(options.checks && { only: options.checks }),
    ...(options.strict && { strict: true }),
    ...(extraExpected && { expectedFailures: extraExpected }),
  };
  const started = new Date();
  // What report.json keeps of the run besides its checks; the command line with the target's secrets hidden.
  const metaOf = (target: Target) => ({
    issuer: target.kind === 'remote' ? target.issuer : null,
    argv: e.redactArgv(process.argv.slice(2), (text) => e.Recorder.of(e.targetSecrets(target)).redact(text)),
    defects: config.defects ?? [],
    tool: { name: 'refresh-conformance', version },
  });
  const writeSetupError = async (target: Target, reason: string, shard?: ReportShard) => {
    const report = e.buildReport({ target: target.name, profile: target.profile.name, startedAt: started, durationMs: Date.now() - started.getTime(), checks: [], setupError: reason, ...metaOf(target), ...(shard && { shard }) });
    await e.writeReports(path.resolve(options.reportDir), report);
    await writeOutputs(e, options, target, report, [], version);
  };
  const preflighted = await preflight(config, e, writeSetupError);
  const { target } = preflighted;
  let planned = preflighted.planned;
  warnIgnored(options, target);
  // --shard: this part's instances, dealt from the whole plan the same way on every machine (shard.ts);
  // the workers run exactly these (config.instances). A part with nothing to run is no green run.
  let shard: ReportShard | undefined;
  if (options.shard) {
    const part = e.selectShard(planned, options.shard);
    shard = part.shard;
    if (part.selected.length === 0) {
      const reason = `--shard ${shard.index}/${shard.count}: the selection plans ${shard.planned} check instance(s), so part ${shard.index} of ${shard.count} gets none and would check nothing; use at most ${shard.planned} shard(s)`;
      await writeSetupError(target, reason, shard);
      setupFailure(reason);
    }
    planned = part.selected;
    config.instances = planned.map((instance) => instance.name);
  }
  // The run's one deadline, which every group file's pipeline shares. Any planned instance left without
  // a result (a group file that failed to load) is reported errored by the reporter.
  config.deadlineMs = Date.now() + target.timeouts.runMs;
  const [{ startVitest }, { ConformanceReporter }, { serveLimiter }, { serveSecretChannel }] = await Promise.all([
    import('vitest/node'),
    import('../suites/runner/vitest-reporter.ts'),
    import('../suites/runner/limiter.ts'),
    import('../suites/runner/secret-channel.ts'),
  ]);
  // One cap on the checks working at once, across every worker process (limiter.ts); a check
  // waiting on the real clock holds no slot, so waits overlap whatever the cap.
  const concurrency = options.concurrency ?? target.concurrency ?? availableParallelism();
  const slots = await serveLimiter(concurrency);
  config.limiterPort = slots.port;
  const color = useColor(process.env, Boolean(process.stdout.isTTY));
  process.stdout.write(
    `refresh-conformance: ${target.name} (profile ${target.profile.name}${target.kind === 'embedded' ? `, embedded mock over ${target.embedded.transport}` : `, ${target.issuer}`})\n` +
      (shard ? `shard ${shard.index}/${shard.count}: ${shard.instances} of ${shard.planned} planned check instances\n\n` : '\n'),
  );
  const reporter = new ConformanceReporter({
    reportDir: path.resolve(options.reportDir),
    target: target.name,
    profile: target.profile.name,
    verbose: options.verbose,
    color,
    strict: options.strict,
    planned,
    meta: { ...metaOf(target), ...(shard && { shard }) },
    secrets: e.targetSecrets(target),
    extraOutputs: (report, results) => writeOutputs(e, options, target, report, results, version),
  });
  // Every worker sends the secrets it learns to the reporter, which seals what is printed and written.
  const secretChannel = await serveSecretChannel((value, label) => reporter.learn(value, label));
  config.secrets = { port: secretChannel.port, token: secretChannel.token, fingerprintKey: fingerprintKey.toString('base64url') };
  // A shard starts only the group files it has instances in.
  const groupFiles = groups.filter((g) => !shard || planned.some((i) => i.check.group === g)).map((g) => `suites/${g}.test${CODE_EXTENSION}`);
  const checkMs = e.checkTimeoutMs(target);
  // A person answers the manual driver's prompts one at a time: one check at a time.
  const oneAtATime = target.login.driver === 'manual';
  const sharedMockClock = target.kind === 'remote' && target.clock.driver === 'mock';
  try {
    const vitest = await startVitest(
      'test',
      [],
      {
        config: false,
        root: ROOT,
        include: groupFiles,
        watch: false,
        reporters: [reporter],
        provide: { conformance: config },
        // The workers print their real-time waits (run.ts printWaitProgress).
        env: { [e.PROGRESS_ENV]: '1' },
        // Real-time waits of independent checks overlap: let them all run at once, across group files
        // too (one worker per file: waiting costs no CPU); the slot server above still caps the checks
        // doing work at `concurrency` across all workers. A running mock's shared clock is the opposite:
        // one check moving it would disturb another, so files and checks run one after another.
        maxConcurrency: oneAtATime || sharedMockClock ? 1 : 256,
        ...((oneAtATime || sharedMockClock) && { fileParallelism: false }),
        ...(target.clock.driver === 'real' && !oneAtATime && { maxWorkers: groupFiles.length }),
        // The group files share one module graph: half the start-up time of isolated workers.
        isolate: false,
        // A check may queue for a slot before its own limit starts; the run's deadline bounds the queue.
        testTimeout: (oneAtATime ? 30 * 60_000 : 0) + Math.max(checkMs, target.timeouts.runMs) + 10_000,
        hookTimeout: 60_000,
        teardownTimeout: 10_000,
      },
      {},
      { stdout: process.stdout, stderr: process.stderr },
    );
    await vitest.close();
  } finally {
    await Promise.all([slots.close(), secretChannel.close()]);
  }
  const summary = reporter.report?.summary;
  if (!summary) return EXIT.errored;
  return exitCodeOf(summary, { strict: options.strict, problems: reporter.problems.length });
}

async function main(): Promise<number> {
  if (process.argv[2] === 'observe') {
    const { observeMain } = await import('./observe.ts');
    return observeMain(process.argv.slice(3));
  }
  if (process.argv[2] === 'merge-reports') {
    const { mergeReportsMain } = await import('./merge-reports.ts');
    return mergeReportsMain(process.argv.slice(3));
  }
  let options: CliOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`refresh-conformance: ${e.message}\nRun with --help for usage.\n`);
      return EXIT.setup;
    }
    throw e;
  }
  warnIgnored(options);
  if (options.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const pkg = await packageInfo();
  if (options.version) {
    process.stdout.write(`refresh-conformance ${pkg.version}\n`);
    return EXIT.ok;
  }
  if (options.listChecks) return listChecks(options);
  if (options.listProfiles) return listProfiles();
  if (options.selfTest) {
    const { runSelfTest } = await import('./self-test.ts');
    return runSelfTest(options);
  }
  return runSuites(options, pkg.version);
}

process.exitCode = await main();
