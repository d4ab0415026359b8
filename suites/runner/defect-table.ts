/**
 * fixtures/defects.json, validated: each seeded defect, and per profile (a seed, a variant or a
 * library profile) the check ids that must catch it. A variant inherits its seed's expectations
 * (`variants`: variant → seed) unless it has its own entry, so the data says only where a variant
 * differs; the seeds and the library profiles (fixtures/profiles/) are mapped explicitly, each defect
 * for each one. Unknown keys, defects, profiles and check ids are errors that name the offending path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFECTS, type Defect, type Profile } from '../../mock-idp/index.ts';
import { BUILTIN_PROFILES, SEED_PROFILES, loadProfile } from '../../mock-idp/profile/load.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { CHECKS } from '../checks/index.ts';
import { HarnessError } from '../harness/errors.ts';

export const DEFECT_TABLE = fileURLToPath(new URL('../../fixtures/defects.json', import.meta.url));

export class DefectTableError extends HarnessError<'DEFECT_TABLE_INVALID'> {
  override readonly name = 'DefectTableError';
}

/**
 * The checks that catch the defect (never none); or notApplicable: the defect changes nothing
 * observable under the profile; or gap: it does change what the profile declares, but no check of
 * the catalogue observes it (the reason names the missing check). A gap is pinned (nothing may
 * fail, so a check that starts catching it shows) and counted as missed, never as caught.
 */
const expectation = z.union([z.array(z.string()).min(1), z.strictObject({ notApplicable: z.string().min(1) }), z.strictObject({ gap: z.string().min(1) })]);
export type Expectation = z.infer<typeof expectation>;

const entry = z.strictObject({ description: z.string().min(1), caughtBy: z.record(z.string(), expectation) });

const deviation = z.strictObject({ checks: z.array(z.string()).min(1), reason: z.string().min(1) });
export type Deviation = z.infer<typeof deviation>;

const tableSchema = z.strictObject({
  $comment: z.string().optional(),
  /** Variant name → the seed whose expectations it inherits. */
  variants: z.record(z.string(), z.enum(SEED_PROFILES)),
  /**
   * Profile → the checks that warn against the correct mock serving it, because the profile documents
   * a deviation from a standard the check cites (invalidGrantStatus 403: RFC 6749 §5.2 says 400).
   * Exact per profile, never inherited: the control row must show exactly these warnings, and a
   * defect row does not count them as catches.
   */
  deviations: z.record(z.string(), deviation).optional(),
  defects: z.record(z.string(), entry),
});

export interface DefectTable {
  variants: Record<string, string>;
  deviations: Record<string, Deviation>;
  defects: Record<Defect, z.infer<typeof entry>>;
}

/** The library: every built-in profile beyond the seeds (discovered, so a new file needs its entries here). */
export const LIBRARY_PROFILES: readonly string[] = BUILTIN_PROFILES.filter((name) => !(SEED_PROFILES as readonly string[]).includes(name));

/** The profiles the self-test runs: the seeds and their variants, then the library profiles. */
export async function loadMatrixProfiles(): Promise<Profile[]> {
  const [variants, library] = await Promise.all([loadVariants(), Promise.all(LIBRARY_PROFILES.map((name) => loadProfile(name)))]);
  return [...variants, ...library];
}

/** Validates the parsed table against the defects, the catalogue and the profiles (seeds, variants and the library). */
export function parseDefectTable(json: unknown, profiles: readonly Profile[], file = DEFECT_TABLE): DefectTable {
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new DefectTableError('DEFECT_TABLE_INVALID', `${file}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  const table = parsed.data;
  const problems: string[] = [];
  const ids = new Set(CHECKS.map((c) => c.id));
  const names = new Set(profiles.map((p) => p.name));
  for (const [variant, seed] of Object.entries(table.variants)) {
    if (!names.has(variant)) problems.push(`variants.${variant}: no such profile variant`);
    if ((SEED_PROFILES as readonly string[]).includes(variant)) problems.push(`variants.${variant}: a seed profile is not a variant (seed ${seed})`);
  }
  const explicit: readonly string[] = [...SEED_PROFILES, ...LIBRARY_PROFILES];
  for (const p of profiles) {
    if (!explicit.includes(p.name) && !(p.name in table.variants)) problems.push(`variants: no seed named for variant ${p.name}`);
  }
  for (const variant of Object.keys(table.variants)) {
    if (LIBRARY_PROFILES.includes(variant)) problems.push(`variants.${variant}: a library profile is not a variant (it is mapped explicitly)`);
  }
  for (const [profile, { checks }] of Object.entries(table.deviations ?? {})) {
    if (!names.has(profile)) problems.push(`deviations.${profile}: no such profile or variant`);
    for (const id of checks) if (!ids.has(id)) problems.push(`deviations.${profile}: ${id} is not a check of the catalogue`);
  }
  for (const d of DEFECTS) if (!table.defects[d]) problems.push(`defects.${d}: missing (every seeded defect needs its catchers)`);
  for (const [d, { caughtBy }] of Object.entries(table.defects)) {
    if (!(DEFECTS as readonly string[]).includes(d)) problems.push(`defects.${d}: no such defect in mock-idp/defects.ts`);
    for (const seed of SEED_PROFILES) if (!caughtBy[seed]) problems.push(`defects.${d}.caughtBy.${seed}: missing (seeds are mapped explicitly)`);
    for (const name of LIBRARY_PROFILES) {
      if (!caughtBy[name]) problems.push(`defects.${d}.caughtBy.${name}: missing (library profiles are mapped explicitly)`);
    }
    for (const [profile, expected] of Object.entries(caughtBy)) {
      if (!names.has(profile)) problems.push(`defects.${d}.caughtBy.${profile}: no such profile or variant`);
      if (Array.isArray(expected)) for (const id of expected) if (!ids.has(id)) problems.push(`defects.${d}.caughtBy.${profile}: ${id} is not a check of the catalogue`);
    }
  }
  if (problems.length) throw new DefectTableError('DEFECT_TABLE_INVALID', `${file}:\n  ${problems.join('\n  ')}`);
  return { ...table, deviations: table.deviations ?? {} } as DefectTable;
}

export async function loadDefectTable(profiles: readonly Profile[], file = DEFECT_TABLE): Promise<DefectTable> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new DefectTableError('DEFECT_TABLE_INVALID', `${file}: ${(cause as Error).message}`, { cause });
  }
  return parseDefectTable(json, profiles, file);
}

/** What must catch `defect` under `profile`: its own entry, else its seed's (a variant inherits). */
export function expectationFor(table: DefectTable, defect: Defect, profile: string): Expectation {
  const { caughtBy } = table.defects[defect];
  const seed = table.variants[profile];
  return caughtBy[profile] ?? (seed !== undefined ? caughtBy[seed] : undefined) ?? [];
}

/** The checks that warn on the correct mock serving `profile`: the deviations its profile documents. */
export function deviationsOf(table: DefectTable, profile: string): string[] {
  return [...(table.deviations[profile]?.checks ?? [])].sort();
}
