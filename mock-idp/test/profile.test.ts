/** Profiles (loading, validation errors that name the field) and the fixtures derived from them. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, PROFILES_DIR, ProfileError, isRefreshPolicy, loadProfile, parseProfile, type Profile } from '../profile/index.ts';
import { clientIdFor, fixtureClients, fixtureUsers } from '../fixtures.ts';
import { Profile as ProfileSchema } from '../profile/schema.ts';
import { z } from 'zod';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mock-idp-profile-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function builtinJson(name: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path.join(PROFILES_DIR, `${name}.json`), 'utf8'));
}

async function loadError(json: unknown, file = 'bad.json'): Promise<ProfileError> {
  const p = path.join(dir, file);
  await writeFile(p, typeof json === 'string' ? json : JSON.stringify(json));
  const e = await loadProfile(p).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ProfileError);
  return e as ProfileError;
}

describe('profiles', () => {
  it.each(BUILTIN_PROFILES)('loads the built-in %s: valid, with refresh fields on every refresh policy', async (name) => {
    const profile = await loadProfile(name);
    expect(profile.name).toBe(name);
    expect(Object.keys(profile.policies).length).toBeGreaterThan(0);
    for (const policy of Object.values(profile.policies)) expect(isRefreshPolicy(policy)).toBe(policy.refresh);
    // A built-in loaded by path is the same profile.
    expect(await loadProfile(path.join(PROFILES_DIR, `${name}.json`))).toEqual(profile);
  });

  it('names the field path of an invalid value', async () => {
    const json = await builtinJson('telenorid-plus');
    json.policies.Mobile.lifetimeSeconds = -5;
    const e = await loadError(json);
    expect(e.code).toBe('PROFILE_INVALID');
    expect(e.message).toContain('policies.Mobile.lifetimeSeconds');
    expect(e.message).toContain(path.join(dir, 'bad.json'));
  });

  it.each<[string, (j: Record<string, any>) => void, string]>([
    ['a missing refresh field', (j) => delete j.policies.Mobile.lifetimeSeconds, 'policies.Mobile.lifetimeSeconds'],
    ['an unknown enum value', (j) => (j.refreshAfterSsoEnd = 'sometimes'), 'refreshAfterSsoEnd'],
    ['an unknown field', (j) => (j.policies.Web.colour = 'blue'), 'policies.Web'],
    ['a refresh policy without the refresh_token grant', (j) => (j.policies.PublicWeb.grantTypes = ['authorization_code']), 'policies.PublicWeb.grantTypes'],
    ['a public client with client_credentials', (j) => j.policies.Mobile.grantTypes.push('client_credentials'), 'policies.Mobile.grantTypes'],
    ['presentedTokenAfterSsoEnd without no-new-refresh-token', (j) => Object.assign(j, { refreshAfterSsoEnd: 'invalid_grant', presentedTokenAfterSsoEnd: 'consumed' }), 'presentedTokenAfterSsoEnd'],
    ['a missing citation', (j) => delete j.citations.sso, 'citations.sso'],
    ['an unreadable citation', (j) => (j.citations.rotation = 'see the docs'), 'citations.rotation'],
    ['a citation of an unknown spec', (j) => (j.policies.Web.source = 'RFC 6750 §2'), 'policies.Web.source'],
    ['a seed citation of a file not in source', (j) => (j.citations.sso = '002_e32d96fc439dbedc.txt §Requesting a Refresh Token'), 'citations.sso'],
  ])('rejects %s, naming %s', async (_label, change, field) => {
    const json = await builtinJson('telenorid-plus');
    change(json);
    const e = await loadError(json);
    expect(e.code).toBe('PROFILE_INVALID');
    expect(e.message).toContain(`${field}:`);
  });

  it('reads citation text into tokens, and a parsed profile validates again unchanged', async () => {
    const profile = await loadProfile('telenorid-plus');
    expect(profile.citations.reuse).toEqual([
      { profileField: 'reuseOfRotatedToken', note: 'the seeds are silent: see its note' },
      { spec: 'RFC 9700', section: '4.14.2' },
    ]);
    expect(profile.policies.Mobile!.source).toEqual([{ seed: '000_a8c14fb60ecbbef3.txt', section: 'TelenorID+ Refresh policies', note: 'Mobile' }]);
    expect(parseProfile(profile)).toEqual(profile);
  });

  it('an unreadable citation says what it could not read and how to write one', async () => {
    const json = await builtinJson('telenorid-plus');
    json.citations.rotation = '000_a8c14fb60ecbbef3.txt §Refresh policies; RFC6749-6';
    const e = await loadError(json);
    expect(e.message).toContain('citations.rotation: unreadable citation: "RFC6749-6": not a citation');
  });

  it('profile.schema.json for editors is the schema the loader uses (npx tsx scripts/profile-schema.ts)', async () => {
    const written = JSON.parse(await readFile(path.join(PROFILES_DIR, 'profile.schema.json'), 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(ProfileSchema, { io: 'input', unrepresentable: 'any' }))));
  });

  it('rejects a file that is not JSON', async () => {
    const e = await loadError('{ "name": ', 'broken.json');
    expect(e.code).toBe('PROFILE_INVALID');
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('an unknown profile name or a missing file is PROFILE_NOT_FOUND', async () => {
    for (const name of ['no-such-profile', path.join(dir, 'missing.json')]) {
      const e = await loadProfile(name).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProfileError);
      expect((e as ProfileError).code).toBe('PROFILE_NOT_FOUND');
      expect((e as ProfileError).message).toContain(BUILTIN_PROFILES[0]);
    }
  });

  it('parseProfile validates objects the same way (root-level errors too)', () => {
    expect(() => parseProfile(null)).toThrow(/\(root\)/);
    expect(() => parseProfile({})).toThrow(ProfileError);
  });
});

describe('fixtures', () => {
  it('users are deterministic across calls, unique and complete', () => {
    const a = fixtureUsers();
    expect(fixtureUsers()).toEqual(a);
    expect(new Set(a.map((u) => u.sub)).size).toBe(a.length);
    expect(new Set(a.map((u) => u.username)).size).toBe(a.length);
    for (const u of a) expect(Object.values(u).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    expect(fixtureUsers(5, 1)).not.toEqual(a);
  });

  it.each(BUILTIN_PROFILES)('%s: one client per policy, with the policy’s type, grants and secret only when confidential', async (name) => {
    const profile: Profile = await loadProfile(name);
    const clients = fixtureClients(profile);
    expect(clients.map((c) => c.policy)).toEqual(Object.keys(profile.policies));
    expect(new Set(clients.map((c) => c.id)).size).toBe(clients.length);
    for (const c of clients) {
      const policy = profile.policies[c.policy]!;
      expect(c.id).toBe(clientIdFor(c.policy));
      expect(c.confidential).toBe(policy.confidential);
      expect(c.grantTypes).toEqual(policy.grantTypes);
      expect(c.secret !== undefined).toBe(policy.confidential);
      expect(c.redirectUris).toHaveLength(1);
    }
    expect(fixtureClients(profile)).toEqual(clients);
  });
});
