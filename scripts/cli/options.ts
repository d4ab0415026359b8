/** Command-line options of `refresh-conformance` / `npm run conformance`. Pure parsing. */
import { parseArgs } from 'node:util';
import { GROUPS, type Group } from '../../suites/checks/types.ts';

export const EXIT = { ok: 0, failed: 1, setup: 2 } as const;

export const HELP = `Usage: npm run conformance -- [options]
       npx refresh-conformance [options]

Runs the refresh-token conformance suites against a target (an IdP's token endpoint
and friends, described by a target file). Without --target it starts the embedded
mock IdP and runs against it.

Options:
  --target FILE              target file (JSON; \${ENV_VAR} substituted)   [fixtures/targets/mock.json]
  --profile NAME|FILE        embedded mock only: profile to serve and check (telenorid-plus, erp-net)
  --transport msw|http       embedded mock only: in-process (msw) or a loopback HTTP server
  --only GROUP,...           run only these groups: ${GROUPS.join(', ')}
  --check ID,...             run only these check ids
  --report-dir DIR           where report.json and junit.xml go                           [reports]
  --expected-failures FILE   JSON list [{ "id", "reason", "client"? }] of known failures
  --self-test                run every seeded mock defect and print the detection matrix
  --verbose                  also list skipped checks with their reasons
  --version                  print the version
  -h, --help                 this text

Exit codes:
  0  every applicable check passed (expected failures do not count)
  1  a check failed
  2  bad target file, unknown profile or policy, unreachable issuer (one-line reason)
`;

export interface CliOptions {
  target: string;
  profile?: string;
  transport?: 'msw' | 'http';
  groups?: Group[];
  checks?: string[];
  reportDir: string;
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
  return {
    target: values.target ?? 'fixtures/targets/mock.json',
    ...(values.profile !== undefined && { profile: values.profile }),
    ...(values.transport !== undefined && { transport: values.transport as 'msw' | 'http' }),
    ...(groups && { groups: groups as Group[] }),
    ...(values.check !== undefined && { checks: values.check.split(',').map((s) => s.trim()).filter(Boolean) }),
    reportDir: values['report-dir'],
    ...(values['expected-failures'] !== undefined && { expectedFailures: values['expected-failures'] }),
    selfTest: values['self-test'],
    verbose: values.verbose,
    help: values.help,
    version: values.version,
  };
}
