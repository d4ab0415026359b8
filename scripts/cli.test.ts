/**
 * The CLI as a child process (`node scripts/bin.mjs`, the `bin` of package.json): help, version, exit
 * codes, outputs, progress lines and colour. Targets that fail or wait in real time are mock IdPs
 * served from this process; the child is started asynchronously so this process can answer it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, type BinRun } from './cli/run-bin.ts';
import { serveMockIdp, type RunningMockIdp } from '../mock-idp/adapters/node-http.ts';
import { createClock, loadProfile, type MockIdp } from '../mock-idp/index.ts';
import { EXIT, exitCodeOf, groupsToRun, ignoredFlags, parseCli, unknownCheckIds, useColor, UsageError } from './cli/options.ts';
import type { Report, ReportSummary } from '../suites/harness/report/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const cli = (args: string[], env: Record<string, string> = {}) => runBin(args, { env });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-test-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A target file for a running mock: its clients, the mock login, its control API for logout and clock. */
async function targetFor(mock: RunningMockIdp, name: string, clock: object, profile = 'telenorid-plus'): Promise<string> {
  const idp: MockIdp = mock.idp;
  const file = path.join(dir, `${name}.json`);
  const target = {
    name,
    issuer: mock.url,
    profile,
    clients: idp.clients.map((c) => ({
      id: c.id,
      ...(c.secret !== undefined && { secret: c.secret }),
      auth: c.secret === undefined ? 'none' : 'client_secret_basic',
      redirectUri: c.redirectUris[0],
      policy: c.policy,
    })),
    login: { driver: 'mock', username: idp.users[0]!.username },
    logout: { driver: 'mock' },
    clock,
    control: { adminToken: idp.adminToken },
  };
  await writeFile(file, JSON.stringify(target, null, 2));
  return file;
}

describe('commands', { timeout: 60_000 }, () => {
  it('--help lists the commands, the options and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const text of ['--self-test', '--list-profiles', '--version', '--target FILE', '--only GROUP', '--check ID', '--report-dir DIR', '--json FILE', '--junit FILE', '--html FILE', 'NO_COLOR']) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).toMatch(/Exit codes:\n {2}0 {2}no check failed and none errored.*\n {2}1 {2}a check failed.*\n {2}2 {2}setup problem[^]*\n {2}3 {2}a check errored, and none failed\n/);
    expect(r.stdout).toContain('N passed, N failed, N warnings, N errored, N skipped, N inconclusive, N expected failures (T s)');
  });

  it('--list-checks prints id, group, title, clause and level of every check, and exits 0', async () => {
    const r = await cli(['--list-checks']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('id\tgroup\ttitle\tclause\tlevel');
    const { CHECKS } = await import('../suites/checks/index.ts');
    expect(lines).toHaveLength(CHECKS.length + 1);
    const rotation = lines.find((l) => l.startsWith('rotation.new-token-each-refresh\t'))!.split('\t');
    expect(rotation).toHaveLength(5);
    expect(rotation[1]).toBe('rotation');
    expect(rotation[3]).toContain('RFC 6749 §6');
    expect(rotation[4]).toMatch(/^(MUST|SHOULD|MAY)( \| (MUST|SHOULD|MAY))*$/);
  });

  it('--list-profiles prints one line per built-in profile (name, title, policies) and exits 0', async () => {
    const r = await cli(['--list-profiles']);
    expect(r.code).toBe(0);
    const { BUILTIN_PROFILES, loadProfile } = await import('../mock-idp/profile/index.ts');
    const rows = r.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    expect(rows.map((row) => row[0])).toEqual([...BUILTIN_PROFILES]);
    for (const [name, title, policies] of rows) {
      const profile = await loadProfile(name!);
      expect([title, policies]).toEqual([profile.title, Object.keys(profile.policies).join(', ')]);
    }
  });

  it('warns of every option a command ignores, one line each, and still answers', async () => {
    const r = await cli(['--version', '--only', 'rotation', '--strict']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('refresh-conformance: warning: --only is ignored with --version\nrefresh-conformance: warning: --strict is ignored with --version\n');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await cli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `refresh-conformance ${pkg.version}\n` });
  });
});

describe('setup problems exit 2 with one line and no stack trace', { timeout: 60_000 }, () => {
  const oneLine = (r: BinRun, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it.concurrent('a missing target file', async () => {
    oneLine(await cli(['--target', path.join(dir, 'nope.json')]), /^refresh-conformance: target file .*nope\.json not found$/);
  });

  it.concurrent('an unknown profile', async () => {
    oneLine(await cli(['--profile', 'no-such-profile']), /^refresh-conformance: profile "no-such-profile" not found \(built-in: telenorid-plus, erp-net/);
  });

  it.concurrent('an unknown policy', async () => {
    const file = path.join(dir, 'bad-policy.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'bad-policy',
        issuer: 'https://idp.example',
        profile: 'telenorid-plus',
        clients: [{ id: 'app', auth: 'none', redirectUri: 'no.example.app:/cb', policy: 'Gold' }],
        login: { driver: 'form', username: 'u', password: 'p' },
        logout: { driver: 'end-session' },
        clock: { driver: 'real' },
      }),
    );
    oneLine(await cli(['--target', file]), /^refresh-conformance: .*bad-policy\.json: clients\[0\]\.policy: "Gold" is not a policy of profile telenorid-plus \(NoRefresh, Confidential, Mobile, PublicWeb, Web\)$/);
  });

  it.concurrent('an unreachable issuer', async () => {
    const file = path.join(dir, 'unreachable.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'unreachable',
        issuer: 'http://127.0.0.1:1',
        profile: 'telenorid-plus',
        clients: [{ id: 'app', auth: 'none', redirectUri: 'no.example.app:/cb', policy: 'Mobile' }],
        login: { driver: 'form', username: 'u', password: 'p' },
        logout: { driver: 'end-session' },
        clock: { driver: 'real' },
      }),
    );
    const out = path.join(dir, 'unreachable-reports');
    oneLine(await cli(['--target', file, '--report-dir', out]), /^refresh-conformance: issuer http:\/\/127\.0\.0\.1:1 unreachable: /);
    // The target was read: the reports are written anyway, saying why nothing was checked.
    const json = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(json.setupError).toMatch(/^issuer http:\/\/127\.0\.0\.1:1 unreachable: /);
    expect(json.checks).toEqual([]);
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toMatch(/<testcase name="setup" classname="setup"[^>]*>\n\s*<error message="issuer http:\/\/127\.0\.0\.1:1 unreachable: /);
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('Setup failed: nothing was checked');
  });

  it.concurrent('a --check with an unknown id (it ran 0 checks and exited 0), naming every unknown id', async () => {
    oneLine(
      await cli(['--check', 'rotation.old-token-rejected,rotation.old-tokn-rejected,nope', '--report-dir', path.join(dir, 'typo')]),
      /^refresh-conformance: --check: unknown check id\(s\) rotation\.old-tokn-rejected, nope; --list-checks lists the ids$/,
    );
  });

  it.concurrent('a selection that matches no check', async () => {
    oneLine(await cli(['--only', 'sso', '--check', 'rotation.old-token-rejected', '--report-dir', path.join(dir, 'empty')]), /^refresh-conformance: the selection \(--only sso --check rotation\.old-token-rejected\) matches no check$/);
  });

  it.concurrent('an expected failure whose id is not a check (it was ignored)', async () => {
    const list = path.join(dir, 'unknown-expected.json');
    await writeFile(list, JSON.stringify([{ id: 'rotation.old-token-rejected', reason: 'known' }, { id: 'rotation.old-token-rejectd', reason: 'typo' }]));
    oneLine(
      await cli(['--expected-failures', list, '--check', 'rotation.old-token-rejected', '--report-dir', path.join(dir, 'xf')]),
      /^refresh-conformance: --expected-failures .*unknown-expected\.json: unknown check id\(s\) rotation\.old-token-rejectd; --list-checks lists the ids$/,
    );
    const target = path.join(dir, 'unknown-expected-target.json');
    const mock = JSON.parse(await readFile(path.join(ROOT, 'fixtures/targets/mock.json'), 'utf8'));
    await writeFile(target, JSON.stringify({ ...mock, profile: 'telenorid-plus', expectedFailures: [{ id: 'expiry.nope', reason: 'typo' }] }));
    oneLine(
      await cli(['--target', target, '--check', 'rotation.old-token-rejected', '--report-dir', path.join(dir, 'xf2')]),
      /^refresh-conformance: .*unknown-expected-target\.json: expectedFailures name unknown check id\(s\) expiry\.nope; --list-checks lists the ids$/,
    );
  });

  it.concurrent('a --report-dir that is a file (it was a stack trace and exit 0)', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    oneLine(await cli(['--report-dir', file, '--check', 'rotation.old-token-rejected']), /^refresh-conformance: cannot write reports to .*a-file: EEXIST \(a file is in the way\)$/);
    oneLine(await cli(['--report-dir', path.join(file, 'sub'), '--check', 'rotation.old-token-rejected']), /^refresh-conformance: cannot write reports to .*a-file\/sub: ENOTDIR \(a file is in the way\)$/);
  });

  it.concurrent('a --concurrency that is not a positive whole number', async () => {
    const r = await cli(['--concurrency', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('refresh-conformance: --concurrency must be a whole number of at least 1 (got "0")\nRun with --help for usage.\n');
  });

  it.concurrent('an unknown option', async () => {
    const r = await cli(['--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("refresh-conformance: Unknown option '--colour'\nRun with --help for usage.\n");
  });
});

describe('runs', () => {
  it('exits 0 against the embedded mock, writes report.json, junit.xml, report.html and the copies', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'ok');
    const r = await cli(
      ['--only', 'offline-access', '--report-dir', out, '--json', path.join(out, 'copies/r.json'), '--junit', path.join(out, 'copies/r.xml'), '--html', path.join(out, 'copies/r.html')],
      { FORCE_COLOR: '1' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('refresh-conformance: embedded-mock (profile telenorid-plus, embedded mock over msw)');
    expect(r.stdout).toMatch(/\n\d+ passed, 0 failed, 0 warnings, 0 errored, \d+ skipped, 0 inconclusive, 0 expected failures \(\d+\.\d s\)\nreports: /);
    expect(r.stdout).toContain('\x1b[32m✓\x1b[0m offline-access.'); // FORCE_COLOR=1 colours a pipe
    const json = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as { summary: { passed: number; failed: number }; checks: Array<{ group: string }> };
    expect(json.summary.failed).toBe(0);
    expect(json.summary.passed).toBeGreaterThan(0);
    expect(new Set(json.checks.map((c) => c.group))).toEqual(new Set(['offline-access']));
    expect(await readFile(path.join(out, 'copies/r.json'), 'utf8')).toBe(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(await readFile(path.join(out, 'copies/r.xml'), 'utf8')).toBe(await readFile(path.join(out, 'junit.xml'), 'utf8'));
    const html = await readFile(path.join(out, 'copies/r.html'), 'utf8');
    expect(html).toBe(await readFile(path.join(out, 'report.html'), 'utf8'));
    expect(html).toContain('<figure class="timeline" id="timeline-mobile"');
    expect(html).toContain('embedded mock IdP over msw');
    expect(r.stdout).toContain(`reports: ${path.join(out, 'report.json')}, ${path.join(out, 'junit.xml')}, ${path.join(out, 'report.html')}, ${path.join(out, 'copies/r.json')}`);
  });

  it('a group file that throws at load: its checks are reported errored, not dropped, and the run exits 3', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'load-failure');
    const r = await cli(['--only', 'offline-access,rotation', '--report-dir', out], { REFRESH_CONFORMANCE_TEST_LOAD_FAILURE: 'rotation' });
    expect(r.code).toBe(3);
    const json = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
    const rotation = json.checks.filter((c) => c.group === 'rotation');
    const { CHECKS } = await import('../suites/checks/index.ts');
    const rotationIds = new Set(CHECKS.filter((c) => c.group === 'rotation').map((c) => c.id));
    // Every rotation check is there, for every client: errored with the load error, or skipped where it never applied.
    expect(new Set(rotation.map((c) => c.id))).toEqual(rotationIds);
    const errored = rotation.filter((c) => c.status === 'errored');
    expect(errored.length).toBeGreaterThan(5);
    for (const c of errored) expect(c.message).toContain('not reported: the group file suites/rotation.test.ts failed to load: rotation: load failure injected');
    expect(rotation.every((c) => c.status === 'errored' || c.status === 'skipped')).toBe(true);
    expect(json.summary.errored).toBe(errored.length);
    expect(json.checks.filter((c) => c.group === 'offline-access' && c.status === 'passed').length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`\\n\\d+ passed, 0 failed, 0 warnings, ${errored.length} errored, \\d+ skipped, 0 inconclusive, 0 expected failures \\(`));
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(new RegExp(`<testsuites [^>]*errors="${errored.length}"`));
  });

  describe('against a mock IdP with a defect (no rotation)', () => {
    let mock: RunningMockIdp;
    beforeAll(async () => {
      mock = await serveMockIdp({ profile: await loadProfile('telenorid-plus'), testMode: true, defects: ['no-rotation'] });
    });
    afterAll(() => mock?.close());

    it('exits 1, names the failing checks, and the report shows them', { timeout: 120_000 }, async () => {
      const target = await targetFor(mock, 'defective', { driver: 'mock' });
      const out = path.join(dir, 'defect');
      const r = await cli(['--target', target, '--check', 'rotation.new-token-each-refresh', '--report-dir', out, '--transport', 'http'], { NO_COLOR: '1', FORCE_COLOR: '1' });
      expect(r.code).toBe(1);
      // --transport re-targets the embedded mock only: said, not silently dropped.
      expect(r.stderr).toContain(`refresh-conformance: warning: --transport is ignored: it re-targets the embedded mock, and ${target} is a remote target`);
      expect(r.stdout).toMatch(/^✗ rotation\.new-token-each-refresh \[mobile\]$/m);
      expect(r.stdout).toContain('expected: refresh #1 (rotation declared on): a refresh_token in the token response');
      expect(r.stdout).toMatch(/\n0 passed, 3 failed, 0 warnings, 0 errored, \d+ skipped, 0 inconclusive, 0 expected failures \(/);
      expect(r.stdout).not.toContain('\x1b['); // NO_COLOR wins over FORCE_COLOR
      const json = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
      expect(json.summary.failed).toBe(3); // mobile, public-web, web
      // What ran, against what, from which command line.
      expect(json).toMatchObject({ schemaVersion: 1, issuer: mock.url, node: process.version, defects: [] });
      expect(json.argv).toEqual(['--target', target, '--check', 'rotation.new-token-each-refresh', '--report-dir', out, '--transport', 'http']);
      const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<testsuites [^>]*failures="3"/);
      const html = await readFile(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('3 checks failed');
      expect(html).toContain(`issuer ${mock.url}`);
    });
  });

  describe('against a mock IdP without Pragma: no-cache (a SHOULD)', () => {
    let mock: RunningMockIdp;
    beforeAll(async () => {
      mock = await serveMockIdp({ profile: await loadProfile('telenorid-plus'), testMode: true, defects: ['no-pragma'] });
    });
    afterAll(() => mock?.close());

    it('a warning does not fail the run; with --strict it does (exit 1) and the summary says so', { timeout: 120_000 }, async () => {
      const target = await targetFor(mock, 'no-pragma', { driver: 'mock' });
      const args = ['--target', target, '--check', 'token-endpoint.no-cache-pragma,token-endpoint.no-store'];
      const plain = await cli([...args, '--report-dir', path.join(dir, 'warn')], { NO_COLOR: '1' });
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/\n\d+ passed, 0 failed, [1-9]\d* warnings, 0 errored, /);
      const json = JSON.parse(await readFile(path.join(dir, 'warn', 'report.json'), 'utf8')) as { checks: Array<{ id: string; status: string }> };
      expect(new Set(json.checks.filter((c) => c.status === 'warning').map((c) => c.id))).toEqual(new Set(['token-endpoint.no-cache-pragma']));
      // One check, one condition: the missing Pragma does not touch no-store (passed wherever it applies).
      expect(new Set(json.checks.filter((c) => c.id === 'token-endpoint.no-store').map((c) => c.status))).toEqual(new Set(['passed', 'skipped']));

      const strict = await cli([...args, '--strict', '--report-dir', path.join(dir, 'strict')], { NO_COLOR: '1' });
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain('--strict: warnings fail the run');
      const junit = await readFile(path.join(dir, 'strict', 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<testsuites [^>]*failures="[1-9]/);
    });
  });

  describe('against a mock IdP on real time', () => {
    let mock: RunningMockIdp;
    let profileFile: string;
    beforeAll(async () => {
      // A 4-second refresh lifetime for PublicWeb, so a check waits (really) about 2 seconds.
      const profile = JSON.parse(await readFile(path.join(ROOT, 'fixtures/profiles/telenorid-plus.json'), 'utf8'));
      delete profile.$schema;
      profile.policies.PublicWeb.lifetimeSeconds = 4;
      profileFile = path.join(dir, 'short-lived.json');
      await writeFile(profileFile, JSON.stringify(profile));
      mock = await serveMockIdp({ profile: await loadProfile(profileFile), testMode: true, clock: createClock({ mode: 'running' }) });
    });
    afterAll(() => mock?.close());

    it('prints what a check waits for and how long is left', { timeout: 120_000 }, async () => {
      const target = await targetFor(mock, 'real-time', { driver: 'real', maxWaitSeconds: 10 }, profileFile);
      const r = await cli(['--target', target, '--check', 'expiry.lives-declared-lifetime', '--report-dir', path.join(dir, 'real'), '--verbose']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('  ⧗ expiry.lives-declared-lifetime [public-web]: waiting 2 s (until just before the 4 s lifetime ends), 2 s left\n');
      expect(r.stdout).toMatch(/^✓ expiry\.lives-declared-lifetime \[public-web\]$/m);
      // The others would need days: skipped, with the reason.
      expect(r.stdout).toMatch(/- expiry\.lives-declared-lifetime \[mobile\] {2}\(skipped: needs 7776000 s of real time; clock\.maxWaitSeconds is 10\)/);
    });
  });
});

describe('options', () => {
  it('parses the output files and leaves the default target to the CLI', () => {
    expect(parseCli(['--json', 'a.json', '--junit', 'b.xml', '--html', 'c.html'])).toMatchObject({ json: 'a.json', junit: 'b.xml', html: 'c.html', reportDir: 'reports' });
    expect(parseCli([]).target).toBeUndefined();
    expect(() => parseCli(['--html', ''])).toThrow(UsageError);
    expect(() => parseCli(['--only', 'rotation,nope'])).toThrow('unknown group(s) nope');
  });

  it('parses --strict, --concurrency and --list-checks', () => {
    expect(parseCli([])).toMatchObject({ strict: false, listChecks: false });
    expect(parseCli([]).concurrency).toBeUndefined();
    expect(parseCli(['--strict', '--concurrency', '3', '--list-checks'])).toMatchObject({ strict: true, concurrency: 3, listChecks: true, listProfiles: false });
    expect(parseCli(['--list-profiles'])).toMatchObject({ listChecks: false, listProfiles: true });
    for (const bad of ['0', '-1', '1.5', 'two', '']) expect(() => parseCli(['--concurrency', bad]), bad).toThrow(UsageError);
  });

  it('names each ignored option: those a command does not read, and the embedded mock\'s with a remote target', () => {
    expect(ignoredFlags(parseCli(['--list-checks', '--profile', 'erp-net', '--only', 'sso', '--json', 'x.json']))).toEqual([
      '--only is ignored with --list-checks',
      '--json is ignored with --list-checks',
    ]);
    expect(ignoredFlags(parseCli(['-h', '--version']))).toEqual(['--version is ignored with --help']);
    expect(ignoredFlags(parseCli(['--self-test', '--verbose']))).toEqual(['--verbose is ignored with --self-test']);
    const run = parseCli(['--target', 't.json', '--transport', 'http', '--profile', 'erp-net', '--strict']);
    expect(ignoredFlags(run, { kind: 'embedded', origin: 't.json' })).toEqual([]);
    expect(ignoredFlags(run, { kind: 'remote', origin: 't.json' })).toEqual([
      '--transport is ignored: it re-targets the embedded mock, and t.json is a remote target (its profile and issuer come from the file)',
      '--profile is ignored: it re-targets the embedded mock, and t.json is a remote target (its profile and issuer come from the file)',
    ]);
    expect(ignoredFlags(parseCli(['--profile', 'erp-net', '--transport', 'http']))).toEqual([]);
  });

  it('names the --check ids that are no check', () => {
    expect(unknownCheckIds(['a', 'b', 'a', 'c'], new Set(['b']))).toEqual(['a', 'c']);
    expect(unknownCheckIds([], new Set(['b']))).toEqual([]);
  });

  it('exit code: 1 on a failure (or a warning under --strict), else 3 on an errored check or a run error, else 0', () => {
    const zero: ReportSummary = { passed: 0, failed: 0, warnings: 0, errored: 0, skipped: 0, inconclusive: 0, expectedFailures: 0 };
    const s = (over: Partial<ReportSummary>) => ({ ...zero, ...over });
    expect(exitCodeOf(s({ passed: 3, skipped: 2, inconclusive: 1, expectedFailures: 1, warnings: 2 }))).toBe(EXIT.ok);
    expect(exitCodeOf(s({ passed: 3, warnings: 1 }), { strict: true })).toBe(EXIT.failed);
    expect(exitCodeOf(s({ failed: 1, errored: 4 }))).toBe(EXIT.failed);
    expect(exitCodeOf(s({ passed: 3, errored: 1 }))).toBe(EXIT.errored);
    expect(exitCodeOf(s({ passed: 3 }), { problems: 1 })).toBe(EXIT.errored);
    expect(exitCodeOf(s({ errored: 1, warnings: 1 }), { strict: true })).toBe(EXIT.failed);
    expect(EXIT).toEqual({ ok: 0, failed: 1, setup: 2, errored: 3 });
  });

  it('loads only the suite files a --check names', () => {
    expect(groupsToRun(parseCli(['--check', 'rotation.old-token-rejected,expiry.fixed-not-extended']))).toEqual(['rotation', 'expiry']);
    expect(groupsToRun(parseCli(['--check', 'some-other-id']))).toEqual(['offline-access', 'rotation', 'expiry', 'sso', 'token-endpoint', 'sender-constraint']);
    expect(groupsToRun(parseCli(['--only', 'sso', '--check', 'rotation.x']))).toEqual(['sso']);
  });

  it('colours only on a terminal, unless NO_COLOR or FORCE_COLOR say otherwise', () => {
    expect(useColor({}, true)).toBe(true);
    expect(useColor({}, false)).toBe(false);
    expect(useColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({ NO_COLOR: '' }, true)).toBe(true);
    expect(useColor({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(useColor({ FORCE_COLOR: 'false' }, true)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(useColor({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false);
  });
});
