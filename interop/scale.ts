/**
 * A profile with its lifetimes scaled down, so a real clock can test them in seconds, and the target
 * files that point the suites at a running third-party server (interop tests and CLIs).
 *
 * Scaling rule (see docs/README-issue5.md "Scaled lifetimes"):
 *   - every lifetime is multiplied by `scale` and rounded;
 *   - the SSO session and refresh-token lifetimes get a floor of 8 s, access and ID tokens one of 4 s:
 *     with 8 s the windows the time-based checks probe (README "The real clock": whole-second
 *     bounds from measured times, plus the measured jitter) stay wider than their margins under load;
 *     `realMargin` (max(2 s, 10 %)) is what checks declare in waits() and applicability;
 *   - a lifetime longer than the SSO session in the real profile stays longer than the scaled
 *     session by the checks' margin plus 2 s (so "refresh after the SSO session ended" can be
 *     observed), and one shorter stays no longer than the session;
 *   - where new refresh tokens need an active SSO session, the session is at least 2 × (margin + 2 s)
 *     of the longest sliding lifetime, so the sliding check's renewal (at half the session) falls
 *     inside it and clear of the margin its probe uses (only matters for scales above ~1e-5).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isRefreshPolicy, parseProfile, type Profile } from '../mock-idp/profile/index.ts';
import { CHECKS, type CheckClient } from '../suites/checks/index.ts';
import { realMargin as checksRealMargin } from '../suites/checks/util.ts';

/** 90 days → 12 s. With the floors, the longest check (Mobile idle gap) waits 18 s. */
export const CI_SCALE = 1 / 648_000;

export const FLOORS = { ssoSession: 8, refreshToken: 8, accessToken: 4 } as const;

/** The checks' slack around a boundary on a real clock. */
export function realMargin(seconds: number): number {
  return checksRealMargin(seconds);
}

function scaled(seconds: number, scale: number, floor: number): number {
  return Math.max(floor, Math.round(seconds * scale));
}

export function scaleProfile(base: Profile, scale: number): Profile {
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`scale must be in (0, 1], got ${scale}`);
  const S = base.ssoSessionLifetimeSeconds;
  // Where new refresh tokens need the SSO session, the sliding check renews the token inside the
  // session, at half of it: that must come after the check's margin for the token's lifetime plus 2 s.
  const slidingNeed = base.refreshAfterSsoEnd === 'new-refresh-token' ? 0 : Math.max(0, ...Object.values(base.policies)
    .filter(isRefreshPolicy)
    .filter((p) => p.expiry === 'sliding' && p.lifetimeSeconds > S)
    .map((p) => 2 * (realMargin(scaled(p.lifetimeSeconds, scale, FLOORS.refreshToken)) + 2)));
  const sso = Math.max(scaled(S, scale, FLOORS.ssoSession), slidingNeed);
  const outlivesSso = sso + realMargin(sso) + 2;
  const notes: Profile['notes'] = [];
  const note = (field: string, from: number, to: number, why: string) =>
    notes.push({ field, choice: `${to} s (was ${from} s; scale ${formatScale(scale)})`, reason: why });

  const policies: Profile['policies'] = {};
  for (const [name, policy] of Object.entries(base.policies)) {
    if (!isRefreshPolicy(policy)) {
      policies[name] = policy;
      continue;
    }
    const L = policy.lifetimeSeconds;
    let l = scaled(L, scale, FLOORS.refreshToken);
    let why = `lifetime × scale, at least ${FLOORS.refreshToken} s (a real clock's margin is 2 s)`;
    if (L > S && l < outlivesSso) {
      l = outlivesSso;
      why = `outlives the SSO session in the real profile, so it outlives the scaled ${sso} s session by the checks' margin plus 2 s (${outlivesSso} s)`;
    } else if (L <= S && l > sso) {
      l = sso;
      why = `ends no later than the SSO session, as in the real profile`;
    }
    policies[name] = { ...policy, lifetimeSeconds: l };
    note(`policies.${name}.lifetimeSeconds`, L, l, why);
  }
  const at = scaled(base.accessTokenLifetimeSeconds, scale, FLOORS.accessToken);
  const idt = scaled(base.idTokenLifetimeSeconds, scale, FLOORS.accessToken);
  note(
    'ssoSessionLifetimeSeconds',
    S,
    sso,
    sso === slidingNeed && slidingNeed > scaled(S, scale, FLOORS.ssoSession)
      ? `long enough for the sliding check to renew a token inside the session, clear of its real-clock margin (2 × (margin + 2 s))`
      : `session lifetime × scale, at least ${FLOORS.ssoSession} s`,
  );
  note('accessTokenLifetimeSeconds', base.accessTokenLifetimeSeconds, at, `× scale, at least ${FLOORS.accessToken} s (shorter than every refresh token, as the seed's "shorter-lived")`);
  note('idTokenLifetimeSeconds', base.idTokenLifetimeSeconds, idt, `× scale, at least ${FLOORS.accessToken} s`);

  return parseProfile(
    {
      ...base,
      $schema: undefined,
      name: `${base.name}-scaled`,
      title: `${base.title}, lifetimes scaled by ${formatScale(scale)} for a real-clock run`,
      accessTokenLifetimeSeconds: at,
      idTokenLifetimeSeconds: idt,
      ssoSessionLifetimeSeconds: sso,
      graceWindowSeconds: base.graceWindowSeconds === 0 ? 0 : scaled(base.graceWindowSeconds, scale, 1),
      policies,
      notes: [...base.notes, ...notes],
    },
    `${base.name} scaled by ${scale}`,
  );
}

export function formatScale(scale: number): string {
  const inverse = 1 / scale;
  return Number.isInteger(Math.round(inverse * 1000) / 1000) && inverse >= 2 ? `1/${Math.round(inverse)}` : String(scale);
}

/** The longest real-time wait any applicable check needs against these clients (seconds). */
export function longestWait(profile: Profile, clients: readonly CheckClient[]): number {
  let longest = 0;
  for (const check of CHECKS) {
    for (const client of clients) {
      const policy = profile.policies[client.policy];
      if (!policy) continue;
      const input = { profile, policy, client, otherClients: clients.filter((c) => c !== client) };
      if (check.applies(input) !== true || !check.waits) continue;
      longest = Math.max(longest, check.waits(input));
    }
  }
  return longest;
}

/** A target file's client entry. */
export interface TargetFileClient {
  id: string;
  secret?: string;
  auth: 'client_secret_basic' | 'client_secret_post' | 'none';
  redirectUri: string;
  policy: string;
  scope?: string;
}

/** Writes profile.json and target.json into `dir`; the target refers to the profile by relative path. */
export async function writeTargetFiles(dir: string, profile: Profile, target: Record<string, unknown>): Promise<{ profileFile: string; targetFile: string }> {
  await mkdir(dir, { recursive: true });
  const profileFile = path.join(dir, 'profile.json');
  const targetFile = path.join(dir, 'target.json');
  await writeFile(profileFile, JSON.stringify(profile, null, 2) + '\n');
  await writeFile(targetFile, JSON.stringify({ ...target, profile: './profile.json' }, null, 2) + '\n');
  return { profileFile, targetFile };
}
