/**
 * Resident size of the mock holding N live token families, in a fresh process started with
 * --expose-gc (the orchestrator does so). Usage: node --expose-gc --import tsx scripts/bench/memory.ts store|handler N
 *   store    families made with the mock's own issuing functions (startSession, startFamily,
 *            issueAccessToken) on a Store: what a login + code exchange leaves behind, without HTTP
 *   handler  families made through the handler: authorize (login_hint, a new SSO session each)
 *            and the code exchange (openid offline_access: an ID token is signed too)
 * Prints one JSON line: { mode, families, baselineRss, rss, heapUsed, bytesPerFamily, ms }.
 * Diagnostics: MEMDEBUG=1 prints the V8 heap spaces to stderr; MEMSNAP=FILE writes a heap snapshot.
 */
import { createHash, randomBytes } from 'node:crypto';
import { correctBehaviour } from '../../mock-idp/behaviour.ts';
import { createDpopState } from '../../mock-idp/dpop.ts';
import { createClock } from '../../mock-idp/clock.ts';
import { endpointsFor, type IdpContext } from '../../mock-idp/context.ts';
import { fixtureClients, fixtureUsers } from '../../mock-idp/fixtures.ts';
import { createMockIdp, loadProfile } from '../../mock-idp/index.ts';
import { createKeys } from '../../mock-idp/keys.ts';
import { allowedHosts } from '../../mock-idp/origin.ts';
import { startSession } from '../../mock-idp/sessions.ts';
import { Store } from '../../mock-idp/store.ts';
import { issueAccessToken, startFamily } from '../../mock-idp/tokens.ts';
import { decideIssue } from '../../mock-idp/profile/model.ts';

export interface MemoryResult {
  mode: 'store' | 'handler';
  families: number;
  baselineRss: number;
  rss: number;
  heapUsed: number;
  bytesPerFamily: number;
  ms: number;
  /** False when --expose-gc was missing: figures then include garbage. */
  gc: boolean;
}

const gc = (globalThis as { gc?: () => void }).gc;
function settle(): void {
  if (!gc) return;
  for (let i = 0; i < 3; i++) gc();
}

const mode = (process.argv[2] ?? 'store') as 'store' | 'handler';
const families = Number(process.argv[3] ?? 100_000);
// A profile name or file (a bundled copy of this script cannot find the built-ins by name).
const profile = await loadProfile(process.argv[4] ?? 'telenorid-plus');
const issuer = 'https://memory.test';
// Kept alive until the end: what is measured is the state these hold.
const keep: unknown[] = [];

settle();
let baselineRss: number;
const t0 = performance.now();
if (mode === 'store') {
  const clients = fixtureClients(profile);
  const users = fixtureUsers();
  const clock = createClock();
  const store = new Store();
  const tokenKey = randomBytes(32);
  const ctx: IdpContext = {
    issuer,
    behaviour: correctBehaviour(profile),
    clients: new Map(clients.map((c) => [c.id, c])),
    users,
    store,
    clock,
    dpop: createDpopState(clock, tokenKey, store),
    keys: await createKeys(),
    tokenKey,
    testMode: true,
    hosts: allowedHosts(issuer),
    endpoints: endpointsFor(issuer),
  };
  keep.push(ctx);
  settle();
  baselineRss = process.memoryUsage().rss;
  const client = clients.find((c) => c.policy === 'Mobile')!;
  for (let i = 0; i < families; i++) {
    const user = users[i % users.length]!;
    const session = await startSession(ctx, user);
    const scope = ['openid', 'profile', 'offline_access'];
    const issue = decideIssue(profile, profile.policies.Mobile!, scope, ctx.clock.now());
    if (!issue.issue) throw new Error(`the Mobile policy issues no refresh token: ${issue.reason}`);
    const { familyId } = await startFamily(ctx, { client, sub: user.sub, sid: session.id, scope, authTime: session.authTime, issue });
    await issueAccessToken(ctx, { client, sub: user.sub, scope, familyId, sid: session.id });
  }
} else {
  const idp = await createMockIdp({ profile, issuer, testMode: true });
  keep.push(idp);
  settle();
  baselineRss = process.memoryUsage().rss;
  const client = idp.clients.find((c) => c.policy === 'Mobile')!;
  for (let i = 0; i < families; i++) {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: client.redirectUris[0]!,
      scope: 'openid profile offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login_hint: idp.users[i % idp.users.length]!.username,
    });
    const r = await idp.fetch(new Request(`${issuer}/authorize?${query}`));
    const code = new URL(r.headers.get('location')!).searchParams.get('code')!;
    const t = await idp.fetch(
      new Request(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: client.redirectUris[0]!, client_id: client.id }),
      }),
    );
    if (t.status !== 200) throw new Error(`code exchange failed: ${await t.text()}`);
    await t.arrayBuffer();
  }
}
const ms = performance.now() - t0;
settle();
const mem = process.memoryUsage();
const result: MemoryResult = {
  mode,
  families,
  baselineRss,
  rss: mem.rss,
  heapUsed: mem.heapUsed,
  bytesPerFamily: Math.round((mem.rss - baselineRss) / families),
  ms,
  gc: gc !== undefined,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
if (process.env.MEMDEBUG) {
  const v8 = await import('node:v8');
  console.error(process.memoryUsage());
  for (const s of v8.getHeapSpaceStatistics()) console.error(s.space_name, (s.space_size / 1e6).toFixed(1), (s.space_used_size / 1e6).toFixed(1));
}
if (process.env.MEMSNAP && keep.length) {
  const v8 = await import('node:v8');
  v8.writeHeapSnapshot(process.env.MEMSNAP);
}
