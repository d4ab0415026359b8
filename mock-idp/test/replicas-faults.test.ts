/**
 * Redis lost while three replicas of the mock service serve a bounded load of refreshes: the
 * redis-server process is stopped (SIGTERM, as an operator stops it; its append-only file, synced
 * before each answer, is kept) and started again on the same port.
 *
 * While it is down: the token endpoint answers 503 with a JSON temporarily_unavailable (no-store), the
 * authorization endpoint redirects with error=temporarily_unavailable (RFC 6749 §4.1.2.1), the control
 * API answers 503 JSON, every
 * answer comes within a bound (no hang), no 500, no replica exits. Once it is back: every replica
 * serves again. And no refresh happened by halves: each token family, read afterwards, is a chain of
 * rotated tokens ending in one active token that the client holds; a family whose refresh answer was
 * lost in the outage (the rotation was done, the 503 came after) is the only one that may end
 * revoked, by the client's retry of the rotated-out token (reuse), with exactly one rotation more
 * than the client saw.
 *
 * Without redis-server the file is skipped, saying so, except in CI (CI=true): .ci/run installs it.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureClients } from '../fixtures.ts';
import { loadProfile } from '../profile/index.ts';
import { redisSkipReason } from './redis-server.ts';
import { ReplicaClient, type Answer } from './replica-client.ts';
import { startCluster, type Cluster } from './replica-processes.ts';

const skip = await redisSkipReason();
if (skip) console.warn(`mock replicas losing Redis skipped: ${skip}`);

const profile = await loadProfile('telenorid-plus');
// Mobile: public, rotation, no grace window, reuse revokes the family.
const mobile = fixtureClients(profile).find((c) => c.policy === 'Mobile')!;
const FAMILIES = 30;
const USERS = Array.from({ length: FAMILIES }, (_, i) => ({ username: `load-${String(i).padStart(2, '0')}`, password: `load-password-${i}-7c1e` }));
/** No answer may take longer: an answer that never comes is a hang. */
const ANSWER_WITHIN_MS = 15_000;

interface Family {
  username: string;
  token: string;
  /** Refreshes answered 200. */
  successes: number;
  /** A refresh of the token now held was answered with an error after Redis went: it may have rotated all the same. */
  uncertain: boolean;
  /** Refused after an uncertain answer: the lost rotation's reuse. */
  lost: boolean;
}

type Phase = 'before' | 'down' | 'after';

describe.skipIf(skip !== undefined)('mock replicas losing their Redis store under load', () => {
  let cluster: Cluster;
  const http = new ReplicaClient(12);
  const origin = (i: number) => cluster.replicas[i % cluster.replicas.length]!.origin;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-replicas-faults-'));
    await writeFile(path.join(dir, 'idp.json'), JSON.stringify({ users: USERS }));
    cluster = await startCluster({ count: 3, persist: true, args: ['--config', path.join(dir, 'idp.json')] });
  }, 120_000);

  afterAll(async () => {
    await http.close();
    await cluster?.stop();
  }, 30_000);

  test('503 temporarily_unavailable while Redis is down, recovery when it is back, and no refresh done by halves', async () => {
    const families: Family[] = [];
    for (const [i, u] of USERS.entries()) {
      const t = await http.login(origin(i), origin(i + 1), { clientId: mobile.id, redirectUri: mobile.redirectUris[0]!, username: u.username });
      families.push({ username: u.username, token: t.refresh_token!, successes: 0, uncertain: false, lost: false });
    }

    let phase: Phase = 'before';
    let running = true;
    const count = { before: 0, down: 0, after: 0, unavailable: 0, afterRecovery: 0 };
    const violations: string[] = [];
    let turn = 0;
    const describeAnswer = (a: Answer) => `${a.status} ${a.text.slice(0, 160)}`;

    const worker = async (f: Family): Promise<void> => {
      while (running && !f.lost) {
        const at = turn++ % 3;
        let a: Answer;
        try {
          a = await http.refresh(origin(at), f.token, mobile.id, ANSWER_WITHIN_MS);
        } catch (e) {
          violations.push(`${f.username} at replica ${at} (${phase}): no answer: ${(e as Error).message}`);
          return;
        }
        count[phase]++;
        if (a.status === 200 && typeof a.json?.refresh_token === 'string') {
          f.token = a.json.refresh_token;
          f.successes++;
          f.uncertain = false;
          if (phase === 'after') count.afterRecovery++;
        } else if (a.status === 503) {
          count.unavailable++;
          if (a.json?.error !== 'temporarily_unavailable' || !String(a.headers['cache-control']).includes('no-store')) violations.push(`${f.username} (${phase}): 503 not RFC-shaped: ${describeAnswer(a)}`);
          if (phase === 'before') violations.push(`${f.username}: 503 before Redis went: ${describeAnswer(a)}`);
          f.uncertain = true;
          await new Promise((r) => setTimeout(r, 25)); // a real-time outage: retry a little later, as a client would
        } else if (a.status === 400 && a.json?.error === 'invalid_grant' && f.uncertain) {
          f.lost = true;
        } else {
          violations.push(`${f.username} at replica ${at} (${phase}): ${describeAnswer(a)}`);
          return;
        }
      }
    };
    const until = async (condition: () => boolean, withinMs: number, what: string) => {
      const end = Date.now() + withinMs;
      while (!condition()) {
        if (Date.now() > end) throw new Error(`${what}: not within ${withinMs} ms (${JSON.stringify(count)}); violations:\n${violations.slice(0, 10).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    const started = performance.now();
    const load = Promise.all(families.map(worker));
    await until(() => count.before >= 300, 60_000, '300 refreshes before the outage');

    phase = 'down';
    await cluster.redis.down();
    const downAt = performance.now();
    const unavailableBefore = count.unavailable;
    // An outage of a second and a half at least: the replicas' clients try to reconnect meanwhile (backing off up to 1 s).
    await until(() => count.unavailable - unavailableBefore >= 100 && performance.now() - downAt >= 1_500, 30_000, '100 answers while Redis is down');
    // The authorization endpoint of each replica, for a valid client and redirect_uri: back to the client with the error.
    for (const i of [0, 1, 2]) {
      const state = `outage-${i}`;
      const a = await http.authorize(
        origin(i),
        { response_type: 'code', client_id: mobile.id, redirect_uri: mobile.redirectUris[0]!, scope: 'openid offline_access', state, login_hint: USERS[0]!.username, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
        ANSWER_WITHIN_MS,
      );
      expect(a.status, `authorize at replica ${i}: ${a.text.slice(0, 200)}`).toBe(302);
      const location = new URL(String(a.headers.location));
      expect(`${location.protocol}${location.pathname}`).toBe(mobile.redirectUris[0]);
      expect(location.searchParams.get('error')).toBe('temporarily_unavailable');
      expect(location.searchParams.get('state')).toBe(state);
      const t = await http.refresh(origin(i), families[0]!.token, mobile.id, ANSWER_WITHIN_MS);
      expect(t.status, `token endpoint at replica ${i}`).toBe(503);
      expect(t.json).toMatchObject({ error: 'temporarily_unavailable' });
      const c = await http.control(origin(i), cluster.adminToken, 'GET', `/families?username=${USERS[0]!.username}`);
      expect(c.status, `control API at replica ${i}`).toBe(503);
      expect(c.json).toMatchObject({ error: 'temporarily_unavailable' });
    }
    const downMs = performance.now() - downAt;

    phase = 'after';
    await cluster.redis.up();
    const upAt = performance.now();
    await until(() => count.afterRecovery >= 100, 60_000, '100 refreshes after Redis came back');
    const recoveryMs = performance.now() - upAt;
    running = false;
    await load;
    const seconds = (performance.now() - started) / 1000;

    // Every family again, at every replica in turn: the token the client holds refreshes (recovery everywhere).
    for (const [i, f] of families.entries()) {
      if (f.lost) continue;
      const a = await http.refresh(origin(i), f.token, mobile.id, ANSWER_WITHIN_MS);
      if (a.status === 200) {
        f.token = a.json.refresh_token;
        f.successes++;
      } else violations.push(`${f.username}: the token it holds is refused after recovery: ${describeAnswer(a)}`);
    }

    // The families as the store holds them: whole rotations only.
    for (const f of families) {
      const view = await http.control(origin(0), cluster.adminToken, 'GET', `/families?username=${f.username}`);
      const [family, ...more] = view.json.families as { revokedAt?: number; revokedReason?: string; tokens: { generation: number; state: string }[] }[];
      expect(more, f.username).toEqual([]);
      const tokens = [...family!.tokens].sort((a, b) => a.generation - b.generation);
      expect(tokens.map((t) => t.generation), f.username).toEqual(tokens.map((_, i) => i));
      if (!f.lost) {
        expect(family!.revokedAt, f.username).toBeUndefined();
        expect(tokens.length, `${f.username}: one token per refresh it saw, plus the first`).toBe(f.successes + 1);
        expect(tokens.slice(0, -1).every((t) => t.state === 'rotated') && tokens.at(-1)!.state === 'active', `${f.username}: ${tokens.map((t) => t.state).join(' ')}`).toBe(true);
      } else {
        // The rotation whose answer was lost was whole: its successor exists; the retry was reuse.
        expect(family!.revokedReason, f.username).toMatch(/reuse|already used|rotated/i);
        expect(tokens.length, `${f.username}: the refreshes it saw, the lost one, plus the first`).toBe(f.successes + 2);
      }
    }

    const lost = families.filter((f) => f.lost).length;
    console.log(
      `replicas without Redis: ${count.before} refreshes before, ${count.down} while down (${count.unavailable} answered 503) for ${(downMs / 1000).toFixed(1)} s, ` +
        `first ${count.afterRecovery} after it came back within ${(recoveryMs / 1000).toFixed(1)} s; ${lost} of ${FAMILIES} families lost a rotation's answer; ${seconds.toFixed(1)} s in all`,
    );
    expect(violations.slice(0, 10), `${violations.length} violation(s)`).toEqual([]);
    for (const replica of cluster.replicas) {
      expect(replica.child.exitCode, 'a replica exited').toBeNull();
      expect(replica.stderr()).not.toMatch(/unexpected error/);
    }
  }, 240_000);
});
