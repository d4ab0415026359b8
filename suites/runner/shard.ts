/**
 * `--shard I/N`: which planned check instances part I of N runs. Every machine computes the same split
 * from the same plan: the instances sorted by name (code units, not locale), the ones that run dealt
 * out in turn first and then the skipped ones, so each part gets its share of the real work and every
 * instance lands in exactly one part. The report records the part and the whole plan's digest
 * (report/shard.ts), which merge-reports checks. Pure.
 */
import { byCodeUnits, instanceName, planDigest } from '../harness/report/shard.ts';
import type { ReportShard } from '../harness/report/types.ts';
import type { CheckInstance } from './plan.ts';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

export interface ShardSelection<T> {
  /** This part's instances, in the plan's order. */
  selected: T[];
  /** What report.json records of the part. */
  shard: ReportShard;
}

type Plannable = Pick<CheckInstance, 'skip'> & { check: { id: string }; client: { id: string } };

/** The part `spec` of `planned`. */
export function selectShard<T extends Plannable>(planned: readonly T[], spec: ShardSpec): ShardSelection<T> {
  const named = planned.map((instance) => ({ instance, name: instanceName(instance.check.id, instance.client.id) }));
  const names = named.map((n) => n.name);
  if (new Set(names).size !== names.length) throw new Error('selectShard: the plan names an instance twice');
  const order = (list: typeof named) => [...list].sort((a, b) => byCodeUnits(a.name, b.name));
  const dealt = [...order(named.filter((n) => n.instance.skip === undefined)), ...order(named.filter((n) => n.instance.skip !== undefined))];
  const mine = new Set(dealt.filter((_, i) => (i % spec.count) + 1 === spec.index).map((n) => n.instance));
  const selected = planned.filter((instance) => mine.has(instance));
  return {
    selected,
    shard: { index: spec.index, count: spec.count, instances: selected.length, planned: planned.length, planDigest: planDigest(names) },
  };
}
