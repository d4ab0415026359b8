/**
 * One client per policy of a profile, as a target file lists them: the confidential policies
 * authenticate with a secret (client_secret_basic), the rest are public clients (PKCE, no secret);
 * mobile client types get a private-use-scheme redirect URI (RFC 8252 §7.1), the others https.
 */
import type { Policy, Profile } from '../mock-idp/profile/index.ts';
import type { TargetFileClient } from './scale.ts';

/** NoRefresh → no-refresh, PublicWeb → public-web. */
export function clientIdFor(policy: string): string {
  return policy.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function isNativeClientType(policy: Policy): boolean {
  return /mobile|native/i.test(policy.clientType);
}

export function redirectUriFor(id: string, policy: Policy): string {
  return isNativeClientType(policy) ? `com.example.${id.replace(/-/g, '')}:/callback` : `https://${id}.client.example/callback`;
}

/** `secretFor` gives the secret (or a `${ENV}` placeholder) of a confidential client. */
export function clientsForProfile(profile: Profile, secretFor: (clientId: string) => string): TargetFileClient[] {
  return Object.entries(profile.policies).map(([name, policy]) => {
    const id = clientIdFor(name);
    return {
      id,
      ...(policy.confidential && { secret: secretFor(id) }),
      auth: policy.confidential ? 'client_secret_basic' : 'none',
      redirectUri: redirectUriFor(id, policy),
      policy: name,
      // openid plus one more scope, so a refresh can narrow the scope; the profile's others can widen it.
      scope: ['openid', ...profile.scopes.slice(0, 1)].join(' '),
    };
  });
}
