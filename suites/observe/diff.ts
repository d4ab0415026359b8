/**
 * Declared versus observed, field by field: a difference where an exact observation disagrees, or
 * where a bounded one excludes the declared value; unobservable fields are listed, never differences.
 */
import type { Profile } from '../../mock-idp/profile/index.ts';
import { clauseOf, declaredValue } from './fields.ts';
import type { FieldValue, Observation } from './types.ts';

export interface DiffRow {
  field: string;
  declared: FieldValue | undefined;
  observed: Observation;
  differs: boolean;
  clause: string;
}

function inBounds(v: FieldValue | undefined, o: Observation): boolean {
  const n = v === null ? Infinity : v;
  if (typeof n !== 'number') return o.value === undefined || o.value === v;
  const high = o.high === null || o.high === undefined ? Infinity : o.high;
  return n >= (o.low ?? -Infinity) && n <= high;
}

/** A declared value that allows what was seen without being equal to it. */
function allows(field: string, declared: FieldValue | undefined, seen: FieldValue | undefined): boolean {
  // OIDC Core §12.2: "optional" allows an id_token on refresh and its absence.
  if (field === 'idTokenOnRefresh' && declared === 'optional') return true;
  return declared === seen;
}

export function diffProfiles(declared: Profile, fields: readonly Observation[]): DiffRow[] {
  return fields.map((o) => {
    const d = declaredValue(declared, o.field);
    const differs = o.confidence === 'observed' ? !allows(o.field, d, o.value) : o.confidence === 'bounded' ? !inBounds(d, o) : false;
    return { field: o.field, declared: d, observed: o, differs, clause: clauseOf(o.field) };
  });
}

const show = (v: FieldValue | undefined): string => (v === undefined ? '—' : v === null ? 'none' : String(v));

export function observedText(o: Observation): string {
  if (o.confidence === 'unobservable') return 'unobservable';
  if (o.confidence === 'bounded') {
    const open = o.high === null || o.high === undefined;
    // A maximum not seen: none at all, or one beyond what was seen.
    if (o.value === null && open) return `none, or ≥ ${o.low}`;
    return `${o.value === undefined ? '?' : show(o.value)} in [${o.low}, ${open ? '∞' : o.high}]`;
  }
  return show(o.value);
}

/** The side-by-side table as text lines (the caller makes it safe for a terminal). */
export function diffLines(rows: readonly DiffRow[]): string[] {
  const w = Math.max(5, ...rows.map((r) => r.field.length));
  const lines = [`${'field'.padEnd(w)}  ${'declared'.padEnd(22)}  ${'observed'.padEnd(28)}  clause`];
  for (const r of rows) {
    const mark = r.differs ? '✗' : r.observed.confidence === 'unobservable' ? '·' : '✓';
    lines.push(`${mark} ${r.field.padEnd(w)}  ${show(r.declared).padEnd(22)}  ${observedText(r.observed).padEnd(28)}  ${r.clause}`);
    if (r.differs) lines.push(`    ${r.observed.reason}`);
  }
  return lines;
}
