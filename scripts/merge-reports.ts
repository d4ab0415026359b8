/**
 * refresh-conformance merge-reports [--out DIR] [--profile NAME|FILE] DIR_OR_FILE...
 * Reads the report.json of each shard of one run (`--shard I/N`), checks that they fit together
 * (suites/harness/report/merge.ts), and writes the merged report.json, junit.xml and report.html;
 * exits as the CLI would have for the merged verdict. Nothing is written when the parts do not fit.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, exitCodeOf } from './cli/options.ts';
import { safeText } from '../suites/harness/safe-text.ts';
import type { Report } from '../suites/harness/report/index.ts';

export const MERGE_HELP = `Usage: refresh-conformance merge-reports [options] DIR_OR_FILE...

Merges the reports of the shards of one run (each run with --shard I/N) into one
report.json, junit.xml and report.html, with the summary counted again. Each argument
is a report.json or a directory holding one. The shards must be parts of one run: the
same target, profile, issuer, tool version, defects and --strict, the same N and the
same planned instances, every part 1..N once and no check instance twice; otherwise
it says what does not fit and writes nothing.

Options:
  --out DIR              where the merged reports go (not a shard's own)  [reports]
  --profile NAME|FILE    the profile whose policies the HTML report describes
                         [the built-in profile of the reports' profile name, if any]
  -h, --help             this text

Exit codes: as the CLI's for the merged verdict: 0 no check failed and none errored,
1 a check failed (or warned, under --strict), 3 a check errored (or a shard's run had
an error of its own) and none failed; 2 the reports cannot be merged (unreadable, not
reports, not the parts of one run, a part missing or given twice) or not written.
`;

/** Where merge-reports writes: the merged verdict on stdout, what went wrong on stderr. */
export interface MergeOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: MergeOutput = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** A report.json, or the report.json in a directory. */
async function reportFile(arg: string): Promise<string> {
  const file = path.resolve(arg);
  return (await stat(file).catch(() => undefined))?.isDirectory() ? path.join(file, 'report.json') : file;
}

export async function mergeReportsMain(argv: string[], io: MergeOutput = STDIO): Promise<number> {
  const write = io.out;
  const fail = (message: string): number => {
    io.err(`refresh-conformance merge-reports: ${safeText(message.split('\n').join(' '))}\n`);
    return EXIT.setup;
  };
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', default: 'reports' },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (e) {
    return fail(`${(e as Error).message}; run with --help for usage`);
  }
  if (values.help) {
    write(MERGE_HELP);
    return EXIT.ok;
  }
  if (values.out === '') return fail('--out needs a directory name');
  if (positionals.length === 0) return fail('no report given: name the shards\' report directories or report.json files; run with --help for usage');

  const [{ ReportSchema, writeReports, summaryLine, redactArgv }, { mergeReports }, { writeHtmlReport }, { catalogueOrder }, profiles] = await Promise.all([
    import('../suites/harness/report/index.ts'),
    import('../suites/harness/report/merge.ts'),
    import('../suites/harness/report/html.ts'),
    import('../suites/runner/vitest-reporter.ts'),
    import('../mock-idp/profile/index.ts'),
  ]);

  const inputs: { source: string; report: Report }[] = [];
  for (const arg of positionals) {
    const file = await reportFile(arg);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail(`${file}: ${code === 'ENOENT' ? 'not found' : code ?? `not JSON (${(e as Error).message})`}`);
    }
    const parsed = ReportSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return fail(`${file}: not a refresh-conformance report.json (${issue.path.join('.') || 'the file'}: ${issue.message})`);
    }
    inputs.push({ source: file, report: parsed.data as Report });
  }

  const merged = mergeReports(inputs, { compare: catalogueOrder, argv: redactArgv(['merge-reports', ...argv]) });
  if (!merged.ok) {
    io.err(`refresh-conformance merge-reports: cannot merge ${inputs.length} report(s):\n`);
    for (const p of merged.problems) io.err(`  ${p.code}: ${safeText(p.message)}\n`);
    return EXIT.setup;
  }
  const { report } = merged;

  // The HTML describes each client's policy from the profile; a report names its profile, a file is given with --profile.
  let profile;
  try {
    profile = values.profile
      ? await profiles.loadProfile(values.profile)
      : (profiles.BUILTIN_PROFILES as readonly string[]).includes(report.profile)
        ? await profiles.loadProfile(report.profile)
        : undefined;
  } catch (e) {
    if (e instanceof profiles.ProfileError) return fail(e.message);
    throw e;
  }

  const out = path.resolve(values.out);
  // Writing over a part's own report would lose it: the merge is checked against the parts.
  const overwritten = inputs.find((i) => path.dirname(i.source) === out);
  if (overwritten) return fail(`--out ${out} holds ${overwritten.source}, one of the reports merged; choose another directory`);
  let written;
  try {
    written = await writeReports(out, report);
    const html = await writeHtmlReport(path.join(out, 'report.html'), report, {
      ...(profile && { profile }),
      generator: `${report.tool.name} ${report.tool.version} (merge-reports)`,
      subtitle: `${report.issuer ? `issuer ${report.issuer}` : 'embedded mock IdP'}, merged from ${report.merged!.count} shards`,
    });
    written = [written.json, written.junit, html];
  } catch (e) {
    return fail(`cannot write the merged reports to ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }

  write(`refresh-conformance merge-reports: ${safeText(report.target)} (profile ${safeText(report.profile)}): ${report.merged!.count} shards, ${report.checks.length} check instances\n\n`);
  for (const c of report.checks) {
    const mark = c.status === 'failed' ? '✗' : c.status === 'errored' ? 'E' : c.status === 'warning' && report.strict ? '!' : undefined;
    if (mark) write(`${mark} ${safeText(c.client ? `${c.id} [${c.client}]` : c.id)}  (${c.status})\n`);
  }
  for (const e of report.runErrors ?? []) write(`error: ${safeText(e)}\n`);
  const strict = report.strict ? '; --strict: warnings fail the run' : '';
  write(`${summaryLine(report.summary)} (merged from ${report.merged!.count} shards${strict})\n`);
  write(`reports: ${written.join(', ')}\n`);
  return exitCodeOf(report.summary, { strict: report.strict === true, problems: report.runErrors?.length ?? 0 });
}
