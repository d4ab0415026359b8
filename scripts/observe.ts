/**
 * refresh-conformance observe [--target FILE] [--max-wait SECONDS] [--out FILE] [--against PROFILE]
 * Infers the refresh policy the target implements (suites/observe) and writes it as a schema-v2
 * profile (--out) with its evidence beside it (<out without .json>.evidence.json); with --against,
 * prints the declared and observed profiles side by side and exits 1 on a difference.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT } from './cli/options.ts';
import { safeText } from '../suites/harness/safe-text.ts';

export const OBSERVE_HELP = `Usage: refresh-conformance observe [options]

Infers the refresh-token policy the target actually implements and writes it as a
profile (schema version 2), every field with its evidence and a confidence:
observed (exact), bounded (between two values) or unobservable (with the reason).
On the mock's clock lifetimes are exact; on a real clock they are measured within
--max-wait and bounded.

Options:
  --target FILE          target file (as for the suites)                 [the embedded mock]
  --profile NAME|FILE    embedded mock only: the profile to serve
  --max-wait SECONDS     real clock: the longest single wait   [the target's clock.maxWaitSeconds]
  --out FILE             the observed profile            [reports/observed-profile.json]
                         (its evidence goes to <FILE without .json>.evidence.json)
  --against PROFILE      compare with a declared profile (name or file), field by field;
                         exit 1 on a difference
  -h, --help             this text

Exit codes: 0 done (no difference with --against), 1 a difference, 2 setup problem,
3 nothing could be observed (every probe errored).
`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function fail(message: string): number {
  process.stderr.write(`refresh-conformance observe: ${safeText(message.split('\n').join(' '))}\n`);
  return EXIT.setup;
}

export async function observeMain(argv: string[], write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string' },
        profile: { type: 'string' },
        'max-wait': { type: 'string' },
        out: { type: 'string', default: 'reports/observed-profile.json' },
        against: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return fail(`${(e as Error).message}; run with --help for usage`);
  }
  if (values.help) {
    write(OBSERVE_HELP);
    return EXIT.ok;
  }
  const maxWait = values['max-wait'] === undefined ? undefined : Number(values['max-wait']);
  if (maxWait !== undefined && (!Number.isInteger(maxWait) || maxWait < 1)) return fail(`--max-wait: expected whole seconds ≥ 1, got "${values['max-wait']}"`);

  const [{ resolveTarget }, { HarnessError }, profiles, { observeTarget, loginBudget, probedClients }, { diffProfiles, diffLines, observedText }] = await Promise.all([
    import('../suites/runner/config.ts'),
    import('../suites/harness/errors.ts'),
    import('../mock-idp/profile/index.ts'),
    import('../suites/observe/observe.ts'),
    import('../suites/observe/diff.ts'),
  ]);
  let target;
  let against;
  try {
    target = await resolveTarget({
      target: values.target ? path.resolve(values.target) : path.join(ROOT, 'fixtures/targets/mock.json'),
      ...(values.profile && { profile: values.profile }),
    });
    if (values.profile && target.kind !== 'embedded') return fail('--profile applies to the embedded mock only (a target file names its own profile)');
    against = values.against ? await profiles.loadProfile(values.against) : undefined;
  } catch (e) {
    if (e instanceof HarnessError || e instanceof profiles.ProfileError) return fail(e.message);
    throw e;
  }
  const clients = probedClients(target);
  if (target.login.driver === 'manual' || target.login.driver === 'browser') {
    write(`observe needs up to ${loginBudget(target)} logins for each of ${clients.length} client(s) (${clients.map((c) => c.id).join(', ')}), through the ${target.login.driver} login driver\n`);
  }
  const result = await observeTarget(target, {
    ...(maxWait !== undefined && { maxWaitSeconds: maxWait }),
    onProgress: (line) => write(`  ${safeText(line)}\n`),
  });

  const out = path.resolve(values.out);
  const evidenceFile = out.replace(/\.json$/i, '') + '.evidence.json';
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result.document, null, 2) + '\n', 'utf8');
  const evidence = {
    target: target.kind === 'embedded' ? 'embedded mock' : target.issuer,
    clients: result.clients,
    trials: result.trials,
    problems: result.problems,
    findings: result.findings,
    fields: result.fields,
    observations: result.observations,
  };
  await writeFile(evidenceFile, JSON.stringify(evidence, (_k, v) => (v === Infinity ? null : v), 2) + '\n', 'utf8');

  for (const o of result.fields) write(`${o.confidence === 'unobservable' ? '·' : '•'} ${o.field} = ${observedText(o)}  (${safeText(o.reason)})\n`);
  for (const f of result.findings) write(`finding [${f.client}] ${safeText(f.title)}: ${safeText(f.detail)}\n`);
  for (const p of result.problems) write(`the observed values do not make a valid profile: ${safeText(p)}\n`);
  write(`${result.trials} trials; wrote ${out} and ${evidenceFile}\n`);
  if (result.fields.every((f) => f.confidence === 'unobservable')) return EXIT.errored;
  if (!against) return EXIT.ok;
  const rows = diffProfiles(against, result.fields);
  write(`\ndeclared (${against.name}) versus observed:\n`);
  for (const line of diffLines(rows)) write(`${safeText(line)}\n`);
  const differences = rows.filter((r) => r.differs);
  write(`${differences.length} difference(s)${differences.length ? `: ${differences.map((r) => r.field).join(', ')}` : ''}\n`);
  return differences.length ? EXIT.failed : EXIT.ok;
}
