/**
 * The profile node-oidc-provider implements with its DPoP feature on (launcher option --dpop): every
 * public refreshing policy of the base profile declares DPoP-bound refresh tokens (senderConstraint
 * "dpop": oidc-provider binds a public client's refresh token to the proof's key, RFC 9449 §5, and
 * checks it on refresh: "failed jkt verification"), the token endpoint demands nonces (its
 * features.dPoP.nonceSecret with requireNonce), and proofs are ES256 or EdDSA (its dPoPSigningAlgValues).
 */
import { parseProfile, type Profile } from '../../mock-idp/profile/index.ts';

export function withDpop(profile: Profile): Profile {
  const policies = Object.fromEntries(
    Object.entries(profile.policies).map(([name, p]) => [name, !p.confidential && p.refresh ? { ...p, senderConstraint: 'dpop' as const } : p]),
  );
  return parseProfile(
    {
      ...profile,
      name: `${profile.name}-dpop`,
      title: `${profile.title}, DPoP-bound public clients`,
      dpopNonce: true,
      dpopSigningAlgs: ['ES256', 'EdDSA'],
      policies,
      notes: [
        ...profile.notes,
        {
          field: 'senderConstraint',
          choice: 'dpop for every public refreshing policy, with nonces',
          reason: 'node-oidc-provider with features.dPoP (nonceSecret, requireNonce) binds public clients\' refresh tokens to the DPoP key and leaves confidential ones unbound (RFC 9449 §5)',
        },
      ],
    },
    'node-oidc-provider --dpop profile',
  );
}
