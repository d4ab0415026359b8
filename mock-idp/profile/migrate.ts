/**
 * Profile schema versions. A file says which it is written in ("version"; absent means 1); the
 * loader validates it against that version's schema and migrates it to the current one, so every
 * profile the code sees is a v2 Profile. A v1 profile migrates to the v2 defaults, which keep its
 * meaning exactly: offline-access issuance, one grace retry, 400 refusals, a single winner,
 * introspection of both token types, an id_token on every refresh, no refresh_expires_in.
 */
import type { z } from 'zod';
import { Profile, ProfileV1 } from './schema.ts';

export const CURRENT_VERSION = 2;
export const KNOWN_VERSIONS = [1, 2] as const;

export type VersionCheck = { version: 1 | 2 } | { error: string };

/** The schema version a parsed file declares, or why it is not one this tool reads. */
export function versionOf(input: unknown): VersionCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { version: 2 };
  const v = (input as { version?: unknown }).version;
  if (v === undefined || v === 1) return { version: 1 };
  if (v === 2) return { version: 2 };
  return {
    error: `version: unknown profile schema version ${JSON.stringify(v)}; this tool reads versions ${KNOWN_VERSIONS.join(' and ')} (a newer refresh-conformance may read it)`,
  };
}

/** A validated v1 profile as v2: the same fields, "version": 2, the new fields at their defaults. */
export function migrateV1(v1: ProfileV1): z.input<typeof Profile> {
  const { version: _v1, $schema, ...rest } = v1;
  return { ...($schema !== undefined && { $schema }), ...rest, version: CURRENT_VERSION };
}
