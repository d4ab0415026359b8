/** Command-line options of `refresh-conformance` / `npm run conformance`. Pure parsing. */
import { parseArgs } from 'node:util';
import { GROUPS, type Group } from '../../suites/checks/types.ts';

export const EXIT = { ok: 0, failed: 1, setup: 2 } as const;

/** The embedded mock's target file, relative to the package root. */
export const DEFAULT_TARGET = 'fixtures/targets/mock.json';

export const HELP = `Usage: refresh-conformance [options]
       npm run conformance -- [options]

Runs the refresh-token conformance suites against a target (an IdP's token endpoint
and friends, described by a target file). Without --target it starts the embedded
mock IdP and runs against it.

Commands (default: run the suites):
  --self-test                run every seeded mock defect and print the detection matrix
  --version                  print the version
  -h, --help                 this text

Options:
  --target FILE              target file (JSON; \${ENV_VAR} substituted)   [the embedded mock]
  --profile NAME|FILE        embedded mock only: profile to serve and check (telenorid-plus, erp-net)
  --transport msw|http       embedded mock only: in-process (msw) or a loopback HTTP server
  --only GROUP,...           run only these groups: ${GROUPS.join(', ')}
  --check ID,...             run only these check ids
  --report-dir DIR           where report.json, junit.xml and report.html go            [reports]
  --json FILE                also write the JSON report to FILE
  --junit FILE               also write the JUnit XML report to FILE
  --html FILE                also write the HTML report to FILE
  --expected-failures FILE   JSON list [{ "id", "reason", "client"? }] of known failures
  --verbose                  also list skipped checks with their reasons

While a check waits in real time (clock driver "real"), a progress line says what it
waits for and how long is left. Colour only on a terminal; NO_COLOR=1 or FORCE_COLOR=0
turns it off, FORCE_COLOR=1 on.

Exit codes:
  0  every applicable check passed (expected failures do not count)
  1  a check failed
  2  setup problem, nothing was checked: bad command line, target file missing or invalid,
     unknown profile or policy, missing environment variable, unreachable issuer,
     no browser for the browser login driver, no terminal for the manual one (one-line reason)
`;

export interface CliOptions {
  /** Target file as given; undefined for the embedded mock (DEFAULT_TARGET). */
  target?: string;
  profile?: string;
  transport?: 'msw' | 'http';
  groups?: Group[];
  checks?: string[];
  reportDir: string;
  json?: string;
  junit?: string;
  html?: string;
  expectedFailures?: string;
  selfTest: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export function parseCli(argv: string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' },
        profile: { type: 'string' },
        transport: { type: 'string' },
        only: { type: 'string' },
        check: { type: 'string' },
        'report-dir': { type: 'string', default: 'reports' },
        json: { type: 'string' },
        junit: { type: 'string' },
        html: { type: 'string' },
        'expected-failures': { type: 'string' },
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
  return {
    ...(values.target !== undefined && { target: values.target }),
    ...(values.profile !== undefined && { profile: values.profile }),
    ...(values.transport !== undefined && { transport: values.transport as 'msw' | 'http' }),
    ...(groups && { groups: groups as Group[] }),
    ...(values.check !== undefined && { checks: values.check.split(',').map((s) => s.trim()).filter(Boolean) }),
    reportDir: values['report-dir'],
    ...(values.json !== undefined && { json: values.json }),
    ...(values.junit !== undefined && { junit: values.junit }),
    ...(values.html !== undefined && { html: values.html }),
    ...(values['expected-failures'] !== undefined && { expectedFailures: values['expected-failures'] }),
    selfTest: values['self-test'],
    verbose: values.verbose,
    help: values.help,
    version: values.version,
  };
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
export function groupsToRun(options: Pick<CliOptions, 'groups' | 'checks'>): Group[] {
  if (options.groups) return options.groups;
  const named = options.checks?.map((id) => id.split('.', 1)[0] as Group);
  if (named?.length && named.every((g) => GROUPS.includes(g))) return GROUPS.filter((g) => named.includes(g));
  return [...GROUPS];
}
