/** Loading and validating profiles: a bad file gets an error that names the field. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Profile } from './schema.ts';

export type ProfileErrorCode = 'PROFILE_NOT_FOUND' | 'PROFILE_INVALID';

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
export const BUILTIN_PROFILES = ['telenorid-plus', 'erp-net'] as const;

/** Validates parsed JSON; `origin` names the file in error messages. */
export function parseProfile(input: unknown, origin = 'profile'): Profile {
  const result = Profile.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new ProfileError('PROFILE_INVALID', `${origin}: invalid profile\n  ${lines.join('\n  ')}`);
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
