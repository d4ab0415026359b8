/**
 * npm run conformance -- --target FILE [--only GROUP,...] [--report-dir DIR]
 * Loads and checks the target first (setup problems exit 2 with one line), then lets vitest run
 * the suites with the conformance reporter, which prints results and writes the reports.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';
import { EXIT, HELP, parseCli, UsageError, type CliOptions } from './cli/options.ts';
import { HarnessError } from '../suites/harness/errors.ts';
import { resolveTarget, type ConformanceConfig } from '../suites/runner/config.ts';
import { openEnvironment } from '../suites/runner/run.ts';
import { ConformanceReporter } from '../suites/runner/vitest-reporter.ts';
import { ProfileError } from '../mock-idp/profile/index.ts';
import type { Target } from '../suites/harness/target.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function setupFailure(message: string): never {
  process.stderr.write(`refresh-conformance: ${message.split('\n').join(' ')}\n`);
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

/** Everything that can be wrong before any check runs: the file, the profile, the issuer. */
async function preflight(config: ConformanceConfig): Promise<Target> {
  try {
    const target = await resolveTarget(config);
    const env = await openEnvironment(target);
    await env.shared?.close();
    return target;
  } catch (e) {
    if (e instanceof HarnessError || e instanceof ProfileError) setupFailure(e.message);
    throw e;
  }
}

async function runSuites(options: CliOptions): Promise<number> {
  const config: ConformanceConfig = {
    target: path.resolve(options.target),
    ...(options.profile && { profile: options.profile }),
    ...(options.transport && { transport: options.transport }),
    ...(options.groups && { groups: options.groups }),
    ...(options.checks && { only: options.checks }),
    ...(options.expectedFailures && { expectedFailures: await loadExpectedFailures(options.expectedFailures) }),
  };
  const target = await preflight(config);
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  process.stdout.write(`refresh-conformance: ${target.name} (profile ${target.profile.name}${target.kind === 'embedded' ? `, embedded mock over ${target.embedded.transport}` : `, ${target.issuer}`})\n\n`);
  const reporter = new ConformanceReporter({
    reportDir: path.resolve(options.reportDir),
    target: target.name,
    profile: target.profile.name,
    verbose: options.verbose,
    color,
  });
  const groupFiles = (options.groups ?? ['offline-access', 'rotation', 'expiry', 'sso', 'token-endpoint']).map((g) => `suites/${g}.test.ts`);
  const checkMs = target.clock.driver === 'real' ? target.clock.maxWaitSeconds * 4000 + target.timeouts.requestMs * 40 : target.timeouts.requestMs * 40;
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
      // Real-time waits of independent checks overlap: let them all run at once.
      maxConcurrency: 256,
      testTimeout: checkMs + 10_000,
      hookTimeout: 60_000,
      teardownTimeout: 10_000,
    },
    {},
    { stdout: process.stdout, stderr: process.stderr },
  );
  await vitest.close();
  const summary = reporter.report?.summary;
  if (!summary) return EXIT.failed;
  return summary.failed > 0 || reporter.problems.length > 0 ? EXIT.failed : EXIT.ok;
}

async function main(): Promise<number> {
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
  if (options.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (options.version) {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`refresh-conformance ${pkg.version}\n`);
    return EXIT.ok;
  }
  if (options.selfTest) {
    const { runSelfTest } = await import('./self-test.ts');
    return runSelfTest(options);
  }
  return runSuites(options);
}

process.exitCode = await main();
