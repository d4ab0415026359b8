import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from 'htmlparser2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from './record.ts';
import { buildReport, reportToJson, summarize, summaryLine } from './report/json.ts';
import { escapeXml, reportToJUnit } from './report/junit.ts';
import type { CheckResult } from './report/types.ts';
import { writeReports } from './report/write.ts';

const exchange: Exchange = {
  method: 'POST',
  url: 'https://idp.test/token',
  requestHeaders: [],
  requestBody: 'grant_type=refresh_token&refresh_token=[redacted:refresh_token#3fa2c1]',
  status: 400,
  responseHeaders: [],
  responseBody: '{"error":"invalid_grant"}',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 12,
};

const check = (over: Partial<CheckResult>): CheckResult => ({
  id: 'rotation-new-token',
  group: 'rotation',
  title: 'A refresh returns a new refresh token',
  clause: 'RFC 9700 §4.14.2',
  citations: [{ spec: 'RFC 9700', section: '4.14.2' }],
  client: 'mobile',
  policy: 'Mobile',
  level: 'MUST',
  status: 'passed',
  message: null,
  durationMs: 120,
  ...over,
});

const checks: CheckResult[] = [
  check({}),
  check({
    id: 'reuse-revokes-family',
    status: 'failed',
    message: 'expected invalid_grant for the successor token\nactual: HTTP 200 with <tokens> & "quotes" \u0001',
    exchanges: [exchange],
  }),
  check({ id: 'expiry-fixed', group: 'expiry', client: 'conf', policy: 'Confidential', status: 'skipped', message: 'needs a real-time wait of 1209600 s', exchanges: [exchange] }),
  check({ id: 'discovery', group: 'discovery', client: null, policy: null, status: 'expected-failure', message: 'known: issuer has a trailing slash' }),
];

/** One check in each status. */
const sixStatuses: CheckResult[] = (['passed', 'failed', 'warning', 'errored', 'skipped', 'inconclusive', 'expected-failure'] as const).map((status) =>
  check({ id: `c-${status}`, status, level: status === 'warning' ? 'SHOULD' : 'MUST', message: status === 'passed' ? null : `why ${status}\nsecond line` }),
);

const report = buildReport({ target: 'staging', profile: 'telenorid-plus', startedAt: new Date('2026-01-01T10:00:00.000Z'), durationMs: 4321.4, checks });

describe('report.json', () => {
  it('counts each status', () => {
    const zero = { passed: 0, failed: 0, warnings: 0, errored: 0, skipped: 0, inconclusive: 0, expectedFailures: 0 };
    expect(summarize(checks)).toEqual({ ...zero, passed: 1, failed: 1, skipped: 1, expectedFailures: 1 });
    expect(report.summary).toEqual({ ...zero, passed: 1, failed: 1, skipped: 1, expectedFailures: 1 });
    expect(summarize(sixStatuses)).toEqual({ passed: 1, failed: 1, warnings: 1, errored: 1, skipped: 1, inconclusive: 1, expectedFailures: 1 });
  });

  it('states every count in the summary line, in a fixed order', () => {
    expect(summaryLine(summarize(sixStatuses))).toBe('1 passed, 1 failed, 1 warnings, 1 errored, 1 skipped, 1 inconclusive, 1 expected failures');
  });

  it('keeps the exchanges of warnings and errored checks too; says when strict and why setup failed', () => {
    const r = buildReport({ target: 't', profile: 'p', startedAt: 'x', durationMs: 0, checks: sixStatuses.map((c) => ({ ...c, exchanges: [exchange] })), strict: true, setupError: 'issuer unreachable' });
    expect(Object.fromEntries(r.checks.map((c) => [c.status, c.exchanges?.length ?? 0]))).toEqual({ passed: 0, failed: 1, warning: 1, errored: 1, skipped: 0, inconclusive: 0, 'expected-failure': 1 });
    expect(r).toMatchObject({ strict: true, setupError: 'issuer unreachable' });
    expect('strict' in report || 'setupError' in report).toBe(false);
  });

  it('keeps exchanges of failed checks only, by default', () => {
    expect(report.checks.map((c) => c.exchanges?.length ?? 0)).toEqual([0, 1, 0, 0]);
    const all = buildReport({ target: 't', profile: 'p', startedAt: 'x', durationMs: 0, checks, exchanges: 'all' });
    expect(all.checks.map((c) => c.exchanges?.length ?? 0)).toEqual([0, 1, 1, 0]);
    const none = buildReport({ target: 't', profile: 'p', startedAt: 'x', durationMs: 0, checks, exchanges: 'none' });
    expect(none.checks.every((c) => c.exchanges === undefined)).toBe(true);
  });

  it('serializes the documented shape', () => {
    const json = JSON.parse(reportToJson(report)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['schemaVersion', 'tool', 'target', 'profile', 'issuer', 'startedAt', 'finishedAt', 'durationMs', 'node', 'argv', 'defects', 'summary', 'checks']);
    expect(json.finishedAt).toBe('2026-01-01T10:00:04.321Z');
    expect(json.startedAt).toBe('2026-01-01T10:00:00.000Z');
    expect(json.durationMs).toBe(4321);
    expect((json.checks as CheckResult[])[3]).toEqual({
      id: 'discovery',
      group: 'discovery',
      title: 'A refresh returns a new refresh token',
      clause: 'RFC 9700 §4.14.2',
      citations: [{ spec: 'RFC 9700', section: '4.14.2' }],
      client: null,
      policy: null,
      status: 'expected-failure',
      level: 'MUST',
      message: 'known: issuer has a trailing slash',
      durationMs: 120,
    });
  });
});

/** A small XML reader for assertions: elements with attributes and text, entities decoded. */
interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}
function parseXml(xml: string): Node {
  const root: Node = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const node: Node = { name, attrs, children: [], text: '' };
        stack.at(-1)!.children.push(node);
        stack.push(node);
      },
      ontext(t) {
        stack.at(-1)!.text += t;
      },
      onclosetag() {
        stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(xml);
  parser.end();
  expect(stack).toHaveLength(1); // balanced
  return root.children[0]!;
}

describe('junit.xml', () => {
  const xml = reportToJUnit(report);
  const doc = parseXml(xml.replace(/^<\?xml[^>]*\?>\n/, ''));

  it('has an XML declaration and testsuites > testsuite per group > testcase', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '4', failures: '1', errors: '0', time: '4.321' });
    const suites = doc.children.filter((c) => c.name === 'testsuite');
    expect(suites.map((s) => [s.attrs.name, s.attrs.tests, s.attrs.failures, s.attrs.skipped])).toEqual([
      ['rotation', '2', '1', '0'],
      ['expiry', '1', '0', '1'],
      ['discovery', '1', '0', '1'],
    ]);
    expect(suites[0]!.attrs.timestamp).toBe('2026-01-01T10:00:00');
    expect(suites[0]!.attrs.time).toBe('0.240');
  });

  it('names testcases "id [client]" with the group as classname', () => {
    const cases = doc.children.flatMap((s) => s.children.filter((c) => c.name === 'testcase'));
    expect(cases.map((c) => [c.attrs.name, c.attrs.classname, c.attrs.time])).toEqual([
      ['rotation-new-token [mobile]', 'rotation', '0.120'],
      ['reuse-revokes-family [mobile]', 'rotation', '0.120'],
      ['expiry-fixed [conf]', 'expiry', '0.120'],
      ['discovery', 'discovery', '0.120'],
    ]);
    expect(cases[0]!.children).toEqual([]);
  });

  it('writes failure with escaped message, clause as type, and the exchanges in the body', () => {
    const failed = doc.children[0]!.children.find((c) => c.attrs.name === 'reuse-revokes-family [mobile]')!;
    const failure = failed.children[0]!;
    expect(failure.name).toBe('failure');
    expect(failure.attrs.type).toBe('RFC 9700 §4.14.2');
    expect(failure.attrs.message).toBe('expected invalid_grant for the successor token');
    expect(failure.text).toContain('actual: HTTP 200 with <tokens> & "quotes" \\x01');
    expect(failure.text).toContain('> POST https://idp.test/token');
    expect(failure.text).toContain('< {"error":"invalid_grant"}');
    // The cited spec sections, linked from the citation table, before the exchanges.
    expect(failure.text).toContain('\n\nsee: RFC 9700 §4.14.2 https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2\n');
    expect(xml).not.toContain('\u0001');
  });

  it('reports skipped and expected failures as skipped', () => {
    const skipped = doc.children[1]!.children.find((c) => c.name === 'testcase')!.children[0]!;
    expect(skipped).toMatchObject({ name: 'skipped', attrs: { message: 'needs a real-time wait of 1209600 s' } });
    const expected = doc.children[2]!.children.find((c) => c.name === 'testcase')!.children[0]!;
    expect(expected).toMatchObject({ name: 'skipped', attrs: { message: 'expected failure: known: issuer has a trailing slash' } });
  });

  it('errored → <error>, inconclusive → <skipped> with the reason, a warning passes with it in <system-out>; the counts agree', () => {
    const six = buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T10:00:00.000Z', durationMs: 1, checks: sixStatuses });
    const root = parseXml(reportToJUnit(six).replace(/^<\?xml[^>]*\?>\n/, ''));
    expect(root.attrs).toMatchObject({ tests: '7', failures: '1', errors: '1' });
    expect(root.children[0]!.attrs).toMatchObject({ tests: '7', failures: '1', errors: '1', skipped: '3' });
    const outcome = (id: string) => root.children[0]!.children.find((c) => c.attrs.name === `${id} [mobile]`)!.children;
    expect(outcome('c-errored')).toMatchObject([{ name: 'error', attrs: { message: 'why errored', type: 'errored' } }]);
    expect(outcome('c-errored')[0]!.text).toContain('why errored\nsecond line');
    expect(outcome('c-inconclusive')).toMatchObject([{ name: 'skipped', attrs: { message: 'inconclusive: why inconclusive\nsecond line' } }]);
    expect(outcome('c-warning')).toMatchObject([{ name: 'system-out' }]);
    expect(outcome('c-warning')[0]!.text).toMatch(/^warning: A refresh returns a new refresh token \(RFC 9700 §4\.14\.2, SHOULD\)\nwhy warning/);
    expect(outcome('c-failed')).toMatchObject([{ name: 'failure' }]);
  });

  it('a failure citing a documentation page lists it once among the see: links, with its section', () => {
    const doc = 'https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation';
    const cited = check({ status: 'failed', message: 'expected the family revoked', citations: [{ doc, section: 'Automatic reuse detection' }, { spec: 'RFC 9700', section: '4.14.2' }] });
    const root = parseXml(reportToJUnit(buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T10:00:00.000Z', durationMs: 1, checks: [cited] })).replace(/^<\?xml[^>]*\?>\n/, ''));
    const text = root.children[0]!.children.find((c) => c.name === 'testcase')!.children[0]!.text;
    expect(text).toContain(`\n\nsee: ${doc} §Automatic reuse detection\nsee: RFC 9700 §4.14.2 https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2`);
  });

  it('under --strict a warning is a <failure>', () => {
    const strict = buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T10:00:00.000Z', durationMs: 1, checks: sixStatuses, strict: true });
    const root = parseXml(reportToJUnit(strict).replace(/^<\?xml[^>]*\?>\n/, ''));
    expect(root.attrs).toMatchObject({ failures: '2', errors: '1' });
    const warning = root.children[0]!.children.find((c) => c.attrs.name === 'c-warning [mobile]')!.children;
    expect(warning).toMatchObject([{ name: 'failure', attrs: { message: 'why warning' } }]);
  });

  it('a setup failure is one "setup" testcase with an <error> giving the reason', () => {
    const setup = buildReport({ target: 't', profile: 'p', startedAt: '2026-01-01T10:00:00.000Z', durationMs: 1, checks: [], setupError: 'issuer https://idp.example unreachable: ECONNREFUSED' });
    const root = parseXml(reportToJUnit(setup).replace(/^<\?xml[^>]*\?>\n/, ''));
    expect(root.attrs).toMatchObject({ tests: '1', failures: '0', errors: '1' });
    expect(root.children[0]!.attrs).toMatchObject({ name: 'setup', tests: '1', errors: '1' });
    expect(root.children[0]!.children[0]!.children).toMatchObject([{ name: 'error', attrs: { message: 'issuer https://idp.example unreachable: ECONNREFUSED', type: 'setup' } }]);
  });

  it('escapes XML specials, shows control characters as escapes and drops what XML 1.0 cannot carry', () => {
    expect(escapeXml('a<b>&c\u0000\uD800x\r\n\u001b[2J\u009b')).toBe('a&lt;b&gt;&amp;c\\x00\uFFFDx&#13;\n\\x1b[2J\\u009b');
    expect(escapeXml('lone\rreturn')).toBe('lone\\x0dreturn');
    expect(escapeXml('emoji \uD83D\uDE00 stays')).toBe('emoji \uD83D\uDE00 stays');
  });
});

describe('writeReports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reports-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the directory and writes report.json and junit.xml', async () => {
    const out = path.join(dir, 'nested', 'run-1');
    const files = await writeReports(out, report);
    expect(files).toEqual({ json: path.join(out, 'report.json'), junit: path.join(out, 'junit.xml') });
    expect(JSON.parse(await readFile(files.json, 'utf8'))).toEqual(JSON.parse(reportToJson(report)));
    expect(await readFile(files.junit, 'utf8')).toBe(reportToJUnit(report));
  });
});
