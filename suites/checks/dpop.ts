/**
 * Sender-constrained refresh tokens (RFC 9449, DPoP): a public client's refresh token bound to its
 * proof key is refused without a proof and with another key's, and works with the same key (rotation
 * keeps the binding); a proof is single-use (jti), made for one method and URI (htm, htu); the nonce
 * dance works where the profile declares one. What is bound is the refresh model's answer
 * (mock-idp/profile/model.ts bindingOutcome), never worked out here.
 */
import { bindingOutcome, usesDpop } from '../../mock-idp/profile/model.ts';
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, fail, givenRefreshToken, inconclusive } from './expect.ts';
import type { ApplicabilityInput, Check, CheckContext, Tokens } from './types.ts';
import { interactive, reuseAfterRotation, whenRefresh } from './util.ts';

/** A client that sends DPoP proofs: its policy declares a sender constraint, and it logs in. */
const dpopClient = whenRefresh((p, i) => {
  if (!usesDpop(p)) return `policy ${i.client.policy} declares no sender constraint (senderConstraint none)`;
  return interactive(i);
});

/** A client whose refresh tokens the profile declares bound to its DPoP key (public, with a proof at the code exchange). */
const boundClient = (i: ApplicabilityInput): true | string => {
  const dpop = dpopClient(i);
  if (dpop !== true) return dpop;
  return bindingOutcome(i.profile, i.client.policy).bound ? true : `policy ${i.client.policy} is for confidential clients: their refresh tokens are not DPoP-bound (RFC 9449 §5)`;
};

const binding = (i: ApplicabilityInput) => [cite.spec('RFC 9449', '5', 'refresh tokens of public clients are bound to the DPoP key'), policyField(i, 'senderConstraint')];

/** Logs in (the code exchange with the client's proof) and returns the refresh token to start from. */
async function boundLogin(t: CheckContext): Promise<{ rt: string; tokens: Tokens }> {
  const { tokens } = await t.login({ offline: true });
  return { rt: givenRefreshToken(tokens, 'the code exchange with a DPoP proof'), tokens };
}

/** A refresh with the client's own proof, as the start of a check: inconclusive when it does not work. */
async function refreshed(t: CheckContext, rt: string, what: string): Promise<{ r: Tokens; next: string }> {
  const r = await t.refresh(rt);
  if (r.status !== 200) inconclusive(`${what} with the client's own DPoP proof did not succeed (${describe(r)}): nothing to compare against`);
  return { r, next: r.refresh_token ?? rt };
}

export const senderConstraintChecks: Check[] = [
  {
    id: 'sender-constraint.refused-without-proof',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'A DPoP-bound refresh token is refused without a DPoP proof',
    clause: (i) => [...binding(i), cite.spec('RFC 9449', '5', 'the authorization server MUST check that the refresh token is bound to the public key')],
    applies: boundClient,
    async run(t) {
      const { rt } = await boundLogin(t);
      const r = await t.refresh(rt, { dpop: { proof: 'none' } });
      t.note({ kind: 'rejected', label: 'no DPoP proof' });
      expectRefused(r, 'the DPoP-bound refresh token presented without a proof');
    },
  },
  {
    id: 'sender-constraint.refused-other-key',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'A DPoP-bound refresh token is refused with a proof made by another key',
    clause: (i) => [...binding(i), cite.spec('RFC 9449', '5')],
    applies: boundClient,
    async run(t) {
      const { rt } = await boundLogin(t);
      const r = await t.refresh(rt, { dpop: { proof: 'other-key' } });
      t.note({ kind: 'rejected', label: 'another DPoP key' });
      expectRefused(r, 'the DPoP-bound refresh token presented with a proof of another key');
    },
  },
  {
    id: 'sender-constraint.same-key-accepted',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'A DPoP-bound refresh token works with a proof of the same key, and the token after the refresh stays bound',
    clause: (i) => [...binding(i), policyField(i, 'rotation'), cite.spec('RFC 9449', '5')],
    applies: boundClient,
    async run(t) {
      const { rt } = await boundLogin(t);
      const first = await t.refresh(rt);
      expectSuccess(first, 'a refresh of the bound token with a proof of the same key');
      const next = first.refresh_token ?? rt;
      const rotated = next !== rt;
      const stolen = await t.refresh(next, { dpop: { proof: 'other-key' } });
      t.note({ kind: 'rejected', label: rotated ? 'rotated token, another key' : 'another key' });
      expectRefused(stolen, `the ${rotated ? 'rotated (new)' : 'same'} refresh token presented with another key's proof after the refresh (the binding is kept)`, first);
      expectSuccess(await t.refresh(next), `the ${rotated ? 'rotated' : 'same'} refresh token with the client's key`);
    },
  },
  {
    id: 'sender-constraint.proof-replay-refused',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'A DPoP proof sent again (same jti) is refused',
    clause: [cite.spec('RFC 9449', '4.3', 'step 12: the jti was not used before (within the window)'), cite.spec('RFC 9449', '11.1')],
    applies: dpopClient,
    async run(t) {
      const { rt } = await boundLogin(t);
      const { r, next } = await refreshed(t, rt, 'the first refresh');
      if (r.dpopProof === undefined) inconclusive('the first refresh carried no DPoP proof to replay');
      const replayed = await t.refresh(next, { dpop: { proof: 'replay', of: r.dpopProof } });
      t.note({ kind: 'rejected', label: 'replayed DPoP proof' });
      expectRefused(replayed, 'a refresh carrying the DPoP proof of the previous request again (same jti)', r);
    },
  },
  {
    id: 'sender-constraint.proof-htm-htu-checked',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'A DPoP proof made for another HTTP method or another URI is refused',
    clause: [cite.spec('RFC 9449', '4.3', 'steps 8 and 9: htm and htu match the request')],
    applies: dpopClient,
    async run(t) {
      const { rt } = await boundLogin(t);
      const wrongMethod = await t.refresh(rt, { dpop: { proof: 'wrong-htm' } });
      expectRefused(wrongMethod, 'a refresh whose DPoP proof names htm GET');
      const wrongUri = await t.refresh(rt, { dpop: { proof: 'wrong-htu' } });
      t.note({ kind: 'rejected', label: 'proof for another method, then another URI' });
      expectRefused(wrongUri, 'a refresh whose DPoP proof names the userinfo endpoint as htu');
    },
  },
  {
    id: 'sender-constraint.nonce-required',
    group: 'sender-constraint',
    level: 'MUST',
    title: 'Where the profile declares DPoP nonces, a proof without one gets use_dpop_nonce and a DPoP-Nonce to retry with, and the retry works',
    clause: (i) => [cite.spec('RFC 9449', '8'), cite.spec('RFC 9449', '8.1'), profileField(i.profile, 'dpopNonce')],
    applies: (i) => {
      const dpop = dpopClient(i);
      if (dpop !== true) return dpop;
      return i.profile.dpopNonce ? true : 'the profile declares no DPoP nonce (dpopNonce false)';
    },
    async run(t) {
      const { rt } = await boundLogin(t);
      const bare = await t.refresh(rt, { dpop: { proof: 'no-nonce' } });
      const nonce = bare.headers.get('dpop-nonce');
      expectThat(
        bare.status === 400 && bare.body?.error === 'use_dpop_nonce',
        'a proof without a nonce to be answered HTTP 400 error=use_dpop_nonce (RFC 9449 §8)',
        () => describe(bare),
        bare,
      );
      expectThat(nonce !== null && nonce !== '', 'a DPoP-Nonce header with the nonce to use (RFC 9449 §8)', () => 'no DPoP-Nonce header', bare);
      // The harness keeps the nonce a response gives: the next proof carries it.
      const retry = await t.refresh(rt);
      t.note({ kind: 'refresh', label: 'with the DPoP nonce' });
      expectSuccess(retry, 'the refresh retried with a proof carrying the nonce given');
    },
  },
];

/**
 * RFC 9700 §4.14.2: a public client's refresh tokens MUST be sender-constrained or rotated with
 * replay detection. Judged on what the IdP does, whatever the profile declares: a rotated-out token
 * refused (replay detected), or the token refused without its DPoP proof and accepted with it.
 */
export const publicRefreshProtected: Check = {
  id: 'rotation.public-refresh-protected',
  group: 'rotation',
  level: 'MUST',
  title: "A public client's refresh tokens are rotated with replay detection, or sender-constrained (DPoP)",
  clause: (i) => [cite.spec('RFC 9700', '4.14.2'), policyField(i, 'rotation'), policyField(i, 'senderConstraint'), cite.spec('RFC 9449', '5')],
  applies: whenRefresh((p, i) => (p.confidential ? `policy ${i.client.policy} is for confidential clients (authenticated: their tokens are sender-constrained already)` : interactive(i))),
  async run(t) {
    const { tokens } = await t.login({ offline: true });
    const rt0 = givenRefreshToken(tokens, 'the code exchange');
    const { r: r1, next } = await refreshed(t, rt0, 'the first refresh');
    const seen: string[] = [];
    let current = next;
    if (next !== rt0) {
      const { after } = reuseAfterRotation(t);
      if (after > 0) await t.clock.wait(after, 'the grace window to pass');
      const replay = await t.refresh(rt0);
      if (replay.status !== 200) {
        t.note({ kind: 'rejected', label: 'replay detected' });
        expectRefused(replay, 'the rotated-out refresh token (replay detection)');
        return;
      }
      seen.push(`rotated, but the rotated-out token still worked (${describe(replay)})`);
      // The replay was served and may have rotated again: probe the newest token.
      current = replay.refresh_token ?? next;
    } else {
      seen.push('not rotated (the refresh returned no new refresh token)');
    }
    if (t.dpopKey) {
      const withoutProof = await t.refresh(current, { dpop: { proof: 'none' } });
      if (withoutProof.status !== 200) {
        const withKey = await t.refresh(current);
        if (withKey.status === 200) {
          t.note({ kind: 'refresh', label: 'DPoP-bound' });
          expectRefused(withoutProof, 'the refresh token without its DPoP proof (sender-constrained)');
          return;
        }
        // The token no longer works at all: whether it is bound cannot be told from this.
        inconclusive(`${seen.join('; ')}; then the token was refused without a DPoP proof and with the client's own (${describe(withKey)}): no binding could be observed`);
      } else {
        seen.push('accepted without a DPoP proof (not sender-constrained)');
      }
    } else {
      seen.push('no DPoP proof was sent (the policy declares no sender constraint), so no binding');
    }
    fail("a public client's refresh tokens rotated with replay detection, or bound to its DPoP key (RFC 9700 §4.14.2)", seen.join('; '), r1);
  },
};
