/** Loading and validating profiles: a bad file gets an error that names the field. */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { CURRENT_VERSION, migrateV1, v2OnlyFields, versionOf } from './migrate.ts';
import { Profile, ProfileV1 } from './schema.ts';

export type ProfileErrorCode = 'PROFILE_NOT_FOUND' | 'PROFILE_INVALID' | 'PROFILE_VERSION';

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly code: ProfileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const PROFILES_DIR = fileURLToPath(new URL('../../fixtures/profiles/', import.meta.url));

/** The profiles of the seed documents (../shared/seeds/): the variants and the defect table derive from them. */
export const SEED_PROFILES = ['telenorid-plus', 'erp-net'] as const;
export type SeedProfile = (typeof SEED_PROFILES)[number];

/** A profile file's name is its profile name (lower-case letters, digits and dashes) + .json. */
const PROFILE_FILE = /^([a-z0-9][a-z0-9-]*)\.json$/;

/**
 * The built-in profiles: every profile file in `dir` (the JSON Schema aside), the seeds first, then
 * the library by name, so a new file there is served, listed and tested without a code change.
 */
export function discoverProfiles(dir = PROFILES_DIR): string[] {
  const names = readdirSync(dir)
    .map((f) => PROFILE_FILE.exec(f)?.[1])
    .filter((n): n is string => n !== undefined); // profile.schema.json has a dot in its name: not a profile
  const seeds: readonly string[] = SEED_PROFILES;
  return [...SEED_PROFILES.filter((s) => names.includes(s)), ...names.filter((n) => !seeds.includes(n)).sort()];
}

/** Every profile of fixtures/profiles/ (discoverProfiles), read once at start-up. */
export const BUILTIN_PROFILES: readonly string[] = discoverProfiles();

/**
 * Validates parsed JSON against the schema version it declares ("version"; absent = 1) and migrates
 * it to the current version (migrate.ts); `origin` names the file in error messages.
 */
export function parseProfile(input: unknown, origin = 'profile'): Profile {
  const v = versionOf(input);
  if ('error' in v) throw new ProfileError('PROFILE_VERSION', `${origin}: ${v.error}`);
  if (v.version === 1) {
    const newer = v2OnlyFields(input);
    if (newer.length) {
      throw new ProfileError(
        'PROFILE_INVALID',
        `${origin}: invalid profile (schema version 1: a file without "version")\n  ${newer.map((f) => `${f}: a field of profile schema version 2; set "version": 2 to use it`).join('\n  ')}`,
      );
    }
    const old = ProfileV1.safeParse(input);
    if (!old.success) throw invalid(origin, old.error.issues, ' (schema version 1: a file without "version")');
    return validated(Profile.safeParse(migrateV1(old.data)), `${origin} (migrated from version 1 to ${CURRENT_VERSION})`);
  }
  return validated(Profile.safeParse(input), origin);
}

function validated(result: ReturnType<typeof Profile.safeParse>, origin: string): Profile {
  if (result.success) return result.data;
  throw invalid(origin, result.error.issues);
}

function invalid(origin: string, issues: readonly { path: readonly PropertyKey[]; message: string }[], version = ''): ProfileError {
  const lines = issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  return new ProfileError('PROFILE_INVALID', `${origin}: invalid profile${version}\n  ${lines.join('\n  ')}`);
}

/** A built-in profile name (fixtures/profiles/NAME.json) or a path to a profile file. */
export async function loadProfile(nameOrPath: string): Promise<Profile> {
  const file = /^[a-z0-9-]+$/.test(nameOrPath) ? path.join(PROFILES_DIR, `${nameOrPath}.json`) : path.resolve(nameOrPath);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ProfileError(
      'PROFILE_NOT_FOUND',
      `profile "${nameOrPath}" not found (built-in: ${BUILTIN_PROFILES.join(', ')}; or give a path to a profile file)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError('PROFILE_INVALID', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseProfile(json, file);
}
