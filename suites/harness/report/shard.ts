/**
 * The names a sharded run agrees on: an instance's name, and the digest of a whole plan, recorded in every
 * shard's report.json (`shard.planDigest`) so merge-reports can tell that the parts belong to one run and
 * together hold all of it. Machine-independent: names are compared by UTF-16 code units, never by locale. Pure.
 */
import { createHash } from 'node:crypto';

/** A check instance's name, as vitest, JUnit and the terminal show it: `<id> [<client>]`, or the id alone. */
export function instanceName(id: string, client: string | null): string {
  return client === null ? id : `${id} [${client}]`;
}

/** Code-unit order: the same on every machine, whatever its locale (localeCompare is not). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `sha256:<hex>` of the names, sorted, one per line: equal for equal sets of names. */
export function planDigest(names: Iterable<string>): string {
  const sorted = [...names].sort(byCodeUnits);
  return `sha256:${createHash('sha256').update(sorted.join('\n')).digest('hex')}`;
}
