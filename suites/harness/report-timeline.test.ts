/**
 * Token timelines: what the runner records for each check (fingerprints, issue times, declared expiries,
 * rotations, rejections), against the embedded mock in-process, and the lanes the report draws from it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTarget, type Target } from './target.ts';
import { formatSeconds, timelineLanes, type TimelineRecord } from './report/timeline.ts';
import { runCatalogue } from '../runner/pipeline.ts';
import type { InstanceResult } from '../runner/run.ts';
import type { Defect } from '../../mock-idp/index.ts';

let target: Target;
beforeAll(async () => {
  const base = await loadTarget('fixtures/targets/mock.json');
  target = { ...base, embedded: { transport: 'direct' } } as Target;
});

async function run(only: string[], defects: Defect[] = []): Promise<InstanceResult[]> {
  return (await runCatalogue(target, { defects, only, concurrency: 8 })).results.filter((r) => r.status !== 'skipped');
}

const find = (results: InstanceResult[], id: string, client: string) => results.find((r) => r.id === id && r.client === client)!;

describe('the runner’s timeline', () => {
  it('sliding expiry: each rotated token ends a lifetime after its own issue', async () => {
    const results = await run(['expiry.sliding-chain-outlives-lifetime']);
    const r = find(results, 'expiry.sliding-chain-outlives-lifetime', 'public-web');
    expect(r.status).toBe('passed');
    const L = 600;
    const issued = r.timeline.filter((e) => e.token && (e.kind === 'login' || e.kind === 'rotation')).map((e) => e.token!);
    expect(issued.length).toBe(3);
    for (const t of issued) {
      expect(t).toMatchObject({ expiry: 'sliding', expiresAt: t.issuedAt + L });
      expect(t.id).toMatch(/^[0-9a-f]{6}$/);
    }
    expect(issued[1]!.issuedAt).toBe(300);
    expect(new Set(issued.map((t) => t.expiresAt)).size).toBe(3); // the end moves each time
    // Each rotation names the token it replaced.
    const rotations = r.timeline.filter((e) => e.kind === 'rotation');
    expect(rotations.map((e) => e.presented)).toEqual([issued[0]!.id, issued[1]!.id]);
    // Waits are there with their seconds; `at` is the target clock since the check started.
    expect(r.timeline.filter((e) => e.kind === 'wait').map((e) => [e.seconds, e.at])).toEqual([
      [300, 300],
      [301, 601],
    ]);
  });

  it('fixed expiry without rotation: one token, one end, and the rejection after it', async () => {
    const results = await run(['expiry.fixed-not-extended']);
    const r = find(results, 'expiry.fixed-not-extended', 'confidential');
    const L = 14 * 86400;
    const login = r.timeline.find((e) => e.kind === 'login')!;
    expect(login.token).toMatchObject({ issuedAt: 0, expiresAt: L, expiry: 'fixed' });
    const refresh = r.timeline.find((e) => e.kind === 'refresh')!;
    expect(refresh.presented).toBe(login.token!.id);
    expect(refresh.token?.expiresAt).toBe(L); // refreshing does not move a fixed end
    const rejected = r.timeline.find((e) => e.kind === 'rejected')!;
    // The check's own note ("fixed expiry") is merged into the harness's entry.
    expect(rejected).toMatchObject({ presented: login.token!.id, error: 'invalid_grant', status: 400, label: 'fixed expiry', at: L + 1 });
    expect(r.timeline.filter((e) => e.kind === 'rejected')).toHaveLength(1);
  });

  it('records rejections and revocations by fingerprint, logout for the session, and stays plain JSON', async () => {
    const results = await run(['token-endpoint.revocation-kills-refresh-token', 'sso.refresh-after-logout', 'rotation.old-token-rejected']);
    const revoked = find(results, 'token-endpoint.revocation-kills-refresh-token', 'mobile');
    const fp = revoked.timeline[0]!.token!.id;
    expect(revoked.timeline.map((e) => [e.kind, e.presented ?? e.token?.id])).toEqual([
      ['login', fp],
      ['revocation', fp],
      ['rejected', fp],
    ]);
    const logout = find(results, 'sso.refresh-after-logout', 'mobile');
    expect(logout.timeline.filter((e) => e.kind === 'logout')).toHaveLength(1); // harness + check note: one entry
    const old = find(results, 'rotation.old-token-rejected', 'mobile');
    const first = old.timeline[0]!.token!.id;
    expect(old.timeline.at(-1)).toMatchObject({ kind: 'rejected', presented: first, error: 'invalid_grant', label: 'old token' });
    // report.json carries it through task.meta: it must survive JSON unchanged.
    for (const r of results) expect(JSON.parse(JSON.stringify(r.timeline))).toEqual(r.timeline);
  });

  it('never holds a token, only its fingerprint', async () => {
    const results = await run(['rotation.new-token-each-refresh']);
    const r = find(results, 'rotation.new-token-each-refresh', 'web');
    const text = JSON.stringify(r.timeline);
    for (const e of r.timeline) if (e.token) expect(e.token.id).toHaveLength(6);
    expect(text).not.toMatch(/[A-Za-z0-9_-]{20,}/);
  });

  it('shows where the target disagreed with the check (no-rotation defect)', async () => {
    const results = await run(['rotation.new-token-each-refresh'], ['no-rotation']);
    const r = find(results, 'rotation.new-token-each-refresh', 'mobile');
    expect(r.status).toBe('failed');
    const [login, refresh] = r.timeline;
    expect(refresh).toMatchObject({ kind: 'refresh', presented: login!.token!.id });
    // The lane's name is the fingerprint in the exchanges' redaction markers.
    expect(JSON.stringify(r.exchanges)).toContain(`[redacted:refresh_token#${login!.token!.id}]`);
  });
});

describe('timeline lanes', () => {
  const mark = (id: string, issuedAt: number, expiresAt: number, expiry: 'sliding' | 'fixed' = 'sliding') => ({ id, issuedAt, expiresAt, expiry });

  it('one lane per token; a rotation links the new lane to the old', () => {
    const records: TimelineRecord[] = [
      { at: 0, kind: 'login', token: mark('aaaaaa', 0, 600) },
      { at: 300, kind: 'wait', seconds: 300 },
      { at: 300, kind: 'rotation', presented: 'aaaaaa', token: mark('bbbbbb', 300, 900) },
      { at: 300, kind: 'rejected', presented: 'aaaaaa', error: 'invalid_grant', status: 400 },
      { at: 310, kind: 'logout' },
    ];
    const { lanes, session, end } = timelineLanes(records);
    expect(lanes.map((l) => [l.id, l.issuedAt, l.expiries, l.from])).toEqual([
      ['aaaaaa', 0, [600], undefined],
      ['bbbbbb', 300, [900], 'aaaaaa'],
    ]);
    expect(lanes[0]!.events.map((e) => [e.kind, e.seq, e.to])).toEqual([
      ['login', 0, undefined],
      ['rotation', 1, 'bbbbbb'],
      ['rejected', 2, undefined],
    ]);
    expect(lanes[1]!.issuedSeq).toBe(1);
    expect(session.map((e) => e.kind)).toEqual(['logout']);
    expect(end).toBe(900);
    expect(lanes[0]!.events[2]!.text).toBe('rt#aaaaaa rejected at 5 min: invalid_grant (HTTP 400)');
  });

  it('a sliding token renewed without rotation keeps its lane and moves its end; a forged token gets a lane of its own', () => {
    const { lanes } = timelineLanes([
      { at: 0, kind: 'login', token: mark('cccccc', 0, 100) },
      { at: 50, kind: 'refresh', presented: 'cccccc', token: mark('cccccc', 0, 150) },
      { at: 60, kind: 'rejected', presented: 'dddddd', error: 'invalid_grant' },
    ]);
    expect(lanes.map((l) => [l.id, l.expiries, l.issued])).toEqual([
      ['cccccc', [100, 150], true],
      ['dddddd', [], false],
    ]);
    expect(lanes[1]!.issuedAt).toBe(60);
  });

  it('a login without a refresh token lands on the token-less lane', () => {
    const { lanes } = timelineLanes([{ at: 0, kind: 'login', label: 'no refresh token' }]);
    expect(lanes.map((l) => l.id)).toEqual(['']);
  });

  it('formats seconds with d/h/min/s', () => {
    expect([0, 45, 600, 3600, 28801, 86400 * 90, 86400 * 90 + 14400, 7790401].map(formatSeconds)).toEqual([
      '0 s',
      '45 s',
      '10 min',
      '1 h',
      '8 h 1 s',
      '90 d',
      '90 d 4 h',
      '90 d 4 h 1 s',
    ]);
  });
});
