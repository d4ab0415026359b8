/**
 * Profile schema versions. A file says which it is written in ("version"; absent means 1); the
 * loader validates it against that version's schema and migrates it to the current one, so every
 * profile the code sees is a v2 Profile. A v1 profile migrates to the v2 defaults, which keep its
 * meaning exactly: offline-access issuance, one grace retry, 400 refusals, a single winner,
 * introspection of both token types, an id_token on every refresh, no refresh_expires_in.
 */
import type { z } from 'zod';
import { Policy, PolicyV1, Profile, ProfileV1 } from './schema.ts';

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

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The fields of a v1 file (no "version") that only version 2 has, as paths (`refreshExpiresIn`,
 * `policies.Web.maxLifetimeSeconds`): a v1 reader would call them unknown keys, but the writer
 * most likely meant version 2 and forgot to say so.
 */
export function v2OnlyFields(input: unknown): string[] {
  if (!isObject(input)) return [];
  const v1 = new Set(Object.keys(ProfileV1.shape));
  const out = Object.keys(input).filter((k) => !v1.has(k) && k in Profile.shape);
  const v1Policy = new Set(Object.keys(PolicyV1.shape));
  if (isObject(input.policies)) {
    for (const [name, policy] of Object.entries(input.policies)) {
      if (isObject(policy)) out.push(...Object.keys(policy).filter((k) => !v1Policy.has(k) && k in Policy.shape).map((k) => `policies.${name}.${k}`));
    }
  }
  return out;
}
