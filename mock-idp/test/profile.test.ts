/** Profiles (loading, validation errors that name the field) and the fixtures derived from them. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, KNOWN_VERSIONS, PROFILES_DIR, ProfileError, SEED_PROFILES, discoverProfiles, isRefreshPolicy, listProfiles, loadProfile, parseProfile, type Profile } from '../profile/index.ts';
import { clientIdFor, fixtureClients, fixtureUsers } from '../fixtures.ts';
import { Profile as ProfileSchema } from '../profile/schema.ts';
import { z } from 'zod';
import { docPage, type Citation } from '../citations.ts';

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
    ['a documentation citation of a page not in source', (j) => (j.policies.Web.source = 'https://docs.example/refresh §Rotation'), 'policies.Web.source'],
    ['a documentation source that is not https', (j) => j.source.push('http://docs.example/refresh'), 'source.2'],
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

  it('cites documentation pages of its source: the page itself, or an #anchor of it', async () => {
    const json = await builtinJson('telenorid-plus');
    json.source.push('https://docs.example/refresh');
    json.citations.rotation = 'https://docs.example/refresh#rotation §Rotation (each refresh rotates); RFC 6749 §6';
    json.policies.Web.source = 'https://docs.example/refresh';
    const profile = parseProfile(json);
    expect(profile.citations.rotation).toEqual([
      { doc: 'https://docs.example/refresh#rotation', section: 'Rotation', note: 'each refresh rotates' },
      { spec: 'RFC 6749', section: '6' },
    ]);
    expect(profile.policies.Web!.source).toEqual([{ doc: 'https://docs.example/refresh' }]);
    expect(parseProfile(profile)).toEqual(profile);
    const e = (() => {
      try {
        parseProfile({ ...json, source: json.source.slice(0, 2) });
      } catch (x) {
        return x as ProfileError;
      }
    })();
    expect(e?.message).toContain("citations.rotation: cites https://docs.example/refresh, which is not in the profile's source (000_a8c14fb60ecbbef3.txt, 001_961c0881c3e61eb8.txt)");
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

describe('the built-in profiles: every profile file of fixtures/profiles/', () => {
  it('are discovered from the directory: the seeds first, then the others by name; the JSON Schema and other files are not profiles', async () => {
    const d = await mkdtemp(path.join(dir, 'discover-'));
    for (const f of ['zeta.json', 'telenorid-plus.json', 'alpha.json', 'erp-net.json', 'profile.schema.json', 'README.md', 'Bad_Name.json', 'notes.json~']) await writeFile(path.join(d, f), '{}');
    expect(discoverProfiles(d)).toEqual(['telenorid-plus', 'erp-net', 'alpha', 'zeta']);
    expect(BUILTIN_PROFILES).toEqual(discoverProfiles(PROFILES_DIR));
    expect(BUILTIN_PROFILES.slice(0, SEED_PROFILES.length)).toEqual([...SEED_PROFILES]);
  });

  it.each(BUILTIN_PROFILES.filter((n) => !(SEED_PROFILES as readonly string[]).includes(n)))(
    'library profile %s: schema version 2; every rule cites public documentation of its source, or a profile field whose silence a note records',
    async (name) => {
      const json = await builtinJson(name);
      expect(json.version).toBe(2);
      const profile = await loadProfile(name);
      expect(profile.source.every((s) => s.startsWith('https://'))).toBe(true);
      const noted = (field: string) => profile.notes.some((n) => n.field.split(/,\s*/).includes(field));
      const cited = [...Object.entries(profile.citations), ...Object.entries(profile.policies).map(([p, v]): [string, Citation[]] => [`policies.${p}.source`, v.source])];
      for (const [where, citations] of cited) {
        const documented = citations.some((c) => 'doc' in c);
        const silences = citations.flatMap((c) => ('profileField' in c ? [c.profileField] : []));
        expect(documented || (silences.length > 0 && silences.every(noted)), `${name} ${where}: no documentation page, and no note for its profile field`).toBe(true);
      }
      // Every documentation page of its source is cited by a rule or quoted in a note.
      const text = JSON.stringify(profile.notes);
      const pages = new Set(cited.flatMap(([, c]) => c).flatMap((c) => ('doc' in c ? [docPage(c.doc)] : [])));
      expect(profile.source.filter((s) => !pages.has(s) && !text.includes(s)), `${name}: source pages nothing cites`).toEqual([]);
    },
  );
});

describe('listProfiles (--list-profiles of both CLIs)', () => {
  it('one tab-separated line per built-in profile: name, title, policies', async () => {
    const lines = (await listProfiles()).trimEnd().split('\n');
    expect(lines).toHaveLength(BUILTIN_PROFILES.length);
    expect(lines[0]).toBe('telenorid-plus\tTelenorID+ refresh policies\tNoRefresh, Confidential, Mobile, PublicWeb, Web');
  });

  it('a profile that does not load is a ProfileError naming it (the CLIs exit 2 with it)', async () => {
    const e = await listProfiles(['telenorid-plus', 'no-such-profile']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProfileError);
    expect((e as ProfileError).message).toContain('profile "no-such-profile" not found');
  });
});

describe('migration: schema version 1 files', () => {
  const V1 = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/telenorid-plus.v1.json');

  it('a v1 file (telenorid-plus as it was before "version": 2) loads and equals the v2 seed, new fields at their v1 meaning', async () => {
    const v1 = JSON.parse(await readFile(V1, 'utf8'));
    expect(v1.version).toBeUndefined();
    const migrated = await loadProfile(V1);
    expect(migrated).toEqual(await loadProfile('telenorid-plus'));
    expect(migrated).toMatchObject({
      version: 2,
      refreshTokenIssuance: 'offline-access',
      onlineTokens: { refreshAfterSsoEnd: 'invalid_grant' },
      graceReuseCount: 1,
      invalidGrantStatus: 400,
      concurrentRefresh: 'single-winner',
      introspection: 'access-and-refresh-tokens',
      idTokenOnRefresh: 'always',
      refreshExpiresIn: false,
    });
    // "version": 1 said out loud reads the same.
    expect(parseProfile({ ...v1, version: 1 })).toEqual(migrated);
  });

  it.each([3, '2', 0, null])('"version": %j is PROFILE_VERSION, naming the versions this tool reads', async (version) => {
    const v1 = JSON.parse(await readFile(V1, 'utf8'));
    const e = await loadError({ ...v1, version });
    expect(e.code).toBe('PROFILE_VERSION');
    expect(e.message).toContain(`version: unknown profile schema version ${JSON.stringify(version)}; this tool reads versions ${KNOWN_VERSIONS.join(' and ')}`);
  });

  it.each<[string, (j: Record<string, any>) => void, string[]]>([
    ['a top-level v2 field', (j) => (j.refreshExpiresIn = true), ['refreshExpiresIn']],
    ['v2 fields at the top and in a policy', (j) => Object.assign(j, { refreshTokenIssuance: 'always', onlineTokens: {} }, (j.policies.Web.maxLifetimeSeconds = 999999999, {})), ['refreshTokenIssuance', 'onlineTokens', 'policies.Web.maxLifetimeSeconds']],
  ])('%s in a v1 file is rejected, naming the field and saying to set "version": 2', async (_label, change, fields) => {
    const v1 = JSON.parse(await readFile(V1, 'utf8'));
    change(v1);
    const e = await loadError(v1);
    expect(e.code).toBe('PROFILE_INVALID');
    for (const f of fields) expect(e.message).toContain(`${f}: a field of profile schema version 2; set "version": 2 to use it`);
    // The same file with "version": 2 is valid.
    expect(parseProfile({ ...v1, version: 2 }).name).toBe('telenorid-plus');
  });

  it('a field no version knows is still an unknown key in a v1 file', async () => {
    const v1 = JSON.parse(await readFile(V1, 'utf8'));
    const e = await loadError({ ...v1, colour: 'blue' });
    expect(e.message).toMatch(/schema version 1.*\n.*colour/s);
    expect(e.message).not.toContain('set "version": 2');
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
