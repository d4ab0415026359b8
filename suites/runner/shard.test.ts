/** --shard's split (shard.ts): every instance in exactly one part, the same parts whatever the order or machine, balanced. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTarget } from '../harness/target.ts';
import { planDigest } from '../harness/report/shard.ts';
import { targetClients } from './connection.ts';
import { planChecks } from './plan.ts';
import { selectShard } from './shard.ts';

const instance = (id: string, client: string, skip?: string) => ({ check: { id }, client: { id: client }, name: `${id} [${client}]`, ...(skip !== undefined && { skip }) });

/** A deterministic shuffle (no Math.random: a failure must reproduce). */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const target = await loadTarget(fileURLToPath(new URL('../../fixtures/targets/mock.json', import.meta.url)));
const plan = planChecks({ profile: target.profile, clients: targetClients(target), clock: target.clock });

describe('selectShard', () => {
  it('puts every planned instance of the catalogue in exactly one part, for every N', () => {
    expect(plan.length).toBeGreaterThan(100);
    for (const count of [1, 2, 3, 4, 7, plan.length]) {
      const parts = Array.from({ length: count }, (_, i) => selectShard(plan, { index: i + 1, count }));
      const names = parts.flatMap((p) => p.selected.map((x) => x.name));
      expect(names.sort()).toEqual(plan.map((x) => x.name).sort());
      expect(new Set(names).size).toBe(plan.length);
      for (const [i, p] of parts.entries()) {
        expect(p.shard).toEqual({ index: i + 1, count, instances: p.selected.length, planned: plan.length, planDigest: planDigest(plan.map((x) => x.name)) });
      }
    }
  });

  it('keeps the plan order within a part', () => {
    const { selected } = selectShard(plan, { index: 2, count: 3 });
    const positions = selected.map((x) => plan.indexOf(x));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('deals the same parts whatever order the plan comes in', () => {
    for (const seed of [1, 2, 3]) {
      const other = shuffled(plan, seed);
      for (let index = 1; index <= 3; index++) {
        const a = selectShard(plan, { index, count: 3 });
        const b = selectShard(other, { index, count: 3 });
        expect(new Set(b.selected.map((x) => x.name))).toEqual(new Set(a.selected.map((x) => x.name)));
        expect(b.shard).toEqual(a.shard);
      }
    }
  });

  it('shares the checks that run, and the skipped ones, evenly (at most one apart)', () => {
    for (const count of [2, 3, 5]) {
      const parts = Array.from({ length: count }, (_, i) => selectShard(plan, { index: i + 1, count }).selected);
      const running = parts.map((p) => p.filter((x) => x.skip === undefined).length);
      const all = parts.map((p) => p.length);
      expect(Math.max(...running) - Math.min(...running)).toBeLessThanOrEqual(1);
      expect(Math.max(...all) - Math.min(...all)).toBeLessThanOrEqual(1);
      expect(Math.min(...running)).toBeGreaterThan(0);
    }
  });

  it('orders names by code units, not by locale: the split cannot depend on the machine', () => {
    // localeCompare puts "a" before "B"; code units put "B" (0x42) before "a" (0x61).
    const names = [instance('a.check', 'x'), instance('B.check', 'x')];
    expect(selectShard(names, { index: 1, count: 2 }).selected.map((x) => x.check.id)).toEqual(['B.check']);
    expect(selectShard(names, { index: 2, count: 2 }).selected.map((x) => x.check.id)).toEqual(['a.check']);
  });

  it('deals the runnable instances before the skipped ones', () => {
    const list = [instance('a', 'c', 'not applicable'), instance('b', 'c', 'not applicable'), instance('c', 'c'), instance('d', 'c')];
    expect(selectShard(list, { index: 1, count: 2 }).selected.map((x) => x.check.id)).toEqual(['a', 'c']);
    expect(selectShard(list, { index: 2, count: 2 }).selected.map((x) => x.check.id)).toEqual(['b', 'd']);
  });

  it('leaves a part empty when there are fewer instances than parts (the CLI refuses to run it)', () => {
    const list = [instance('a', 'c'), instance('b', 'c')];
    expect(selectShard(list, { index: 3, count: 3 })).toMatchObject({ selected: [], shard: { index: 3, count: 3, instances: 0, planned: 2 } });
  });

  it('refuses a plan that names an instance twice (no part could say which one it ran)', () => {
    expect(() => selectShard([instance('a', 'c'), instance('a', 'c')], { index: 1, count: 1 })).toThrow(/twice/);
  });
});
