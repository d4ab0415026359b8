/** Command-line options of `refresh-conformance` / `npm run conformance`. Pure parsing. */
import { parseArgs } from 'node:util';
import { GROUPS, type Group } from '../../suites/checks/types.ts';
import type { ReportSummary } from '../../suites/harness/report/types.ts';

export const EXIT = { ok: 0, failed: 1, setup: 2, errored: 3 } as const;

/**
 * The exit code of a finished run: 1 when a check failed (or warned, under --strict); else 3 when a
 * check errored (our side could not complete it) or the run had an error of its own; else 0.
 * Expected failures, skipped and inconclusive checks do not change it.
 */
export function exitCodeOf(summary: ReportSummary, options: { strict?: boolean; problems?: number } = {}): number {
  if (summary.failed > 0 || (options.strict && summary.warnings > 0)) return EXIT.failed;
  if (summary.errored > 0 || (options.problems ?? 0) > 0) return EXIT.errored;
  return EXIT.ok;
}

/** The embedded mock's target file, relative to the package root. */
export const DEFAULT_TARGET = 'fixtures/targets/mock.json';

export const HELP = `Usage: refresh-conformance [options]
       npm run conformance -- [options]

Runs the refresh-token conformance suites against a target (an IdP's token endpoint
and friends, described by a target file). Without --target it starts the embedded
mock IdP and runs against it.

Commands (default: run the suites):
  observe [options]          infer the refresh policy the target implements (observe --help)
  merge-reports [--out DIR] DIR_OR_FILE...
                             merge the report.json files of the shards of one run
                             (--shard) into one report.json, junit.xml and report.html
  --self-test                run every seeded mock defect and print the detection matrix
  --list-checks              list the checks: id, group, title, clause, level (tab-separated)
  --list-profiles            list the built-in profiles: name, title, policies (tab-separated)
  --version                  print the version
  -h, --help                 this text

Options:
  --target FILE              target file (JSON; \${ENV_VAR} substituted)   [the embedded mock]
  --profile NAME|FILE        embedded mock only: profile to serve and check (a name from
                             --list-profiles, or a profile file)
  --transport msw|http       embedded mock only: in-process (msw) or a loopback HTTP server
  --only GROUP,...           run only these groups: ${GROUPS.join(', ')}
  --check ID,...             run only these check ids (an unknown id is a setup problem)
  --shard I/N                run only the I-th of N parts of the planned check instances
                             (the same split on every machine; merge-reports joins them).
                             A shard that gets no instance checks nothing: exit 2
  --strict                   warnings (SHOULD broken, MAY not taken) fail the run
  --concurrency N            at most N checks work at once (real-clock waits do not count)
                             [target's "concurrency", else the number of CPUs]
  --report-dir DIR           where report.json, junit.xml and report.html go            [reports]
  --json FILE                also write the JSON report to FILE
  --junit FILE               also write the JUnit XML report to FILE
  --html FILE                also write the HTML report to FILE
  --expected-failures FILE   JSON list [{ "id", "reason", "client"? }] of known failures
                             (an id that is not a check is a setup problem)
  --verbose                  also list skipped checks with their reasons

While a check waits in real time (clock driver "real"), a progress line says what it
waits for and how long is left. Colour only on a terminal; NO_COLOR=1 or FORCE_COLOR=0
turns it off, FORCE_COLOR=1 on.

Statuses: passed, failed (the IdP broke a rule), warning (a SHOULD broken or a MAY not
taken), errored (our side could not complete the check: browser, local timeout, transport,
a group file that failed to load), skipped (not applicable), inconclusive (nothing could
be observed), expected failure. The last line but one counts them all:
  N passed, N failed, N warnings, N errored, N skipped, N inconclusive, N expected failures (T s)

Exit codes:
  0  no check failed and none errored (warnings, skipped, inconclusive and expected failures do not count)
  1  a check failed (or, with --strict, warned)
  2  setup problem, nothing was checked: bad command line, unknown check id or group,
     unknown id in expected failures, report directory not writable, target file missing
     or invalid, unknown profile or policy, missing environment variable, unreachable issuer,
     no browser for the browser login driver, no terminal for the manual one, a --shard
     that gets no check instance (one-line reason)
  3  a check errored, and none failed
`;

export interface CliOptions {
  /** Target file as given; undefined for the embedded mock (DEFAULT_TARGET). */
  target?: string;
  profile?: string;
  transport?: 'msw' | 'http';
  groups?: Group[];
  checks?: string[];
  /** --shard I/N: this run is part `index` (1-based) of `count`. */
  shard?: Shard;
  reportDir: string;
  json?: string;
  junit?: string;
  html?: string;
  expectedFailures?: string;
  strict: boolean;
  concurrency?: number;
  listChecks: boolean;
  listProfiles: boolean;
  selfTest: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
  /** The options the command line named (long names, in order, each once): what ignoredFlags judges. */
  given: string[];
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** One part of a sharded run: part `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** `--shard I/N`: whole numbers, 1 ≤ I ≤ N (written as CI matrices count: 1/3, 2/3, 3/3). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be I/N with whole numbers 1 ≤ I ≤ N, e.g. 2/3 (got ${JSON.stringify(text)})`);
  }
  return { index, count };
}

export function parseCli(argv: string[]): CliOptions {
  let values;
  let tokens;
  try {
    ({ values, tokens } = parseArgs({
      args: argv,
      tokens: true,
      options: {
        target: { type: 'string' },
        profile: { type: 'string' },
        transport: { type: 'string' },
        only: { type: 'string' },
        check: { type: 'string' },
        shard: { type: 'string' },
        'report-dir': { type: 'string', default: 'reports' },
        json: { type: 'string' },
        junit: { type: 'string' },
        html: { type: 'string' },
        'expected-failures': { type: 'string' },
        strict: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'list-checks': { type: 'boolean', default: false },
        'list-profiles': { type: 'boolean', default: false },
        'self-test': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const groups = values.only?.split(',').map((g) => g.trim()).filter(Boolean);
  const unknown = groups?.filter((g) => !(GROUPS as readonly string[]).includes(g));
  if (unknown?.length) throw new UsageError(`unknown group(s) ${unknown.join(', ')}; groups are ${GROUPS.join(', ')}`);
  if (values.transport !== undefined && values.transport !== 'msw' && values.transport !== 'http') throw new UsageError('--transport must be msw or http');
  for (const name of ['target', 'json', 'junit', 'html', 'report-dir', 'expected-failures'] as const) {
    if (values[name] === '') throw new UsageError(`--${name} needs a file name`);
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new UsageError(`--concurrency must be a whole number of at least 1 (got ${JSON.stringify(values.concurrency)})`);
  }
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  return {
    ...(values.target !== undefined && { target: values.target }),
    ...(values.profile !== undefined && { profile: values.profile }),
    ...(values.transport !== undefined && { transport: values.transport as 'msw' | 'http' }),
    ...(groups && { groups: groups as Group[] }),
    ...(values.check !== undefined && { checks: values.check.split(',').map((s) => s.trim()).filter(Boolean) }),
    ...(shard && { shard }),
    reportDir: values['report-dir'],
    ...(values.json !== undefined && { json: values.json }),
    ...(values.junit !== undefined && { junit: values.junit }),
    ...(values.html !== undefined && { html: values.html }),
    ...(values['expected-failures'] !== undefined && { expectedFailures: values['expected-failures'] }),
    strict: values.strict,
    ...(concurrency !== undefined && { concurrency }),
    listChecks: values['list-checks'],
    listProfiles: values['list-profiles'],
    selfTest: values['self-test'],
    verbose: values.verbose,
    help: values.help,
    version: values.version,
    given: [...new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])))],
  };
}

/** The options each command reads (besides its own flag); every other option given is ignored. */
const READS: Record<'help' | 'version' | 'list-checks' | 'self-test', readonly string[]> = {
  help: [],
  version: [],
  'list-checks': ['target', 'profile'],
  'self-test': [],
};

/**
 * A warning for each option the command line gave that will have no effect, saying why: the options
 * a command does not read (--only with --list-checks), and the embedded mock's options with a target
 * file that is not the embedded mock (--transport, --profile with a remote target). Pure.
 */
export function ignoredFlags(options: CliOptions, target?: { kind: 'embedded' | 'remote'; origin: string }): string[] {
  const command = options.help ? 'help' : options.version ? 'version' : options.listChecks ? 'list-checks' : options.selfTest ? 'self-test' : undefined;
  const flag = (name: string) => (name === 'help' ? '--help' : `--${name}`);
  if (command) {
    const reads = new Set([command, ...READS[command]]);
    // --help wins over every other command, --version over the rest, and so on down.
    return options.given.filter((n) => !reads.has(n)).map((n) => `${flag(n)} is ignored with ${flag(command)}`);
  }
  if (target?.kind !== 'remote') return [];
  return (['transport', 'profile'] as const)
    .filter((n) => options.given.includes(n))
    .map((n) => `--${n} is ignored: it re-targets the embedded mock, and ${target.origin} is a remote target (its profile and issuer come from the file)`);
}

/**
 * Colour or not: NO_COLOR (any non-empty value) turns it off (no-color.org); FORCE_COLOR turns it
 * on, except FORCE_COLOR=0 or false, which turns it off; otherwise only on a terminal.
 */
export function useColor(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY;
}

/**
 * The suite files to load: --only's groups; for --check alone the groups its ids name (`rotation.x`
 * is in rotation), so vitest does not start files with nothing to run; otherwise all.
 */
/** Check ids of `--check` that name no check. */
export function unknownCheckIds(ids: readonly string[], known: ReadonlySet<string>): string[] {
  return [...new Set(ids.filter((id) => !known.has(id)))];
}

export function groupsToRun(options: Pick<CliOptions, 'groups' | 'checks'>): Group[] {
  if (options.groups) return options.groups;
  const named = options.checks?.map((id) => id.split('.', 1)[0] as Group);
  if (named?.length && named.every((g) => GROUPS.includes(g))) return GROUPS.filter((g) => named.includes(g));
  return [...GROUPS];
}
