/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), the tarball installed into a
 * fresh project, then used with plain Node and no tsx: both bins, the runner API and the mock's
 * exports from an ES module, a conformance run through the installed CLI, and a TypeScript
 * consumer type-checked against the shipped declarations. Dependencies come from npm's cache when
 * it has them (CI's `npm ci` fills it), else from the registry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const NPM_CLI = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : undefined;

/** The environment without what `npm test` put in it for itself (npm_config_*, npm_package_*, …). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  return { ...env, NO_COLOR: '1', ...extra };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end in its own process group, killed as a group after timeoutMs. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      kill();
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      kill(); // anything it left in its group
      resolve({ code, stdout, stderr });
    });
  });
}

/** npm through the same Node as the tests, when npm told us where it lives. */
function npm(args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  return NPM_CLI ? run(process.execPath, [NPM_CLI, ...args], cwd, timeoutMs) : run('npm', args, cwd, timeoutMs);
}

const ok = (r: Ran) => expect(r.code, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);

describe('the packed tarball, installed into a fresh project', () => {
  let work: string;
  let app: string;
  let files: string[];
  let version: string;
  const bin = (name: string) => path.join(app, 'node_modules/refresh-conformance/bin', `${name}.mjs`);

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'rc-package-'));
    version = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const packed = await npm(['pack', '--pack-destination', work, '--json'], ROOT, 240_000);
    ok(packed);
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    expect(tarball, packed.stdout).toBeDefined();
    const listed = await run('tar', ['-tzf', path.join(work, tarball!)], work, 30_000);
    ok(listed);
    files = listed.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    app = path.join(work, 'app');
    await mkdir(app);
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    ok(await npm(['install', path.join(work, tarball!), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app, 300_000));
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ships compiled code, declarations, data and the bins; no sources, tests, interop or CI files', () => {
    for (const f of [
      'package.json',
      'README.md',
      'bin/refresh-conformance.mjs',
      'bin/refresh-conformance-mock.mjs',
      'dist/suites/index.js',
      'dist/suites/index.d.ts',
      'dist/mock-idp/index.js',
      'dist/mock-idp/index.d.ts',
      'dist/mock-idp/adapters/msw.js',
      'dist/mock-idp/adapters/node-http.js',
      'dist/scripts/conformance.js',
      'dist/scripts/mock-idp.js',
      'dist/scripts/merge-reports.js',
      'dist/fixtures/profiles/telenorid-plus.json',
      'dist/fixtures/profiles/erp-net.json',
      'dist/fixtures/profiles/profile.schema.json',
      'dist/fixtures/defects.json',
      'dist/fixtures/targets/mock.json',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    // The only *.test.js are the CLI's group files (vitest is its engine), never a test of this project.
    expect(files.filter((f) => /\.test\.(js|d\.ts)$/.test(f) && !/^dist\/suites\/[a-z-]+\.test\.(js|d\.ts)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /^(dist\/)?(interop|\.ci|mock-idp\/test|scripts\/test-setup|scripts\/bench)\//.test(f) || f.startsWith('dist/mock-idp/test/'))).toEqual([]);
    expect(existsSync(path.join(app, 'node_modules/tsx'))).toBe(false);
  });

  test('refresh-conformance under plain node: --help, --version, --list-checks', async () => {
    const help = await run(process.execPath, [bin('refresh-conformance'), '--help'], app, 60_000);
    ok(help);
    expect(help.stdout).toContain('Usage: refresh-conformance');
    const v = await run(process.execPath, [bin('refresh-conformance'), '--version'], app, 60_000);
    ok(v);
    expect(v.stdout.trim()).toBe(`refresh-conformance ${version}`);
    const list = await run(process.execPath, [bin('refresh-conformance'), '--list-checks'], app, 60_000);
    ok(list);
    expect(list.stdout.split('\n')[0]).toBe('id\tgroup\ttitle\tclause\tlevel');
    expect(list.stdout).toMatch(/^rotation\.[a-z-]+\trotation\t/m);
  }, 180_000);

  test('refresh-conformance runs a check against the embedded mock and writes the reports (vitest as its engine, from node_modules)', async () => {
    const r = await run(process.execPath, [bin('refresh-conformance'), '--only', 'rotation', '--report-dir', 'reports'], app, 240_000);
    ok(r);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed, 0 warnings, 0 errored/);
    const report = JSON.parse(await readFile(path.join(app, 'reports/report.json'), 'utf8')) as { summary: { passed: number } };
    expect(report.summary.passed).toBeGreaterThan(0);
    expect(existsSync(path.join(app, 'reports/junit.xml')) && existsSync(path.join(app, 'reports/report.html'))).toBe(true);
  }, 300_000);

  test('refresh-conformance-mock under plain node: --help, and serving discovery on a free port', async () => {
    const help = await run(process.execPath, [bin('refresh-conformance-mock'), '--help'], app, 60_000);
    ok(help);
    expect(help.stdout).toContain('Usage: refresh-conformance-mock');
    const mock: ChildProcess = spawn(process.execPath, [bin('refresh-conformance-mock'), '--port', '0', '--profile', 'erp-net'], {
      cwd: app,
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => mock.once('exit', () => resolve()));
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no banner:\n${out}`)), 60_000);
        mock.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Ctrl-C stops the server.')) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        mock.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
      });
      const issuer = /^issuer: +(http:\/\/127\.0\.0\.1:\d+)$/m.exec(banner)![1]!;
      const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string };
      expect(discovery.issuer).toBe(issuer);
      expect(discovery.token_endpoint).toBe(`${issuer}/token`);
    } finally {
      try {
        process.kill(-mock.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      await exited;
    }
  }, 120_000);

  test('the API and the mock from a plain Node ES module, with no vitest or tsx loaded', async () => {
    // A resolve hook that fails the script if anything asks for vitest or tsx.
    await writeFile(path.join(app, 'guard-hook.mjs'), `export async function resolve(specifier, context, next) {\n  if (/^(vitest|tsx)(\\/|$)/.test(specifier)) throw new Error('loaded ' + specifier);\n  return next(specifier, context);\n}\n`);
    await writeFile(path.join(app, 'guard.mjs'), `import { register } from 'node:module';\nregister('./guard-hook.mjs', import.meta.url);\n`);
    await writeFile(
      path.join(app, 'use.mjs'),
      `import { runConformance, writeRunReports, CHECKS, describeChecks, loadProfile } from 'refresh-conformance';
import { createMockIdp, fixtureClients, DEFECTS } from 'refresh-conformance/mock-idp';
import { mockIdpHandlers } from 'refresh-conformance/msw';
import { serveMockIdp } from 'refresh-conformance/node';
import { createRequire } from 'node:module';

const target = createRequire(import.meta.url).resolve('refresh-conformance/fixtures/targets/mock.json');
const run = await runConformance({ target, transport: 'direct', groups: ['rotation'] });
const written = await writeRunReports('api-reports', run);
const profile = await loadProfile('telenorid-plus');
const idp = await createMockIdp({ profile, issuer: 'https://idp.test' });
const discovery = await (await idp.fetch(new Request('https://idp.test/.well-known/openid-configuration'))).json();
const server = await serveMockIdp({ profile }, { port: 0 });
const served = await (await fetch(server.url + '/.well-known/openid-configuration')).json();
await server.close();
console.log(JSON.stringify({
  summary: run.report.summary,
  written: Object.keys(written),
  checks: CHECKS.length,
  listed: describeChecks(profile).length,
  defects: DEFECTS.length,
  clients: fixtureClients(profile).length,
  handlers: mockIdpHandlers(idp).length,
  issuer: discovery.issuer,
  servedIssuer: served.issuer === server.url,
}));
`,
    );
    const r = await run(process.execPath, ['--import', './guard.mjs', 'use.mjs'], app, 180_000);
    ok(r);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown> & { summary: Record<string, number> };
    expect(out.summary.passed).toBeGreaterThan(0);
    expect(out.summary).toMatchObject({ failed: 0, errored: 0 });
    expect(out).toMatchObject({ written: ['json', 'junit', 'html'], issuer: 'https://idp.test', servedIssuer: true, handlers: 1 });
    expect(out.checks).toBeGreaterThan(0);
    expect(existsSync(path.join(app, 'api-reports/report.html'))).toBe(true);
  }, 240_000);

  test('a TypeScript consumer type-checks against the shipped declarations (NodeNext, strict)', async () => {
    await writeFile(
      path.join(app, 'consumer.ts'),
      `import { runConformance, type ConformanceRun, type Report, type Target } from 'refresh-conformance';
import { createMockIdp, loadProfile, type MockIdp, type Profile } from 'refresh-conformance/mock-idp';
import { mockIdpHandlers } from 'refresh-conformance/msw';
import { serveMockIdp, type RunningMockIdp } from 'refresh-conformance/node';

export async function check(target: string | Target): Promise<Report> {
  const run: ConformanceRun = await runConformance({ target, groups: ['rotation', 'expiry'], strict: true });
  return run.report;
}
export async function mock(): Promise<[MockIdp, RunningMockIdp, number]> {
  const profile: Profile = await loadProfile('erp-net');
  const idp = await createMockIdp({ profile, issuer: 'https://idp.test', testMode: true });
  const served = await serveMockIdp({ profile }, { port: 0 });
  return [idp, served, mockIdpHandlers(idp).length];
}
// The declarations are real types, not any: each misuse below must be an error.
// @ts-expect-error: groups are the catalogue's group names
export const badGroup = () => runConformance({ target: 't.json', groups: ['no-such-group'] });
// @ts-expect-error: a report's summary counts are numbers
export const badCount = (r: Report): string => r.summary.passed;
// @ts-expect-error: createMockIdp needs a profile
export const noProfile = () => createMockIdp({ issuer: 'https://idp.test' });
`,
    );
    await writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app, 180_000);
    ok(r);
  }, 240_000);
});
