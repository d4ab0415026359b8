/**
 * report.json has a JSON Schema (fixtures/schemas/report.schema.json, generated from the zod schema that
 * types the report), and a real run's report.json validates against the shipped file: read back as a
 * schema (zod's fromJSONSchema), not through the zod schema it came from. The run's facts are in it
 * (schema version, tool, finish time, Node, redacted command line, defects), and each failed check carries
 * its verdict structured (expected, seen, the exchanges it cites) with every step of the check.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTarget, type Target } from './target.ts';
import { buildReport, redactArgv, writeReports, type Report } from './report/index.ts';
import { REPORT_SCHEMA_FILE, reportJsonSchemaText } from './report/schema.ts';
import { runCatalogue } from '../runner/pipeline.ts';
import { applyExpectations } from '../runner/expected.ts';

let written: Record<string, unknown>;
let report: Report;
let schema: z.ZodType;

beforeAll(async () => {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, embedded: { transport: 'direct' } } as Target;
  const started = new Date();
  const expected = [{ id: 'sso.refresh-after-session-expiry', reason: 'known: the session end is ignored' }];
  const { results } = await runCatalogue(target, { defects: ['ignores-sso-logout'], groups: ['sso'] });
  const checks = results.map((r) => applyExpectations(r, expected));
  const built = buildReport({
    target: target.name,
    profile: target.profile.name,
    startedAt: started,
    durationMs: Date.now() - started.getTime(),
    checks,
    issuer: null,
    argv: redactArgv(['--only', 'sso', '--admin-token', 'very-secret-admin', '--client-secret=hush-hush']),
    defects: ['ignores-sso-logout'],
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'rc-report-schema-'));
  const { json } = await writeReports(dir, built);
  written = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>;
  report = written as unknown as Report;
  schema = z.fromJSONSchema(JSON.parse(await readFile(REPORT_SCHEMA_FILE, 'utf8')));
}, 120_000);

describe('report.json schema', () => {
  it('the shipped schema is the one the zod schema gives (npx tsx scripts/report-schema.ts)', async () => {
    expect(await readFile(REPORT_SCHEMA_FILE, 'utf8')).toBe(reportJsonSchemaText());
  });

  it("a real run's report.json validates against the shipped schema", () => {
    const result = schema.safeParse(written);
    expect(result.error?.issues ?? []).toEqual([]);
    expect(report.summary.failed).toBeGreaterThan(0);
    expect(report.summary.expectedFailures).toBeGreaterThan(0);
  });

  it('the schema rejects a report without its version and a check with an unknown status', () => {
    const { schemaVersion: _v, ...unversioned } = written;
    expect(schema.safeParse(unversioned).success).toBe(false);
    const checks = (written.checks as object[]).map((c, i) => (i === 0 ? { ...c, status: 'maybe' } : c));
    expect(schema.safeParse({ ...written, checks }).success).toBe(false);
  });

  it('says what ran, when, on what, with which defects, and the command line without its secrets', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(report).toMatchObject({ schemaVersion: 1, tool: { name: 'refresh-conformance', version: pkg.version }, issuer: null, node: process.version, defects: ['ignores-sso-logout'] });
    expect(Date.parse(report.finishedAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
    expect(report.argv).toEqual(['--only', 'sso', '--admin-token', '[redacted]', '--client-secret=[redacted]']);
  });

  it('a failed check carries expected, seen and the exchanges it cites, structured; the message says the same', () => {
    const failed = report.checks.filter((c) => c.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const c of failed) {
      expect(c.expected, c.id).toEqual(expect.any(String));
      expect(c.seen, c.id).toEqual(expect.any(String));
      expect(c.message).toContain(`expected: ${c.expected}\nseen: ${c.seen}`);
      expect(c.evidence!.length, c.id).toBeGreaterThan(0);
      for (const i of c.evidence!) expect(c.exchanges![i], `${c.id} evidence #${i}`).toBeDefined();
    }
    const xf = report.checks.find((c) => c.status === 'expected-failure')!;
    expect(xf).toMatchObject({ expectedFailureReason: 'known: the session end is ignored', expected: expect.any(String), seen: expect.any(String) });
  });

  it("sso.refresh-after-logout's exchanges include its logout, and the refresh after it, in order", () => {
    const c = report.checks.find((x) => x.id === 'sso.refresh-after-logout' && x.status === 'failed')!;
    expect(c, 'sso.refresh-after-logout failed under ignores-sso-logout').toBeDefined();
    const urls = c.exchanges!.map((x) => `${x.method} ${new URL(x.url).pathname}${x.via ? ` (${x.via})` : ''}`);
    const logout = urls.indexOf('POST /__control/sso/end (in-process)');
    expect(logout, urls.join('\n')).toBeGreaterThan(0);
    expect(urls.slice(logout + 1)).toContain('POST /token');
    expect(c.evidence!.some((i) => i > logout)).toBe(true);
  });
});
