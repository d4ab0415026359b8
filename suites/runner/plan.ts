/**
 * Planning: (check × target client) instances, each either to run or skipped with its reason
 * (the profile says no, the clock cannot wait that long, the target cannot log out). Pure.
 */
import { CHECKS, type Check, type CheckClient, type Group, type Level, type Need } from '../checks/index.ts';
import type { Profile } from '../../mock-idp/profile/index.ts';
import { renderCitations, type Citation } from '../../mock-idp/citations.ts';
import { citationsOf } from '../checks/citations.ts';
import type { ClockConfig, TargetClient } from '../harness/target.ts';

export interface CheckInstance {
  check: Check;
  client: TargetClient;
  otherClients: TargetClient[];
  /** Where the rule is written, for this client's policy (suites/checks/citations.ts). */
  citations: Citation[];
  /** The citations as one line of text (renderCitations). */
  clause: string;
  level: Level;
  /** Why it cannot run; undefined when it runs. */
  skip?: string;
  /** The name shown in vitest and JUnit: "<id> [<client>]". */
  name: string;
}

/**
 * What the target can do for a check beyond login and refresh: true, or why it cannot
 * (e.g. "the IdP's discovery has no end_session_endpoint"). A capability not listed is assumed.
 */
export type Capabilities = Partial<Record<Need, true | string>>;

export function planChecks(input: {
  profile: Profile;
  clients: TargetClient[];
  clock: ClockConfig;
  groups?: readonly Group[];
  only?: readonly string[];
  /** Default: every capability assumed. */
  capabilities?: Capabilities;
}): CheckInstance[] {
  const { profile, clients, clock } = input;
  const out: CheckInstance[] = [];
  for (const check of CHECKS) {
    if (input.groups && !input.groups.includes(check.group)) continue;
    if (input.only && !input.only.includes(check.id)) continue;
    for (const client of clients) {
      const otherClients = clients.filter((c) => c !== client);
      const policy = profile.policies[client.policy]!;
      // One client shape through the harness: a TargetClient is a CheckClient (checks/types.ts), the checks see that view.
      const applicability = { profile, policy, client, otherClients };
      const applies = check.applies(applicability);
      let skip = applies === true ? undefined : applies;
      for (const need of check.needs ?? []) {
        const can = input.capabilities?.[need];
        if (skip === undefined && typeof can === 'string') skip = `needs ${need}: ${can}`;
      }
      if (skip === undefined && clock.driver === 'real' && check.waits) {
        const need = check.waits(applicability);
        if (need > clock.maxWaitSeconds) skip = `needs ${need} s of real time; clock.maxWaitSeconds is ${clock.maxWaitSeconds}`;
      }
      const citations = citationsOf(check, applicability);
      out.push({
        check,
        client,
        otherClients,
        citations,
        clause: renderCitations(citations),
        level: typeof check.level === 'string' ? check.level : check.level(applicability),
        name: `${check.id} [${client.id}]`,
        ...(skip !== undefined && { skip }),
      });
    }
  }
  return out;
}

/** A check as `--list-checks` shows it: its clause and level as they read for a profile's policies. */
export interface CheckListing {
  id: string;
  group: Group;
  title: string;
  clause: string;
  level: string;
}

/**
 * Every check, with its clause and level resolved for each policy of `profile` it applies to (one
 * text when they agree, the distinct ones joined with " | " when they depend on the policy). Pure.
 */
export function describeChecks(profile: Profile): CheckListing[] {
  const policies = Object.keys(profile.policies);
  return CHECKS.map((check) => {
    const inputs = policies.map((policy) => {
      const client: CheckClient = { id: `client-${policy}`, auth: 'none', redirectUri: 'https://client.example/cb', policy };
      return { profile, policy: profile.policies[policy]!, client, otherClients: [] as CheckClient[] };
    });
    const applicable = inputs.filter((i) => check.applies(i) === true);
    const pick = applicable.length ? applicable : inputs.slice(0, 1);
    const distinct = (f: (i: (typeof inputs)[number]) => string) => [...new Set(pick.map(f))].join(' | ');
    return {
      id: check.id,
      group: check.group,
      title: check.title,
      clause: distinct((i) => renderCitations(citationsOf(check, i))),
      level: typeof check.level === 'string' ? check.level : distinct(check.level),
    };
  });
}
