/**
 * fixtures/defects.json, validated: each seeded defect, and per profile (a seed or a variant) the
 * check ids that must catch it. A variant inherits its seed's expectations (`variants`: variant →
 * seed) unless it has its own entry, so the data says only where a variant differs.
 * Unknown keys, defects, profiles and check ids are errors that name the offending path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFECTS, type Defect, type Profile } from '../../mock-idp/index.ts';
import { SEED_PROFILES } from '../../mock-idp/profile/load.ts';
import { CHECKS } from '../checks/index.ts';
import { HarnessError } from '../harness/errors.ts';

export const DEFECT_TABLE = fileURLToPath(new URL('../../fixtures/defects.json', import.meta.url));

export class DefectTableError extends HarnessError<'DEFECT_TABLE_INVALID'> {
  override readonly name = 'DefectTableError';
}

const expectation = z.union([z.array(z.string()), z.strictObject({ notApplicable: z.string().min(1) })]);
export type Expectation = z.infer<typeof expectation>;

const entry = z.strictObject({ description: z.string().min(1), caughtBy: z.record(z.string(), expectation) });

const tableSchema = z.strictObject({
  $comment: z.string().optional(),
  /** Variant name → the seed whose expectations it inherits. */
  variants: z.record(z.string(), z.enum(SEED_PROFILES)),
  defects: z.record(z.string(), entry),
});

export interface DefectTable {
  variants: Record<string, string>;
  defects: Record<Defect, z.infer<typeof entry>>;
}

/** Validates the parsed table against the defects, the catalogue and the profiles (seeds and variants). */
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
  for (const p of profiles) {
    if (!(SEED_PROFILES as readonly string[]).includes(p.name) && !(p.name in table.variants)) problems.push(`variants: no seed named for variant ${p.name}`);
  }
  for (const d of DEFECTS) if (!table.defects[d]) problems.push(`defects.${d}: missing (every seeded defect needs its catchers)`);
  for (const [d, { caughtBy }] of Object.entries(table.defects)) {
    if (!(DEFECTS as readonly string[]).includes(d)) problems.push(`defects.${d}: no such defect in mock-idp/defects.ts`);
    for (const seed of SEED_PROFILES) if (!caughtBy[seed]) problems.push(`defects.${d}.caughtBy.${seed}: missing (seeds are mapped explicitly)`);
    for (const [profile, expected] of Object.entries(caughtBy)) {
      if (!names.has(profile)) problems.push(`defects.${d}.caughtBy.${profile}: no such profile or variant`);
      if (Array.isArray(expected)) for (const id of expected) if (!ids.has(id)) problems.push(`defects.${d}.caughtBy.${profile}: ${id} is not a check of the catalogue`);
    }
  }
  if (problems.length) throw new DefectTableError('DEFECT_TABLE_INVALID', `${file}:\n  ${problems.join('\n  ')}`);
  return table as DefectTable;
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
