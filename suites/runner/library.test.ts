/**
 * The whole catalogue against the correct embedded mock serving (and declaring) each library profile:
 * every profile file of fixtures/profiles/ beyond the seeds (discovered, so a new file is covered
 * without a change here). A profile the mock cannot serve correctly, or a check that cannot judge
 * it, shows here as a failed, errored, warning or inconclusive check.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { BUILTIN_PROFILES, SEED_PROFILES, loadProfile, type Profile } from '../../mock-idp/profile/index.ts';
import { citationKey } from '../../mock-idp/citations.ts';
import { loadTarget } from '../harness/target.ts';
import type { InstanceResult } from './run.ts';
import { catalogueResults } from './self-test.ts';

const seeds: readonly string[] = SEED_PROFILES;

/**
 * The checks that may warn against a correct mock of this profile: where the vendor documents a
 * deviation from a standard's SHOULD and the profile declares it (Auth0's 403 invalid_grant, against
 * RFC 6749 §5.2's 400), the checks judging it warn. Nothing else may.
 */
function deviationWarnings(profile: Profile): string[] {
  return profile.invalidGrantStatus !== 400 ? ['token-endpoint.error-shape', 'token-endpoint.refused-token-error'] : [];
}
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

  test("the results cite the vendor's documentation: every documentation citation of the profile's rules reaches a check's citations", async () => {
    const profile = await loadProfile(name);
    const reported = new Set(results.flatMap((r) => r.citations ?? []).map(citationKey));
    const documented = Object.values(profile.citations).flat().filter((c) => 'doc' in c);
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((c) => !reported.has(citationKey(c)))).toEqual([]);
  });

  test('no check fails or errors', () => {
    expect(results.filter((r) => r.status === 'failed' || r.status === 'errored').map(line)).toEqual([]);
  });

  test('every other check passes, or is skipped with its reason; none is inconclusive, and only a documented deviation warns', async () => {
    const allowed = deviationWarnings(await loadProfile(name));
    expect(results.filter((r) => r.status === 'inconclusive' || (r.status === 'warning' && !allowed.includes(r.id))).map(line)).toEqual([]);
    expect(results.filter((r) => r.status === 'skipped' && !r.message)).toEqual([]);
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThan(30);
  });
});
