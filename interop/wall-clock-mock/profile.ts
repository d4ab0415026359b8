/**
 * A profile with lifetimes of a few seconds, for runs on a real clock (README "Real clock"): every
 * refresh-token lifetime that ended inside the SSO session in the base profile becomes `seconds`;
 * the SSO session lasts twice that, and the lifetimes that outlived it three times (so "after the SSO
 * session ended" stays observable, as in the base); access and ID tokens live `seconds`; a grace
 * window keeps 1 s. The policies' shapes (fixed/sliding, rotation) are untouched.
 */
import { isRefreshPolicy, parseProfile, type Profile } from '../../mock-idp/profile/index.ts';

export function withLifetimesOf(base: Profile, seconds: number): Profile {
  if (!(Number.isInteger(seconds) && seconds >= 1)) throw new RangeError(`lifetime must be a whole number of seconds >= 1, got ${seconds}`);
  const sso = 2 * seconds;
  const policies: Profile['policies'] = {};
  for (const [name, policy] of Object.entries(base.policies)) {
    policies[name] = isRefreshPolicy(policy)
      ? { ...policy, lifetimeSeconds: policy.lifetimeSeconds > base.ssoSessionLifetimeSeconds ? 3 * seconds : seconds }
      : policy;
  }
  return parseProfile(
    {
      ...base,
      $schema: undefined,
      name: `${base.name}-${seconds}s`,
      title: `${base.title}, refresh-token lifetimes of ${seconds} s for a real-clock run`,
      accessTokenLifetimeSeconds: seconds,
      idTokenLifetimeSeconds: seconds,
      ssoSessionLifetimeSeconds: sso,
      graceWindowSeconds: base.graceWindowSeconds === 0 ? 0 : 1,
      policies,
      notes: [
        ...base.notes,
        { field: 'lifetimes', choice: `refresh tokens ${seconds} s (${3 * seconds} s where longer than the SSO session), SSO session ${sso} s`, reason: 'a real-clock run in seconds' },
      ],
    },
    `${base.name} with ${seconds} s lifetimes`,
  );
}
