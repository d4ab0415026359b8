/** Rotation: a new refresh token on each refresh where declared, the old one dead, reuse detected. */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, givenRefreshToken, inconclusive, refreshTokenOf } from './expect.ts';
import type { Check, CheckContext, Tokens } from './types.ts';
import { concurrentWinners, reuseAfterRotation, rotatesOnRefresh, whenRefresh } from './util.ts';

// The model says whether a refresh right after login rotates (rotation, and any rotateAfterLifetimePercent).
const rotating = whenRefresh((_p, i) => rotatesOnRefresh(i));

/** Log in, refresh once (rt0 → rt1), and let any grace window pass (the model says how long), so rt0 is plainly rotated out. */
async function rotateOnce(t: CheckContext): Promise<{ rt0: string; rt1: string; r1: Tokens }> {
  const { tokens } = await t.login({ offline: true });
  const rt0 = givenRefreshToken(tokens, 'the code exchange');
  const r1 = await t.refresh(rt0);
  // Whether a refresh rotates is rotation.new-token-each-refresh's condition: here a precondition.
  const rt1 = givenRefreshToken(r1, 'the first refresh');
  if (rt1 === rt0) inconclusive('the first refresh returned the presented refresh token: nothing rotated out');
  const { after } = reuseAfterRotation(t);
  if (after > 0) await t.clock.wait(after, 'the grace window to pass');
  return { rt0, rt1, r1 };
}

export const CONCURRENT_REFRESHES = 8;

export const rotationChecks: Check[] = [
  {
    id: 'rotation.new-token-each-refresh',
    group: 'rotation',
    level: 'MUST',
    title: 'Each refresh returns a new refresh token, distinct from the presented one',
    clause: (i) => [...i.profile.citations.rotation, ...i.policy.source, policyField(i, 'rotation'), cite.spec('RFC 6749', '6')],
    applies: rotating,
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      let current = givenRefreshToken(tokens, 'the code exchange');
      const seen = new Set([current]);
      for (let i = 1; i <= 2; i++) {
        const r = await t.refresh(current);
        expectSuccess(r, `refresh #${i}`);
        const next = refreshTokenOf(r, `refresh #${i} (rotation declared on)`);
        expectThat(!seen.has(next), `refresh #${i} to return a refresh_token distinct from earlier ones`, () => 'the same refresh_token again', r);
        seen.add(next);
        current = next;
        t.note({ kind: 'rotation' });
      }
    },
  },
  {
    id: 'rotation.not-rotated-when-declared-off',
    group: 'rotation',
    level: 'MUST',
    title: 'Without rotation the refresh returns no new refresh token and the same one keeps working',
    clause: (i) => [...i.policy.source, policyField(i, 'rotation'), cite.spec('RFC 6749', '6')],
    applies: whenRefresh((_p, i) => (rotatesOnRefresh(i) === true ? `policy ${i.client.policy} declares rotation` : true)),
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const first = await t.refresh(rt);
      expectSuccess(first, 'the first refresh');
      expectThat(
        first.refresh_token === undefined || first.refresh_token === rt,
        'no new refresh_token (no rotation declared for this refresh: the client keeps its token)',
        () => 'a different refresh_token in the response',
        first,
      );
      const second = await t.refresh(rt);
      expectSuccess(second, 'a second refresh with the same refresh token');
    },
  },
  {
    id: 'rotation.old-token-rejected',
    group: 'rotation',
    level: 'MUST',
    title: 'After rotation the presented (old) refresh token is refused',
    clause: (i) => [...i.profile.citations.rotation, policyField(i, 'rotation'), cite.spec('RFC 6749', '6', "'MAY revoke the old refresh token'"), cite.spec('RFC 9700', '4.14.2')],
    applies: rotating,
    async run(t) {
      const { rt0 } = await rotateOnce(t);
      const again = await t.refresh(rt0);
      t.note({ kind: 'rejected', label: 'old token' });
      expectRefused(again, 'the rotated-out refresh token');
    },
  },
  {
    id: 'rotation.reuse-revokes-family',
    group: 'rotation',
    level: 'MUST',
    title: 'Reusing a rotated-out refresh token revokes the family: the newest token fails too',
    clause: ({ profile }) => [...profile.citations.reuse, profileField(profile, 'reuseOfRotatedToken'), cite.spec('RFC 9700', '4.14.2')],
    applies: whenRefresh((_p, i) => {
      const rotates = rotatesOnRefresh(i);
      return rotates !== true ? rotates : !reuseAfterRotation(i).familyRevoked ? 'the profile declares reuse is only rejected' : true;
    }),
    async run(t) {
      const { rt0, rt1 } = await rotateOnce(t);
      const reuse = await t.refresh(rt0);
      // Refusing the reused token is rotation.old-token-rejected's condition; here what follows the reuse.
      if (reuse.status >= 200 && reuse.status < 300) inconclusive(`the reused refresh token still worked (${describe(reuse)}): no reuse was detected to judge`);
      const newest = await t.refresh(rt1);
      t.note({ kind: 'rejected', label: 'family revoked' });
      expectRefused(newest, 'the newest refresh token, after its family was revoked for the reuse,', reuse);
    },
  },
  {
    id: 'rotation.reuse-rejected-family-kept',
    group: 'rotation',
    level: 'MUST',
    title: 'Reusing a rotated-out token is rejected, and the newest token keeps working',
    clause: ({ profile }) => [...profile.citations.reuse, profileField(profile, 'reuseOfRotatedToken')],
    applies: whenRefresh((_p, i) => {
      const rotates = rotatesOnRefresh(i);
      if (rotates !== true) return rotates;
      const reuse = reuseAfterRotation(i);
      return reuse.refused && reuse.newestWorks ? true : 'the profile declares reuse revokes the family';
    }),
    async run(t) {
      const { rt0, rt1 } = await rotateOnce(t);
      const reuse = await t.refresh(rt0);
      if (reuse.status >= 200 && reuse.status < 300) inconclusive(`the reused refresh token still worked (${describe(reuse)}): no reuse was detected to judge`);
      expectSuccess(await t.refresh(rt1), 'the newest refresh token to keep working after the reuse (profile: reuse is only rejected)');
    },
  },
  {
    id: 'rotation.concurrent-single-winner',
    group: 'rotation',
    level: 'MUST',
    title: `Of ${CONCURRENT_REFRESHES} concurrent refreshes of one token at most one succeeds`,
    clause: [cite.spec('RFC 9700', '4.14.2', 'one-time use'), cite.spec('Keycloak GHSA-m2w5-7xhv-w6fh', undefined, 'non-atomic rotation')],
    applies: whenRefresh((_p, i) =>
      rotatesOnRefresh(i) !== true
        ? rotatesOnRefresh(i)
        : concurrentWinners(i, CONCURRENT_REFRESHES) > 1
          ? 'the profile declares a grace window: concurrent reuse may succeed'
          : true,
    ),
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const answers = await t.refreshConcurrently(rt, CONCURRENT_REFRESHES);
      const winners = answers.filter((a) => a.status === 200);
      const statuses = () => `statuses: ${answers.map((a) => a.status).join(', ')}`;
      expectThat(winners.length <= 1, `at most one of ${CONCURRENT_REFRESHES} concurrent refreshes of one refresh token to succeed`, () => `${winners.length} succeeded (${statuses()})`, ...winners.slice(0, 2));
      expectThat(winners.length === 1, 'exactly one concurrent refresh to succeed', () => `none did (${statuses()})`, answers[0]);
    },
  },
];
