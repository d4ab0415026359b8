/**
 * The mock's refresh grant and the refresh model agree: the same history, replayed by the model and
 * played against the mock (every variant, every refreshing policy), gives the same outcome at each
 * step and the same liveness and expiry of every token (by introspection). The grant decides through
 * the model's step; this shows it also applies the decisions to its store as the model does.
 * Also: the defect mechanism (defects.ts) acting on the served profile as a whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMockIdp, type MockIdpOptions } from '../idp.ts';
import { loadProfile, isRefreshPolicy, type Profile } from '../profile/index.ts';
import { loadVariants } from '../profile/variants.ts';
import { replay, type ModelEvent, type Outcome } from '../profile/model.ts';
import { IdpClient, type Reply } from './client.ts';

const variants = await loadVariants();
let n = 0;
const bugs: unknown[] = [];
afterEach(() => expect(bugs.splice(0)).toEqual([]));

async function start(profile: Profile, extra: Partial<MockIdpOptions> = {}): Promise<IdpClient> {
  const idp = await createMockIdp({ profile, issuer: `https://grant-model-${++n}.test`, testMode: true, onError: (e) => bugs.push(e), ...extra });
  return new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
}

/**
 * A history touching every rule: rotation or not, reuse, grace, the SSO session's end, expiry, a
 * token issued without offline access (online, or none), concurrent presentations.
 */
function history(profile: Profile, lifetime: number): ModelEvent[] {
  const S = profile.ssoSessionLifetimeSeconds;
  const mid = Math.max(2, Math.floor(Math.min(lifetime, S) / 2));
  const end = mid + 2 + lifetime;
  return [
    { kind: 'issue', at: 0, token: 'a' },
    { kind: 'refresh', at: 1, token: 'a', as: 'b' },
    { kind: 'refresh', at: 2, token: 'a', as: 'c' },
    { kind: 'refresh', at: mid, token: 'a', as: 'd' },
    { kind: 'issue', at: mid, token: 'x' },
    { kind: 'issue', at: mid, token: 'o', offline: false },
    { kind: 'ssoEnd', at: mid + 1 },
    { kind: 'refresh', at: mid + 2, token: 'x', as: 'y' },
    { kind: 'refresh', at: mid + 3, token: 'x', as: 'z' },
    { kind: 'refresh', at: mid + 3, token: 'o', as: 'o1' },
    { kind: 'refresh', at: mid + 4, token: 'o', as: 'o2' },
    { kind: 'refresh', at: end, token: 'x' },
    { kind: 'issue', at: end, token: 'p' },
    { kind: 'concurrent', at: end, token: 'p', n: 3 },
  ];
}

type Seen = 'new-token' | 'same-successor' | 'no-new-token' | 'refused' | 'other';
function expected(o: Outcome): Seen {
  if (o.kind === 'rotated') return 'new-token';
  if (o.kind === 'repeated') return 'same-successor';
  if (o.kind === 'kept' || o.kind === 'extended' || o.kind === 'consumed') return 'no-new-token';
  if (o.kind === 'refused') return 'refused';
  return 'other';
}

/** Plays the model's history against a mock; returns every disagreement (none for a correct mock). */
async function disagreements(profile: Profile, name: string, lifetime: number, extra: Partial<MockIdpOptions> = {}): Promise<string[]> {
  const events = history(profile, lifetime);
  const steps = replay(profile, name, events);
  const c = await start(profile, extra);
  const client = c.client(name);
  const t0 = (await c.idp.control.now());
  const real = new Map<string, string>();
  const out: string[] = [];
  let at = 0;
  /** What the mock answered, as the model's outcomes are told apart; a refusal with the status the profile declares. */
  const seenOf = (r: Reply, handedOut: Set<string>): Seen => {
    if (r.status === 200) {
      const rt = r.body.refresh_token as string | undefined;
      if (rt === undefined) return 'no-new-token';
      if (handedOut.has(rt)) return 'same-successor';
      handedOut.add(rt);
      return 'new-token';
    }
    const status = r.body?.error === 'invalid_grant' ? profile.invalidGrantStatus : 400;
    return r.status === status ? 'refused' : 'other';
  };
  for (const [i, event] of events.entries()) {
    await c.idp.control.advance(event.at - at);
    at = event.at;
    const mine = steps.filter((s) => s.event === i);
    const step = mine.at(-1)!;
    const where = `event ${i} (${event.kind} at ${event.at})`;
    if (event.kind === 'issue') {
      const t = await c.tokens(client, event.offline === false ? { scope: 'openid' } : {});
      const issued = mine[0]!.outcome.kind === 'issued';
      if (issued !== (t.refresh_token !== undefined)) out.push(`${where}: model ${mine[0]!.outcome.kind}, mock ${t.refresh_token ? 'a refresh token' : 'none'}`);
      if (t.refresh_token) real.set(event.token, t.refresh_token);
    } else if (event.kind === 'ssoEnd') (await c.idp.control.endSsoSession({ username: c.user.username }));
    else if (event.kind === 'refresh' || event.kind === 'concurrent') {
      const token = real.get(event.token);
      const n = event.kind === 'concurrent' ? event.n : 1;
      if (token === undefined) {
        // Never issued (the model refuses it as unknown): nothing to present.
        if (step.outcome.kind !== 'refused' || step.outcome.by !== 'unknown') out.push(`${where}: model ${step.outcome.kind} for a token the mock never issued`);
      } else {
        const rs = await Promise.all(Array.from({ length: n }, () => c.refresh(client, token)));
        const handedOut = new Set<string>();
        const mock = rs.map((r) => seenOf(r, handedOut)).sort();
        const model = mine.map((s) => expected(s.outcome)).sort();
        if (JSON.stringify(mock) !== JSON.stringify(model)) out.push(`${where}: model ${model.join(',')}, mock ${mock.join(',')} (${rs.map((r) => `${r.status} ${r.text}`).join('; ')})`);
        // The model's new tokens, in order, are the mock's distinct new tokens in the order it served them.
        const rotated = mine.flatMap((s) => (s.outcome.kind === 'rotated' ? [s.outcome.token] : []));
        [...handedOut].forEach((rt, k) => rotated[k] !== undefined && real.set(rotated[k], rt));
      }
    }
    for (const [id, view] of Object.entries(step.tokens)) {
      const token = real.get(id);
      const body = token === undefined ? { active: 'never issued' } : await c.refreshState(token);
      const alive = view.alive && at < view.expiresAt;
      const mock = JSON.stringify({ active: body.active, ...(body.active === true && { exp: (body.exp as number) - t0 }) });
      const model = JSON.stringify({ active: alive, ...(alive && { exp: view.expiresAt }) });
      if (mock !== model) out.push(`${where}: token ${id}: model ${model}, mock ${mock}`);
    }
  }
  if (c.violations.length) out.push(...c.violations);
  return out;
}

describe('the mock refresh grant does what the model replays', () => {
  for (const profile of variants) {
    for (const [name, policy] of Object.entries(profile.policies).filter(([, p]) => isRefreshPolicy(p))) {
      it(`${profile.name} ${name}`, async () => {
        expect(await disagreements(profile, name, policy.lifetimeSeconds!)).toEqual([]);
      });
    }
  }

  it('a mock with a defect disagrees (the comparison can fail)', async () => {
    const telenor = await loadProfile('telenorid-plus');
    expect(await disagreements(telenor, 'Mobile', 7776000, { defects: ['old-token-still-valid'] })).not.toEqual([]);
    expect(await disagreements(telenor, 'Confidential', 1209600, { defects: ['fixed-expiry-slides'] })).not.toEqual([]);
  });
});

describe('defects act on the served profile as a whole', () => {
  it('public-client-gets-refresh: the NoRefresh client gets a refresh token and may use it (its client follows the served profile)', async () => {
    const c = await start(await loadProfile('telenorid-plus'), { defects: ['public-client-gets-refresh'] });
    const client = c.client('NoRefresh');
    expect(client.grantTypes).toContain('refresh_token');
    const t = await c.tokens(client, { scope: 'openid offline_access' });
    expect(t.refresh_token).toBeTruthy();
    const r = await c.refresh(client, t.refresh_token!);
    expect(r.status, r.text).toBe(200);
    // The declared profile, as the harness sees it, is unchanged.
    expect(c.idp.profile.policies.NoRefresh!.refresh).toBe(false);
  });

  it('without defects the NoRefresh client has no refresh grant', async () => {
    const c = await start(await loadProfile('telenorid-plus'));
    expect(c.client('NoRefresh').grantTypes).not.toContain('refresh_token');
  });
});
