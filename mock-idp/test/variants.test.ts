/**
 * The profile variants cover every value of every profile field: the schema is walked (every enum
 * value, both booleans), so a value added to the schema without a variant that uses it fails here.
 * Besides the schema's leaves, the combinations the refresh rules branch on are covered too.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isRefreshPolicy, parseProfile, Profile, type Profile as ProfileT } from '../profile/index.ts';
import { loadVariants } from '../profile/variants.ts';

const variants = await loadVariants();

/** A field path (`policies.*.expiry`, `policies.*.grantTypes[]`) and the values the schema allows there. */
type Leaf = { path: string; values: readonly (string | boolean | number)[] };

function leaves(schema: z.ZodType, path: string): Leaf[] {
  const def = (schema as unknown as { def: { type: string; [k: string]: any } }).def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([k, s]) => leaves(s, path ? `${path}.${k}` : k));
    case 'optional':
    case 'nullable':
    case 'default':
      return leaves(def.innerType, path);
    case 'array':
      return leaves(def.element, `${path}[]`);
    case 'record':
      return leaves(def.valueType, `${path}.*`);
    case 'enum':
      return [{ path, values: Object.values(def.entries as Record<string, string>) }];
    case 'boolean':
      return [{ path, values: [true, false] }];
    case 'literal':
      return [{ path, values: def.values as (string | number | boolean)[] }];
    case 'union': {
      // A union of literals (invalidGrantStatus 400 | 403) is one field with those values.
      const options = (def.options as z.ZodType[]).flatMap((o) => leaves(o, path));
      const literal = (def.options as z.ZodType[]).every((o) => (o as unknown as { def: { type: string } }).def.type === 'literal');
      return literal ? [{ path, values: options.flatMap((l) => l.values) }] : [];
    }
    default:
      return [];
  }
}

/** The optional number fields (a sliding maximum, online lifetimes): each must be present in some variant. */
function optionalNumbers(schema: z.ZodType, path: string, optional = false): string[] {
  const def = (schema as unknown as { def: { type: string; [k: string]: any } }).def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([k, s]) => optionalNumbers(s, path ? `${path}.${k}` : k));
    case 'optional':
      return optionalNumbers(def.innerType, path, true);
    case 'default':
    case 'nullable':
      return optionalNumbers(def.innerType, path, optional);
    case 'record':
      return optionalNumbers(def.valueType, `${path}.*`);
    case 'pipe':
      return optionalNumbers(def.in, path, optional);
    case 'number':
      return optional ? [path] : [];
    default:
      return [];
  }
}

/** The values found at a path in a profile (`.*` walks a record's values, `[]` an array's elements). */
function valuesAt(value: unknown, path: string): unknown[] {
  if (path === '') return [value];
  const m = /^([^.[\]]+|\*)(\[\])?\.?(.*)$/.exec(path)!;
  const [, key, array, rest] = m;
  const here = key === '*' ? Object.values(value as object) : [(value as Record<string, unknown>)?.[key!]];
  const items = array ? here.flatMap((v) => (Array.isArray(v) ? v : [])) : here;
  return items.filter((v) => v !== undefined).flatMap((v) => valuesAt(v, rest!));
}

function uncovered(profiles: ProfileT[]): string[] {
  const missing: string[] = [];
  for (const leaf of leaves(Profile, '')) {
    const seen = new Set(profiles.flatMap((p) => valuesAt(p, leaf.path)));
    for (const v of leaf.values) if (!seen.has(v)) missing.push(`${leaf.path} = ${String(v)}`);
  }
  return missing;
}

describe('profile variants', () => {
  it('are valid profiles with distinct names, derived from both seeds, and few', () => {
    for (const p of variants) expect(parseProfile(p, p.name)).toEqual(p);
    expect(new Set(variants.map((p) => p.name)).size).toBe(variants.length);
    expect(variants.map((p) => p.name).slice(0, 2)).toEqual(['telenorid-plus', 'erp-net']);
    // Each variant combines several values (the catalogue and the self-test run over every one).
    expect(variants.length).toBeLessThanOrEqual(9);
  });

  it('the schema walk finds the enum and boolean fields (it cannot pass on nothing)', () => {
    const paths = leaves(Profile, '').map((l) => l.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'refreshAfterSsoEnd',
        'presentedTokenAfterSsoEnd',
        'reuseOfRotatedToken',
        'policies.*.confidential',
        'policies.*.grantTypes[]',
        'policies.*.refresh',
        'policies.*.expiry',
        'policies.*.rotation',
      ]),
    );
  });

  it('cover every value of every enum and boolean field of the schema', () => {
    expect(uncovered(variants)).toEqual([]);
  });

  it('the walk finds literal unions and optional numbers (it cannot pass on nothing)', () => {
    expect(leaves(Profile, '')).toContainEqual({ path: 'invalidGrantStatus', values: [400, 403] });
    expect(optionalNumbers(Profile, '')).toEqual(
      expect.arrayContaining(['policies.*.lifetimeSeconds', 'policies.*.maxLifetimeSeconds', 'onlineTokens.lifetimeSeconds', 'onlineTokens.maxLifetimeSeconds']),
    );
  });

  it('cover every optional number field (present in some variant)', () => {
    const absent = optionalNumbers(Profile, '').filter((path) => !variants.some((p) => valuesAt(p, path).length > 0));
    expect(absent).toEqual([]);
    // And the check can fail: without the capped variant no maximum is present.
    const uncapped = variants.map((p) => ({ ...p, policies: Object.fromEntries(Object.entries(p.policies).map(([k, q]) => [k, { ...q, maxLifetimeSeconds: undefined }])) }));
    expect(uncapped.some((p) => valuesAt(p, 'policies.*.maxLifetimeSeconds').length > 0)).toBe(false);
  });

  it('cover a grace count above 1 (with a grace window), and online tokens with each refreshAfterSsoEnd', () => {
    expect(variants.some((p) => p.graceReuseCount > 1 && p.graceWindowSeconds > 0)).toBe(true);
    const online = new Set(variants.filter((p) => p.refreshTokenIssuance === 'always').map((p) => p.onlineTokens.refreshAfterSsoEnd));
    expect([...online].sort()).toEqual(['invalid_grant', 'new-refresh-token', 'no-new-refresh-token']);
  });

  it('a value no variant uses is reported (the check can fail)', () => {
    const withoutConsumed = variants.filter((p) => p.presentedTokenAfterSsoEnd !== 'consumed');
    expect(uncovered(withoutConsumed)).toContain('presentedTokenAfterSsoEnd = consumed');
    const withoutFixed = variants.map((p) => ({ ...p, policies: Object.fromEntries(Object.entries(p.policies).filter(([, q]) => q.expiry !== 'fixed')) }));
    expect(uncovered(withoutFixed)).toContain('policies.*.expiry = fixed');
  });

  it('cover every valid refreshAfterSsoEnd × presentedTokenAfterSsoEnd pair (validity as the schema says)', () => {
    const [rules, presented] = [leaves(Profile, '').find((l) => l.path === 'refreshAfterSsoEnd')!, leaves(Profile, '').find((l) => l.path === 'presentedTokenAfterSsoEnd')!];
    const valid = rules.values.flatMap((r) =>
      presented.values
        .filter((t) => Profile.safeParse({ ...variants[0]!, refreshAfterSsoEnd: r, presentedTokenAfterSsoEnd: t }).success)
        .map((t) => `${String(r)} × ${String(t)}`),
    );
    expect(valid.length).toBeGreaterThanOrEqual(4);
    const seen = new Set(variants.map((p) => `${p.refreshAfterSsoEnd} × ${p.presentedTokenAfterSsoEnd}`));
    expect(valid.filter((pair) => !seen.has(pair))).toEqual([]);
  });

  it('cover grace 0 and > 0 with each reuse rule, and lifetimes shorter and longer than the SSO session per SSO rule', () => {
    const reuse = leaves(Profile, '').find((l) => l.path === 'reuseOfRotatedToken')!.values;
    const seen = new Set(variants.map((p) => `${p.reuseOfRotatedToken} grace ${p.graceWindowSeconds > 0 ? '> 0' : '0'}`));
    const want = reuse.flatMap((r) => [`${String(r)} grace 0`, `${String(r)} grace > 0`]);
    expect(want.filter((w) => !seen.has(w))).toEqual([]);

    const lifetimes = new Set(
      variants.flatMap((p) =>
        Object.values(p.policies)
          .filter(isRefreshPolicy)
          .map((q) => `${q.lifetimeSeconds > p.ssoSessionLifetimeSeconds ? 'longer' : 'shorter'} than the SSO session`),
      ),
    );
    expect([...lifetimes].sort()).toEqual(['longer than the SSO session', 'shorter than the SSO session']);
    // invalid_grant with a lifetime longer than the session: the case where the checks went wrong.
    expect(
      variants.some(
        (p) => p.refreshAfterSsoEnd === 'invalid_grant' && Object.values(p.policies).some((q) => isRefreshPolicy(q) && q.lifetimeSeconds > p.ssoSessionLifetimeSeconds),
      ),
    ).toBe(true);
  });

  it('cover every expiry × rotation combination of a refreshing policy', () => {
    const seen = new Set(variants.flatMap((p) => Object.values(p.policies).filter(isRefreshPolicy).map((q) => `${q.expiry} rotation ${q.rotation}`)));
    expect([...seen].sort()).toEqual(['fixed rotation false', 'fixed rotation true', 'sliding rotation false', 'sliding rotation true']);
  });
});
