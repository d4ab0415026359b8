/**
 * The sender-constraint rule of the refresh model (RFC 9449 §5): what the code exchange binds, and the
 * guard that compares the presented proof's key with the family's jkt, before reuse detection.
 */
import { describe, expect, it } from 'vitest';
import { bindingOutcome, CLIENT_KEY, replay, senderBinding } from '../profile/model.ts';
import { loadVariants } from '../profile/variants.ts';

const variants = await loadVariants();
const dpop = variants.find((p) => p.name === 'erp-net-dpop')!;
const erp = variants.find((p) => p.name === 'erp-net')!;

describe('senderBinding (RFC 9449 §5)', () => {
  it('binds a public client that sends a proof, leaves confidential clients and clients without DPoP unbound, refuses a missing proof where required', () => {
    expect(senderBinding(dpop.policies.InteractivePublic!, 'k1')).toEqual({ kind: 'bound', jkt: 'k1' });
    expect(senderBinding(dpop.policies.InteractivePublic!, undefined)).toMatchObject({ kind: 'unbound' });
    expect(senderBinding(dpop.policies.Interactive!, 'k1')).toMatchObject({ kind: 'unbound', reason: expect.stringContaining('§5') });
    expect(senderBinding(dpop.policies.InteractivePublicRequired!, undefined)).toMatchObject({ kind: 'refuse', error: 'invalid_dpop_proof' });
    expect(senderBinding(erp.policies.InteractivePublic!, 'k1')).toMatchObject({ kind: 'unbound', reason: 'the policy declares no sender constraint' });
  });
});

describe('the sender-constraint guard in replay', () => {
  it("refuses a bound token without a proof and with another key (not revoking), accepts the client's key", () => {
    const steps = replay(dpop, 'InteractivePublicRequired', [
      { kind: 'issue', at: 0, token: 't0', key: 'k1' },
      { kind: 'refresh', at: 1, token: 't0', key: 'k2' },
      { kind: 'refresh', at: 2, token: 't0', key: 'k1', as: 't1' },
      { kind: 'refresh', at: 3, token: 't1', key: 'k2' },
      { kind: 'refresh', at: 4, token: 't1', key: 'k1', as: 't2' },
    ]);
    expect(steps[0]!.outcome).toMatchObject({ kind: 'issued', jkt: 'k1' });
    expect(steps[1]!.outcome).toMatchObject({ kind: 'refused', by: 'sender-constraint', error: 'invalid_grant', familyRevoked: false });
    expect(steps[2]!.outcome).toMatchObject({ kind: 'rotated', token: 't1' });
    // Rotation keeps the family, so the binding.
    expect(steps[3]!.outcome).toMatchObject({ kind: 'refused', by: 'sender-constraint' });
    expect(steps[4]!.outcome).toMatchObject({ kind: 'rotated', token: 't2' });
  });

  it('dpop-required: a refresh without a proof is refused with invalid_dpop_proof; so is a code exchange', () => {
    const steps = replay(dpop, 'InteractivePublicRequired', [
      { kind: 'issue', at: 0, token: 't0' },
      { kind: 'refresh', at: 1, token: 't0', key: null },
      { kind: 'issue', at: 2, token: 'u0', key: null },
    ]);
    expect(steps[1]!.outcome).toMatchObject({ kind: 'refused', error: 'invalid_dpop_proof', by: 'sender-constraint' });
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', error: 'invalid_dpop_proof' });
  });

  it("runs before reuse detection: a thief without the key presenting a rotated-out token does not revoke the owner's family", () => {
    const steps = replay(dpop, 'InteractivePublicRequired', [
      { kind: 'issue', at: 0, token: 't0' },
      { kind: 'refresh', at: 0, token: 't0', as: 't1' },
      { kind: 'refresh', at: 5, token: 't0', key: 'thief' },
      { kind: 'refresh', at: 5, token: 't1', as: 't2' },
    ]);
    expect(steps[2]!.outcome).toMatchObject({ kind: 'refused', by: 'sender-constraint', familyRevoked: false });
    expect(steps[3]!.outcome).toMatchObject({ kind: 'rotated' });
  });

  it("histories without a key use the client's own where the policy declares DPoP, none otherwise", () => {
    expect(replay(dpop, 'InteractivePublic', [{ kind: 'issue', at: 0, token: 't0' }])[0]!.outcome).toMatchObject({ jkt: CLIENT_KEY });
    expect(replay(erp, 'InteractivePublic', [{ kind: 'issue', at: 0, token: 't0' }])[0]!.outcome).not.toHaveProperty('jkt');
  });
});

describe('bindingOutcome', () => {
  it('says per policy whether the login token is bound, and what each probe gets', () => {
    const bound = bindingOutcome(dpop, 'InteractivePublic');
    expect(bound.bound).toBe(true);
    expect([bound.withoutProof.kind, bound.otherKey.kind, bound.sameKey.kind, bound.successorOtherKey.kind]).toEqual(['refused', 'refused', 'extended', 'refused']);
    const rotating = bindingOutcome(dpop, 'InteractivePublicRequired');
    expect([rotating.sameKey.kind, rotating.successorOtherKey.kind]).toEqual(['rotated', 'refused']);
    const confidential = bindingOutcome(dpop, 'Interactive');
    expect(confidential.bound).toBe(false);
    expect(confidential.otherKey.kind).toBe('rotated');
    expect(bindingOutcome(erp, 'InteractivePublic').bound).toBe(false);
  });
});
