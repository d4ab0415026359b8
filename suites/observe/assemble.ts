/**
 * The observed profile: the target's declared profile as the frame (its policies, clients, scopes,
 * citations), every observed field set to what was seen, and one note per field saying how sure
 * observe is and why. Validated as a schema-v2 profile; where what was seen cannot be one (values
 * that contradict each other), the problems are returned and the evidence still written.
 */
import { ProfileError, parseProfile, type Note, type Profile } from '../../mock-idp/profile/index.ts';
import { declaredValue } from './fields.ts';
import type { Finding, Observation } from './types.ts';

export interface Assembled {
  /** The observed profile, or undefined when it is not a valid profile (see `problems`). */
  profile?: Profile;
  /** The raw object (written even when invalid). */
  document: Record<string, unknown>;
  problems: string[];
  /** One observation per field (the first client's where clients agree). */
  fields: Observation[];
  findings: Finding[];
}

/** One observation per field: the most certain; a disagreement between clients is a finding. */
export function mergeObservations(all: readonly Observation[], findings: Finding[]): Observation[] {
  const rank = { observed: 0, bounded: 1, unobservable: 2 } as const;
  const byField = new Map<string, Observation>();
  for (const o of all) {
    const had = byField.get(o.field);
    if (!had || rank[o.confidence] < rank[had.confidence]) {
      byField.set(o.field, o);
      continue;
    }
    if (had.confidence === 'observed' && o.confidence === 'observed' && had.value !== o.value) {
      findings.push({
        client: o.client ?? '',
        title: `clients differ on ${o.field}`,
        detail: `${had.client}: ${JSON.stringify(had.value)}; ${o.client}: ${JSON.stringify(o.value)} (a profile states it once for all clients)`,
        evidence: o.evidence,
      });
    }
  }
  return [...byField.values()];
}

function setPath(doc: Record<string, unknown>, field: string, value: unknown): void {
  const parts = field.split('.');
  let node: Record<string, unknown> = doc;
  for (const p of parts.slice(0, -1)) {
    node[p] ??= {};
    node = node[p] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (value === null) delete node[last];
  else node[last] = value;
}

export function assemble(declared: Profile, all: readonly Observation[], findingsIn: readonly Finding[]): Assembled {
  const findings = [...findingsIn];
  const fields = mergeObservations(all, findings);
  const doc = structuredClone(declared) as unknown as Record<string, unknown>;
  const notes: Note[] = [];
  for (const o of fields) {
    const known = o.value !== undefined && (o.confidence === 'observed' || o.confidence === 'bounded');
    notes.push({ field: o.field, choice: known ? JSON.stringify(o.value) : 'kept as declared', reason: `${o.confidence}${o.confidence === 'bounded' ? ` [${o.low}, ${o.high ?? '∞'}]` : ''}: ${o.reason}` });
    if (!known) continue;
    // A value no profile can state (several different concurrent winners) stays a note and a finding.
    if (o.field === 'concurrentRefresh' && o.value === 'several-winners') continue;
    const parts = o.field.split('.');
    if (parts[0] === 'policies' && parts[2] === 'online') {
      // Online terms are profile-wide: written only where they differ from the policy's own.
      const policy = declared.policies[parts[1]!] as Record<string, unknown> | undefined;
      const own = parts[3] === 'lifetimeSeconds' ? policy?.lifetimeSeconds : (policy?.maxLifetimeSeconds ?? null);
      if (o.value !== own) setPath(doc, `onlineTokens.${parts[3]}`, o.value);
      continue;
    }
    setPath(doc, o.field, o.value);
  }
  doc.name = `${declared.name}-observed`;
  doc.title = `Observed: ${declared.title}`;
  doc.notes = notes;
  try {
    return { profile: parseProfile(doc, 'the observed profile'), document: doc, problems: [], fields, findings };
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    return { document: doc, problems: e.message.split('\n').slice(1).map((l) => l.trim()), fields, findings };
  }
}

/** For tests and diff: a field's value in the observed profile (effective, resolved). */
export const valueIn = declaredValue;
