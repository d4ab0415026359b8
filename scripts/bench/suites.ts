/**
 * Wall time of the whole check catalogue against the embedded mock, without vitest:
 * the run pipeline (runCatalogue), per transport and profile, in this (fresh) process.
 * Usage: tsx scripts/bench/suites.ts --transports direct,msw,http --profiles telenorid-plus,erp-net
 * Prints one JSON line per run: { transport, profile, ms, passed, failed, skipped, checks }.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadProfile } from '../../mock-idp/index.ts';
import { loadTarget, type Target } from '../../suites/harness/target.ts';
import { runCatalogue } from '../../suites/runner/pipeline.ts';
import { stopEmbeddedMsw, type Transport } from '../../suites/runner/embedded.ts';

export interface SuiteRun {
  transport: Transport;
  profile: string;
  /** Opening the target to the last result: what a user waits for once the process is up. */
  ms: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Longest simulated lifetime the run covered (seconds), to show the 14/90-day checks ran. */
  longestLifetimeSeconds: number;
  firstFailure?: string;
}

export async function timeCatalogue(transport: Transport, profileName: string): Promise<SuiteRun> {
  const base = await loadTarget(fileURLToPath(new URL('../../fixtures/targets/mock.json', import.meta.url)));
  const profile = await loadProfile(profileName);
  const target = { ...base, profile, profileRef: profileName, embedded: { transport } } as Target;
  const t0 = performance.now();
  const { results } = await runCatalogue(target);
  const ms = performance.now() - t0;
  const failed = results.filter((r) => r.status === 'failed');
  const ran = new Set(results.filter((r) => r.status === 'passed').map((r) => r.policy));
  const longest = Math.max(
    0,
    ...Object.entries(profile.policies)
      .filter(([name]) => ran.has(name))
      .map(([, p]) => ('lifetimeSeconds' in p && typeof p.lifetimeSeconds === 'number' ? p.lifetimeSeconds : 0)),
  );
  return {
    transport,
    profile: profileName,
    ms,
    passed: results.filter((r) => r.status === 'passed').length,
    failed: failed.length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    longestLifetimeSeconds: longest,
    ...(failed[0] && { firstFailure: `${failed[0].id} [${failed[0].client}]: ${(failed[0].message ?? '').split('\n').slice(0, 3).join(' / ')}` }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      transports: { type: 'string', default: 'direct,msw,http' },
      profiles: { type: 'string', default: 'telenorid-plus,erp-net' },
    },
  });
  for (const profile of values.profiles.split(',')) {
    for (const transport of values.transports.split(',') as Transport[]) {
      process.stdout.write(`${JSON.stringify(await timeCatalogue(transport, profile))}\n`);
    }
  }
  stopEmbeddedMsw();
}
