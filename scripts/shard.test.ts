/**
 * Sharded runs end to end: the CLI (`scripts/bin.mjs`, a child process) runs 3 shards of a selection
 * against the embedded mock and once unsharded; `merge-reports` merges the shards into the report the
 * unsharded run wrote (the same instances, statuses and summary). Also --shard's usage errors, the part
 * that gets nothing (not green), and merge-reports' refusals and exit codes.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type BinRun } from './cli/run-bin.ts';
import { EXIT, ignoredFlags, parseCli, parseShard, UsageError } from './cli/options.ts';
import { mergeReportsMain } from './merge-reports.ts';
import { buildReport, reportToJson, type CheckResult, type CheckStatus, type Report } from '../suites/harness/report/index.ts';
import { selectShard } from '../suites/runner/shard.ts';


const cli = (args: string[]) => runBin(args, { timeoutMs: 240_000 });

const readReport = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as Report;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shard-test-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('--shard I/N', () => {
  it.each(['0/3', '4/3', 'x', '1/0', '1.5/3', '-1/3', '2/3/4', '', '1/ 3'])('refuses %j, naming the flag', (text) => {
    expect(() => parseCli(['--shard', text])).toThrow(UsageError);
    expect(() => parseShard(text)).toThrow(`--shard must be I/N with whole numbers 1 ≤ I ≤ N, e.g. 2/3 (got ${JSON.stringify(text)})`);
  });

  it('reads I/N', () => {
    expect(parseCli(['--shard', '2/3']).shard).toEqual({ index: 2, count: 3 });
    expect(parseCli(['--shard', '1/1']).shard).toEqual({ index: 1, count: 1 });
    expect(parseCli([]).shard).toBeUndefined();
    expect(ignoredFlags(parseCli(['--list-checks', '--shard', '1/2']))).toEqual(['--shard is ignored with --list-checks']);
  });

  it('a bad value is a usage error: exit 2, one line naming --shard', { timeout: 60_000 }, async () => {
    const r = await cli(['--shard', '4/3', '--report-dir', path.join(dir, 'usage')]);
    expect(r.code).toBe(EXIT.setup);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('refresh-conformance: --shard must be I/N with whole numbers 1 ≤ I ≤ N, e.g. 2/3 (got "4/3")\nRun with --help for usage.\n');
  });

  it('--help shows --shard and merge-reports', { timeout: 60_000 }, async () => {
    const r = await cli(['--help']);
    expect(r.stdout).toContain('--shard I/N');
    expect(r.stdout).toContain('merge-reports [--out DIR] DIR_OR_FILE...');
    expect((await cli(['merge-reports', '--help'])).stdout).toContain('Usage: refresh-conformance merge-reports [options] DIR_OR_FILE...');
  });

  it('a part that gets no instance is not green: exit 2, the reason, a report saying so, no "0 passed"', { timeout: 120_000 }, async () => {
    // One check: one instance per client of the embedded mock's profile, fewer than the parts asked for.
    const out = path.join(dir, 'empty');
    const count = 9;
    const r = await cli(['--check', 'offline-access.none-without-offline-access', '--shard', `${count}/${count}`, '--report-dir', out]);
    expect(r.code).toBe(EXIT.setup);
    expect(r.stdout).not.toMatch(/passed/);
    expect(r.stderr).toMatch(new RegExp(`^refresh-conformance: --shard ${count}/${count}: the selection plans (\\d) check instance\\(s\\), so part ${count} of ${count} gets none and would check nothing; use at most \\1 shard\\(s\\)\\n$`));
    const report = await readReport(out);
    expect(report.setupError).toMatch(/gets none and would check nothing/);
    expect(report.checks).toEqual([]);
    expect(report.shard).toMatchObject({ index: count, count, instances: 0 });
    expect(report.shard!.planned).toBeLessThan(count);
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toMatch(/<testcase name="setup" classname="setup"[^]*<error /);
  });
});

describe('3 shards merged equal the unsharded run', () => {
  // Four groups of the catalogue: 130 instances, about 50 of them run; the mock's clock makes them quick.
  const SELECTION = ['--only', 'offline-access,rotation,expiry,sso'];
  const shardDir = (i: number) => path.join(dir, `shard-${i}`);
  let whole: Report;
  let shards: Report[];
  let runs: BinRun[];

  beforeAll(async () => {
    runs = await Promise.all([
      cli([...SELECTION, '--report-dir', path.join(dir, 'whole')]),
      ...[1, 2, 3].map((i) => cli([...SELECTION, '--shard', `${i}/3`, '--report-dir', shardDir(i)])),
    ]);
    whole = await readReport(path.join(dir, 'whole'));
    shards = await Promise.all([1, 2, 3].map((i) => readReport(shardDir(i))));
  }, 300_000);

  it('each shard runs its part only, and says so', () => {
    for (const r of runs) expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(whole.checks.length).toBeGreaterThanOrEqual(100);
    expect(new Set(whole.checks.map((c) => c.group))).toEqual(new Set(['offline-access', 'rotation', 'expiry', 'sso']));
    const names = shards.map((s) => s.checks.map((c) => `${c.id} [${c.client}]`));
    for (const [i, s] of shards.entries()) {
      expect(s.shard).toMatchObject({ index: i + 1, count: 3, instances: s.checks.length, planned: whole.checks.length });
      expect(s.checks.length).toBeLessThan(whole.checks.length / 2);
      expect(s.checks.filter((c) => c.status === 'passed').length).toBeGreaterThan(5);
      expect(runs[i + 1]!.stdout).toContain(`\nshard ${i + 1}/3: ${s.checks.length} of ${whole.checks.length} planned check instances\n`);
    }
    expect(new Set(shards.map((s) => s.shard!.planDigest)).size).toBe(1);
    const all = names.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(whole.checks.map((c) => `${c.id} [${c.client}]`).sort());
    expect(whole.shard).toBeUndefined();
  });

  it('merge-reports writes the whole run\'s report: the same instances, in the same order, with the same statuses and summary', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'merged');
    // A directory or a report.json, in any order.
    const r = await cli(['merge-reports', '--out', out, shardDir(3), path.join(shardDir(1), 'report.json'), shardDir(2)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const merged = await readReport(out);
    const verdicts = (report: Report) => report.checks.map(({ id, group, client, policy, status, level, clause }) => ({ id, group, client, policy, status, level, clause }));
    expect(verdicts(merged)).toEqual(verdicts(whole));
    const skipReasons = (report: Report) => report.checks.filter((c) => c.status === 'skipped').map((c) => c.message);
    expect(skipReasons(merged)).toEqual(skipReasons(whole));
    expect(merged.summary).toEqual(whole.summary);
    expect(merged).toMatchObject({ target: whole.target, profile: whole.profile, issuer: whole.issuer, tool: whole.tool, defects: [], merged: { count: 3, planned: whole.checks.length } });
    expect(merged.merged!.parts.map((p) => p.argv)).toEqual(shards.map((s) => s.argv));
    expect(r.stdout).toContain(`\n${merged.summary.passed} passed, 0 failed, 0 warnings, 0 errored, ${merged.summary.skipped} skipped, 0 inconclusive, 0 expected failures (merged from 3 shards)\n`);
    expect(r.stdout).toContain(`reports: ${path.join(out, 'report.json')}, ${path.join(out, 'junit.xml')}, ${path.join(out, 'report.html')}`);
    // JUnit counts as the unsharded run's.
    const rootCounts = (xml: string) => /<testsuites name="[^"]*" (tests="\d+" failures="\d+" errors="\d+" skipped="\d+")/.exec(xml)![1];
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(rootCounts(junit)).toBe(rootCounts(await readFile(path.join(dir, 'whole/junit.xml'), 'utf8')));
    expect(junit.match(/<testcase /g)).toHaveLength(whole.checks.length);
    // The HTML: the verdict, and the token timelines the shards recorded.
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('merged from 3 shards');
    expect(html).toContain('data-verdict="passed"');
    expect(html).toContain('<figure class="timeline" id="timeline-mobile"');
  });

  it('a missing shard, or one given twice: exit 2, the problem named, nothing written', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'not-merged');
    const missing = await cli(['merge-reports', '--out', out, shardDir(1), shardDir(3)]);
    expect(missing.code).toBe(EXIT.setup);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('refresh-conformance merge-reports: cannot merge 2 report(s):\n  MISSING_SHARD: shard(s) 2/3 missing: every part of the run is needed\n');
    const twice = await cli(['merge-reports', '--out', out, shardDir(1), shardDir(2), shardDir(3), path.join(shardDir(2), 'report.json')]);
    expect(twice.code).toBe(EXIT.setup);
    expect(twice.stderr).toContain(`  DUPLICATE_SHARD: ${path.join(shardDir(2), 'report.json')}: shard 2/3 is given twice (also ${path.join(shardDir(2), 'report.json')})\n`);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});

describe('merge-reports (in process)', () => {
  const check = (id: string, client: string, status: CheckStatus): CheckResult => ({
    id,
    group: 'rotation',
    title: id,
    clause: 'RFC 6749 §6',
    client,
    policy: 'Mobile',
    status,
    level: 'MUST',
    message: status === 'passed' ? null : `${status}: why`,
    durationMs: 1,
  });

  /** Writes the 2 shards of a run of `checks` into a new directory; returns their directories. */
  async function shardsOf(name: string, checks: CheckResult[], over: Partial<Parameters<typeof buildReport>[0]> = {}): Promise<string[]> {
    const instances = checks.map((c) => ({ check: { id: c.id }, client: { id: c.client! }, c }));
    return Promise.all(
      [1, 2].map(async (index) => {
        const part = selectShard(instances, { index, count: 2 });
        const report = buildReport({ target: 'staging', profile: 'telenorid-plus', startedAt: new Date(0), durationMs: 1, checks: part.selected.map((x) => x.c), shard: part.shard, ...over });
        const to = path.join(dir, name, `s${index}`);
        await mkdir(to, { recursive: true });
        await writeFile(path.join(to, 'report.json'), reportToJson(report));
        return to;
      }),
    );
  }

  async function merge(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await mergeReportsMain(args, { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  }

  it.each([
    ['passed and skipped', ['passed', 'skipped'], {}, EXIT.ok],
    ['a failure', ['passed', 'failed'], {}, EXIT.failed],
    ['an errored check', ['errored', 'passed'], {}, EXIT.errored],
    ['a failure and an errored check', ['errored', 'failed'], {}, EXIT.failed],
    ['a warning', ['warning', 'passed'], {}, EXIT.ok],
    ['a warning under --strict', ['warning', 'passed'], { strict: true }, EXIT.failed],
    ['a shard\'s run error', ['passed', 'passed'], { runErrors: ['Unhandled rejection'] }, EXIT.errored],
  ] as const)('exits as the CLI would for the merged verdict: %s', async (name, statuses, over, exit) => {
    const dirs = await shardsOf(name.replace(/\W+/g, '-'), [check('rotation.a', 'mobile', statuses[0]), check('rotation.a', 'web', statuses[1])], over);
    const out = path.join(dir, `${name.replace(/\W+/g, '-')}-merged`);
    const r = await merge(['--out', out, ...dirs]);
    expect(r.code).toBe(exit);
    const report = await readReport(out);
    expect(report.summary).toMatchObject({ passed: statuses.filter((s) => s === 'passed').length, failed: statuses.filter((s) => s === 'failed').length });
    if ('runErrors' in over) expect(r.out).toContain('error: shard 1/2: Unhandled rejection\n');
  });

  it('never prints a report\'s text raw: control characters are escaped', async () => {
    const dirs = await shardsOf('hostile', [check('rotation.a', 'mobile\x1b[2J', 'failed'), check('rotation.a', 'web', 'passed')], { target: 'stag\x1b]0;owned\x07ing' });
    const r = await merge(['--out', path.join(dir, 'hostile-merged'), ...dirs]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.out).not.toMatch(/[\x1b\x07]/);
    expect(r.out).toContain('stag\\x1b]0;owned\\x07ing');
    expect(r.out).toContain('✗ rotation.a [mobile\\x1b[2J]  (failed)');
  });

  it('refuses what is not a report, naming the file', async () => {
    const bad = path.join(dir, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(path.join(bad, 'report.json'), JSON.stringify({ schemaVersion: 1, checks: [] }));
    await writeFile(path.join(bad, 'broken.json'), '{');
    const says = (err: string) => ({ code: EXIT.setup, out: '', err: `refresh-conformance merge-reports: ${err}\n` });
    expect(await merge([bad])).toEqual(says(`${path.join(bad, 'report.json')}: not a refresh-conformance report.json (tool: Invalid input: expected object, received undefined)`));
    // The parser's own words vary with the Node version.
    expect(await merge([path.join(bad, 'broken.json')])).toMatchObject({ code: EXIT.setup, out: '', err: expect.stringMatching(/^refresh-conformance merge-reports: \S*broken\.json: not JSON \(.+\)\n$/) });
    expect(await merge([path.join(dir, 'nowhere')])).toEqual(says(`${path.join(dir, 'nowhere')}: not found`));
    expect(await merge([])).toEqual(says("no report given: name the shards' report directories or report.json files; run with --help for usage"));
    expect(await merge(['--out', '', bad])).toEqual(says('--out needs a directory name'));
  });

  it('refuses to write over a shard\'s own report', async () => {
    const dirs = await shardsOf('overwrite', [check('rotation.a', 'mobile', 'passed'), check('rotation.a', 'web', 'passed')]);
    const before = await readFile(path.join(dirs[0]!, 'report.json'), 'utf8');
    const r = await merge(['--out', dirs[0]!, ...dirs]);
    expect(r).toEqual({ code: EXIT.setup, out: '', err: `refresh-conformance merge-reports: --out ${dirs[0]} holds ${path.join(dirs[0]!, 'report.json')}, one of the reports merged; choose another directory\n` });
    expect(await readFile(path.join(dirs[0]!, 'report.json'), 'utf8')).toBe(before);
  });
});
