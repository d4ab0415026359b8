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
import { IdpClient } from './client.ts';

const variants = await loadVariants();
let n = 0;
const bugs: unknown[] = [];
afterEach(() => expect(bugs.splice(0)).toEqual([]));

async function start(profile: Profile, extra: Partial<MockIdpOptions> = {}): Promise<IdpClient> {
  const idp = await createMockIdp({ profile, issuer: `https://grant-model-${++n}.test`, testMode: true, onError: (e) => bugs.push(e), ...extra });
  return new IdpClient(idp, (url, init) => idp.fetch(new Request(url, init)));
}

/** A history touching every rule: rotation or not, reuse, grace, the SSO session's end, expiry. */
function history(profile: Profile, lifetime: number): ModelEvent[] {
  const S = profile.ssoSessionLifetimeSeconds;
  const mid = Math.max(2, Math.floor(Math.min(lifetime, S) / 2));
  return [
    { kind: 'issue', at: 0, token: 'a' },
    { kind: 'refresh', at: 1, token: 'a', as: 'b' },
    { kind: 'refresh', at: 2, token: 'a', as: 'c' },
    { kind: 'refresh', at: mid, token: 'a', as: 'd' },
    { kind: 'issue', at: mid, token: 'x' },
    { kind: 'ssoEnd', at: mid + 1 },
    { kind: 'refresh', at: mid + 2, token: 'x', as: 'y' },
    { kind: 'refresh', at: mid + 3, token: 'x', as: 'z' },
    { kind: 'refresh', at: mid + 2 + lifetime, token: 'x' },
  ];
}

type Seen = 'new-token' | 'no-new-token' | 'refused' | 'other';
function expected(o: Outcome): Seen {
  if (o.kind === 'rotated') return 'new-token';
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
  const t0 = c.idp.control.now();
  const real = new Map<string, string>();
  const out: string[] = [];
  let at = 0;
  for (const [i, event] of events.entries()) {
    c.idp.control.advance(event.at - at);
    at = event.at;
    const step = steps.find((s) => s.event === i)!;
    const where = `event ${i} (${event.kind} at ${event.at})`;
    if (event.kind === 'issue') real.set(event.token, (await c.tokens(client)).refresh_token!);
    else if (event.kind === 'ssoEnd') c.idp.control.endSsoSession({ username: c.user.username });
    else if (event.kind === 'refresh') {
      const r = await c.refresh(client, real.get(event.token)!);
      const seen: Seen = r.status === 200 ? (r.body.refresh_token ? 'new-token' : 'no-new-token') : r.status === 400 ? 'refused' : 'other';
      if (seen !== expected(step.outcome)) out.push(`${where}: model ${step.outcome.kind}, mock ${r.status} ${r.text}`);
      if (step.outcome.kind === 'rotated' && r.body?.refresh_token) real.set(step.outcome.token, r.body.refresh_token);
    }
    for (const [id, view] of Object.entries(step.tokens)) {
      const token = real.get(id);
      const body = token === undefined ? { active: 'never issued' } : (await c.introspect(token)).body;
      const alive = view.alive && at < view.expiresAt;
      const mock = JSON.stringify({ active: body.active, ...(body.active === true && { exp: body.exp - t0 }) });
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
