/**
 * observe: what refresh policy does this IdP actually implement? The probes of probes.ts run per
 * policy (the first client of each), through the run pipeline like checks (same drivers, same strict
 * HTTP client, same deadline and redaction), and assemble.ts writes what they saw as a profile.
 * On the mock's clock (embedded, or a running mock's control API) lifetimes are exact; on a real
 * clock they are measured within the wait budget and bounded.
 */
import type { Defect, Profile } from '../../mock-idp/index.ts';
import type { Target, TargetClient } from '../harness/target.ts';
import { capabilitiesOf, targetClients } from '../runner/connection.ts';
import { prepareRun } from '../runner/pipeline.ts';
import { assemble, type Assembled } from './assemble.ts';
import { MOCK_HORIZON, observePolicy } from './probes.ts';
import { trialsFor, type TrialCounter } from './trial.ts';
import type { Finding, Observation } from './types.ts';

export interface ObserveOptions {
  fetch?: typeof globalThis.fetch;
  /** Embedded mock only: seeded defects, and a served profile other than the declared one. */
  defects?: readonly Defect[];
  servedProfile?: Profile;
  /** Real clock: the longest single wait (default: the target's clock.maxWaitSeconds). */
  maxWaitSeconds?: number;
  /** Concurrent refreshes in the concurrency probe (default 8). */
  concurrent?: number;
  onProgress?: (line: string) => void;
}

export interface ObserveResult extends Assembled {
  /** Every observation, per client, before merging. */
  observations: Observation[];
  trials: number;
  clients: string[];
}

/**
 * The clients observe probes: the first of each policy that logs in (the declared frame: a client
 * without the code flow, or without a redirect URI, has no refresh token to observe).
 */
export function probedClients(target: Target): TargetClient[] {
  const seen = new Set<string>();
  const interactive = (c: TargetClient) => c.redirectUri !== undefined && target.profile.policies[c.policy]?.grantTypes.includes('authorization_code') === true;
  return targetClients(target).filter((c) => interactive(c) && !seen.has(c.policy) && seen.add(c.policy));
}

/**
 * An upper bound of the logins observe needs per client (each trial logs in once): shown up front
 * for manual and browser login drivers, where each is a person's or a browser's work.
 */
export function loginBudget(target: Target): number {
  const searches = target.clock.driver === 'real' ? 12 : 80;
  // first refresh, without offline access, reuse, grace search + count + late reuse, concurrency,
  // two logouts, two lifetime searches + sliding + chain (+ exact maximum search) each, introspection.
  return 2 + 1 + (searches + 2) + 1 + 2 + 2 * (searches + 2 + searches) + 1;
}

export async function observeTarget(target: Target, options: ObserveOptions = {}): Promise<ObserveResult> {
  const run = await prepareRun(target, {
    only: [],
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.defects && { defects: options.defects }),
    ...(options.servedProfile && { servedProfile: options.servedProfile }),
  });
  const counter: TrialCounter = { trials: 0 };
  try {
    const all = targetClients(target);
    const clients = probedClients(target);
    const real = target.clock.driver === 'real';
    const capabilities = capabilitiesOf(target, undefined);
    const settings = {
      clock: real ? ('real' as const) : ('mock' as const),
      maxWait: real ? (options.maxWaitSeconds ?? (target.clock as { maxWaitSeconds: number }).maxWaitSeconds) : MOCK_HORIZON,
      concurrent: options.concurrent ?? 8,
      logout: capabilities.logout ?? true,
    };
    const observations: Observation[] = [];
    const findings: Finding[] = [];
    const one = async (client: TargetClient) => {
      options.onProgress?.(`observing client ${client.id} (policy ${client.policy})`);
      const trial = trialsFor(run, client, all.filter((c) => c !== client), counter);
      const r = await observePolicy(trial, client.id, client.policy, settings);
      observations.push(...r.observations);
      findings.push(...r.findings);
    };
    // A real clock's waits overlap across clients; a mock clock is one clock, moved by one client at a time.
    if (real) await Promise.all(clients.map(one));
    else for (const c of clients) await one(c);
    // Deterministic order: by client as listed, then as observed.
    const order = new Map(clients.map((c, i) => [c.id, i]));
    observations.sort((a, b) => (order.get(a.client ?? '') ?? 0) - (order.get(b.client ?? '') ?? 0));
    const assembled = assemble(target.profile, observations, findings);
    return { ...assembled, observations, trials: counter.trials, clients: clients.map((c) => c.id) };
  } finally {
    await run.close();
  }
}
