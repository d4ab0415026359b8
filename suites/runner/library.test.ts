/**
 * The whole catalogue against the correct embedded mock serving (and declaring) each library profile:
 * every profile file of fixtures/profiles/ beyond the seeds (discovered, so a new file is covered
 * without a change here). A profile the mock cannot serve correctly, or a check that cannot judge
 * it, shows here as a failed, errored, warning or inconclusive check.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_PROFILES, SEED_PROFILES, loadProfile } from '../../mock-idp/profile/index.ts';
import { loadTarget } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';
import { catalogueResults } from './self-test.ts';

const seeds: readonly string[] = SEED_PROFILES;
const library = BUILTIN_PROFILES.filter((name) => !seeds.includes(name));

test('the library has profiles beyond the seeds', () => {
  expect(library.length).toBeGreaterThanOrEqual(4);
});

describe.each(library)('the catalogue against the correct mock serving %s', (name) => {
  let results: InstanceResult[];
  beforeAll(async () => {
    const base = await loadTarget('fixtures/targets/mock.json');
    results = await catalogueResults(base, await loadProfile(name));
  }, 120_000);

  const line = (r: InstanceResult) => `${r.status} ${r.id} [${r.client}]: ${r.message}`;

  test('no check fails or errors', () => {
    expect(results.filter((r) => r.status === 'failed' || r.status === 'errored').map(line)).toEqual([]);
  });

  test('every other check passes, or is skipped with its reason (none warns or is inconclusive)', () => {
    expect(results.filter((r) => r.status === 'warning' || r.status === 'inconclusive').map(line)).toEqual([]);
    expect(results.filter((r) => r.status === 'skipped' && !r.message)).toEqual([]);
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(30);
  });
});
