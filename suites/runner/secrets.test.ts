/**
 * No secret reaches a report or the log. A mock served on loopback (serveMockIdp, test mode, a known
 * admin token, defects so that checks fail and their HTTP exchanges are kept) is checked as a remote
 * target with the form login driver (the fixture user's password), clients with their secrets and the
 * control API (mock clock and logout). Every byte the server sends is tapped, so every access, refresh
 * and ID token, code and SSO cookie it issued is known. Then report.json, junit.xml, report.html and
 * the CLI's stdout and stderr are scanned for each of them, raw and in the encodings a leak would take
 * (percent/form in either case, JSON, HTML, Base64 and Base64url, Base64 in a Basic header), and for their first
 * and last 12 characters.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveMockIdp, type RunningMockIdp } from '../../mock-idp/adapters/node-http.ts';
import { loadProfile } from '../../mock-idp/index.ts';
import { buildReport, writeReports } from '../harness/report/index.ts';
import { writeHtmlReport } from '../harness/report/html.ts';
import { loadTarget } from '../harness/target.ts';
import { runCatalogue } from './pipeline.ts';
import { runCli } from './run-cli.ts';

const ADMIN_TOKEN = 'secrets-test-admin-token-5Qm2vX8r';

let running: RunningMockIdp;
let dir: string;
let targetFile: string;
/** Everything the mock server wrote: status lines' headers and bodies. */
const wire: string[] = [];
const originals = {
  writeHead: ServerResponse.prototype.writeHead,
  write: ServerResponse.prototype.write,
  end: ServerResponse.prototype.end,
};

function tap(): void {
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '');
  ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    wire.push(JSON.stringify(args.slice(1)));
    return (originals.writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof ServerResponse.prototype.writeHead;
  ServerResponse.prototype.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    wire.push(text(chunk));
    return (originals.write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof ServerResponse.prototype.write;
  ServerResponse.prototype.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') wire.push(text(chunk));
    return (originals.end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof ServerResponse.prototype.end;
}

beforeAll(async () => {
  tap();
  running = await serveMockIdp({
    profile: await loadProfile('telenorid-plus'),
    testMode: true,
    adminToken: ADMIN_TOKEN,
    // Failing checks keep their exchanges: refresh and introspection responses full of tokens.
    defects: ['no-rotation', 'scope-widening-accepted', 'introspection-says-active-after-revoke'],
  });
  dir = await mkdtemp(path.join(tmpdir(), 'secrets-'));
  const { idp } = running;
  const user = idp.users[0]!;
  targetFile = path.join(dir, 'target.json');
  await writeFile(
    targetFile,
    JSON.stringify({
      name: 'secrets',
      profile: 'telenorid-plus',
      issuer: running.url,
      clients: idp.clients.map((c, i) => ({
        id: c.id,
        ...(c.secret !== undefined && { secret: c.secret }),
        auth: c.secret === undefined ? 'none' : i % 2 ? 'client_secret_post' : 'client_secret_basic',
        redirectUri: c.redirectUris[0],
        policy: c.policy,
        scope: 'openid profile',
      })),
      login: { driver: 'form', username: user.username, password: user.password },
      logout: { driver: 'mock' },
      clock: { driver: 'mock' },
      control: { adminToken: ADMIN_TOKEN },
      timeouts: { requestMs: 5_000, runMs: 60_000 },
    }),
  );
});

afterAll(async () => {
  Object.assign(ServerResponse.prototype, originals);
  await running?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The secrets: configured ones, and every token, code and session cookie the server has sent so far. */
function secrets(): Map<string, string> {
  const { idp } = running;
  const out = new Map<string, string>([[ADMIN_TOKEN, 'admin token']]);
  for (const c of idp.clients) if (c.secret) out.set(c.secret, `client secret of ${c.id}`);
  out.set(idp.users[0]!.password, 'password');
  const all = wire.join('\n');
  for (const m of all.matchAll(/"(access_token|refresh_token|id_token)":"([^"]+)"/g)) out.set(m[2]!, m[1]!);
  for (const m of all.matchAll(/[?&]code=([A-Za-z0-9_-]{20,})/g)) out.set(m[1]!, 'code');
  for (const m of all.matchAll(/mock_idp_sso=([A-Za-z0-9_-]{16,})/g)) out.set(m[1]!, 'SSO session cookie');
  return out;
}

/** The forms a secret takes in text: raw, percent/form-encoded, JSON- and HTML-escaped, Base64, and in a Basic header. */
function forms(value: string, clientId?: string): string[] {
  const html = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const b64 = Buffer.from(value).toString('base64');
  const list = [
    value,
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ x: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    html,
    b64.replace(/=+$/, ''),
    Buffer.from(value).toString('base64url'),
  ];
  if (clientId) list.push(Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(value)}`).toString('base64'));
  // A cut-off leak: the first or last 12 characters of a long random value.
  if (value.length >= 24) list.push(value.slice(0, 12), value.slice(-12));
  return [...new Set(list)];
}

function leaks(haystacks: Record<string, string>): string[] {
  const found: string[] = [];
  const clientOf = new Map(running.idp.clients.filter((c) => c.secret).map((c) => [c.secret!, c.id]));
  for (const [value, label] of secrets()) {
    for (const f of forms(value, clientOf.get(value))) {
      for (const [name, text] of Object.entries(haystacks)) if (text.includes(f)) found.push(`${label} (${f.slice(0, 6)}…) in ${name}`);
    }
  }
  return found;
}

async function readReports(reportDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(reportDir)) out[f] = await readFile(path.join(reportDir, f), 'utf8');
  return out;
}

describe('no secret in a report or in the log', () => {
  it('in-process runner: report.json, junit.xml and report.html hold no secret, though checks failed with exchanges', async () => {
    const target = await loadTarget(targetFile);
    const { results } = await runCatalogue(target);
    const failed = results.filter((r) => r.status === 'failed');
    // The defects make checks fail, and their messages carry the recorded exchanges.
    expect(failed.length).toBeGreaterThan(3);
    expect(failed.some((r) => (r.exchanges ?? []).some((e) => /"access_token"/.test(e.responseBody ?? '')))).toBe(true);
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(10);

    const reportDir = path.join(dir, 'in-process');
    const report = buildReport({ target: target.name, profile: target.profile.name, startedAt: new Date(), durationMs: 0, checks: results });
    await writeReports(reportDir, report);
    await writeHtmlReport(path.join(reportDir, 'report.html'), { ...report, checks: report.checks.map((c, i) => ({ ...c, timeline: results[i]!.timeline })) }, { profile: target.profile });
    const files = await readReports(reportDir);
    expect(Object.keys(files).sort()).toEqual(['junit.xml', 'report.html', 'report.json']);
    // Redaction markers are there, so secrets were met and replaced, not just absent.
    expect(files['report.json']).toMatch(/\[redacted:(refresh_token|access_token|client_secret|password)#[0-9a-f]{6}\]/);

    const s = secrets();
    expect([...s.values()].filter((l) => l === 'refresh_token').length).toBeGreaterThan(20);
    expect([...s.values()].filter((l) => l === 'code').length).toBeGreaterThan(20);
    expect([...s.values()].filter((l) => l === 'id_token').length).toBeGreaterThan(20);
    expect(leaks(files)).toEqual([]);
    // The scan itself finds secrets where they are: on the wire and in the target file.
    const planted = leaks({ wire: wire.join('\n'), target: await readFile(targetFile, 'utf8') }).join('\n');
    for (const where of [/^admin token .* in target$/m, /^password .* in target$/m, /^client secret of confidential .* in target$/m]) expect(planted).toMatch(where);
    for (const label of ['access_token', 'refresh_token', 'id_token', 'code', 'SSO session cookie']) expect(planted).toMatch(new RegExp(`^${label} .* in wire$`, 'm'));
  }, 60_000);

  it('the CLI: stdout, stderr and every file in --report-dir hold no secret', async () => {
    const reportDir = path.join(dir, 'cli');
    const { code, stdout, stderr } = await runCli(['--target', targetFile, '--report-dir', reportDir, '--only', 'rotation,token-endpoint,offline-access', '--verbose']);
    // Exit 1: checks failed (the defects), not a setup problem.
    expect({ code, stderr: stderr.slice(0, 500) }).toMatchObject({ code: 1 });
    expect(stdout).toMatch(/✗ /);
    expect(stdout).toMatch(/\[redacted:/);
    const files = await readReports(reportDir);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['report.json', 'junit.xml', 'report.html']));
    expect(leaks({ ...files, stdout, stderr })).toEqual([]);
  }, 90_000);
});
