/**
 * The report's token timeline shows the DPoP binding (RFC 9449 §5) the profile declares for the proofs
 * the harness sent: the login's token bound to the client key's thumbprint, a rotated successor bound
 * to the same key, no binding where no proof was sent or the client is confidential; a request with an
 * invalid proof never reached the grant, so it changes nothing in the model's history.
 */
import { describe, expect, test } from 'vitest';
import type { Tokens } from '../checks/types.ts';
import type { Profile } from '../../mock-idp/index.ts';
import { loadVariants } from '../../mock-idp/profile/variants.ts';
import { describeRecord } from '../harness/report/timeline.ts';
import { loadTarget, type Target } from '../harness/target.ts';
import { targetClients } from './connection.ts';
import { createTokenBook } from './timeline.ts';

const variants = await loadVariants();
const dpop = variants.find((p) => p.name === 'erp-net-dpop')!;

async function book(profile: Profile, clientPolicy: string) {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, profile } as Target;
  const client = targetClients(target).find((c) => c.policy === clientPolicy)!;
  return createTokenBook(target, client, () => 0);
}

const answer = (refresh_token?: string, status = 200): Tokens =>
  ({ status, headers: new Headers(), body: status === 200 ? {} : { error: 'invalid_grant' }, exchange: {} as Tokens['exchange'], sentAt: 0, receivedAt: 0, ...(refresh_token && { refresh_token }) }) as Tokens;

const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('the timeline shows the declared DPoP binding', () => {
  test('a public client that proves its key: the login token and its rotated successor are bound to the key', async () => {
    const b = await book(dpop, 'InteractivePublicRequired');
    const login = b.loggedIn(answer('rt-0'), JKT);
    expect(login.token?.jkt).toBe(JKT);
    expect(describeRecord({ ...login, at: 0 })).toContain(`bound to DPoP key ${JKT.slice(0, 8)}`);
    // A proof of another key is refused by the model: no rotation happens in its history.
    const stolen = b.refreshed('rt-0', answer(undefined, 400), 'other-jkt');
    expect(stolen.kind).toBe('rejected');
    const rotated = b.refreshed('rt-0', answer('rt-1'), JKT);
    expect(rotated.kind).toBe('rotation');
    expect(rotated.token).toMatchObject({ jkt: JKT, expiry: 'sliding' });
    expect(rotated.token?.expiresAt).toBeDefined();
  });

  test('an invalid proof never reached the grant: the history is unchanged (the token is not rotated out)', async () => {
    const b = await book(dpop, 'InteractivePublicRequired');
    b.loggedIn(answer('rt-0'), JKT);
    b.refreshed('rt-0', answer(undefined, 400), 'invalid');
    const next = b.refreshed('rt-0', answer('rt-1'), JKT);
    expect(next.token).toMatchObject({ jkt: JKT });
    expect(next.token?.expiresAt).toBeDefined();
  });

  test('no binding for a confidential client (RFC 9449 §5) or a login without a proof', async () => {
    const confidential = await book(dpop, 'Interactive');
    expect(confidential.loggedIn(answer('rt-0'), JKT).token).not.toHaveProperty('jkt');
    const optional = await book(dpop, 'InteractivePublic');
    const login = optional.loggedIn(answer('rt-0'), null);
    expect(login.token).not.toHaveProperty('jkt');
    expect(describeRecord({ ...login, at: 0 })).not.toContain('DPoP');
  });
});
