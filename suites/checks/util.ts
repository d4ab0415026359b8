/** Small helpers shared by the checks. */
import { isRefreshPolicy, type Policy, type RefreshPolicy } from '../../mock-idp/profile/index.ts';
import { inconclusive } from './expect.ts';
import type { ApplicabilityInput, CheckContext } from './types.ts';

/**
 * The slack checks declare in waits() and applicability for a boundary of `lifetime` on a real clock
 * (an upper bound of what timing.ts adds: the whole-second second and the measured jitter).
 */
export function realMargin(lifetime: number): number {
  return Math.max(2, Math.ceil(lifetime * 0.1));
}

export function refreshPolicy(i: ApplicabilityInput): RefreshPolicy | string {
  if (!i.policy.refresh) return `policy ${i.client.policy} does not issue refresh tokens`;
  if (!isRefreshPolicy(i.policy)) return `policy ${i.client.policy} lacks refresh fields`;
  return i.policy;
}

export function interactive(i: ApplicabilityInput): true | string {
  return i.policy.grantTypes.includes('authorization_code') ? true : `policy ${i.client.policy} has no interactive (authorization_code) login`;
}

/** Applies when the policy refreshes and `extra` holds. */
export function whenRefresh(extra?: (p: RefreshPolicy, i: ApplicabilityInput) => true | string) {
  return (i: ApplicabilityInput): true | string => {
    const p = refreshPolicy(i);
    if (typeof p === 'string') return p;
    return extra ? extra(p, i) : true;
  };
}

/** The policy of a check whose applies() already proved it refreshes. */
export function rp(t: { policy: Policy }): RefreshPolicy {
  if (!isRefreshPolicy(t.policy)) throw new TypeError('check ran for a policy without refresh');
  return t.policy;
}

export function scopeOf(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}

export function days(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The target's time in Unix seconds: the mock's clock for a mock clock, the harness's for a real one. */
export async function targetNow(t: Pick<CheckContext, 'clock'>): Promise<number> {
  if (t.clock.targetTime) return t.clock.targetTime();
  if (t.clock.kind === 'real') return Math.floor(Date.now() / 1000);
  return inconclusive('the mock clock cannot be read: no time to judge against');
}
