/** Rotation: a new refresh token on each refresh where declared, the old one dead, reuse detected. */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectRefused, expectSuccess, expectThat, fail, givenRefreshToken, inconclusive, refreshTokenOf } from './expect.ts';
import type { Check, CheckContext, Tokens } from './types.ts';
import { aimInside, secs, unlessPast, waitUntil } from './timing.ts';
import { concurrentSuccessors, concurrentWinners, graceRetries, reuseAfterRotation, rotatesOnRefresh, whenRefresh, type GraceRetries } from './util.ts';

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

/** The most grace retries a check makes in a row. */
const RETRY_LIMIT = 16;

/** Where the model gives a rotated-out token grace retries (graceWindowSeconds, graceReuseCount) whose end shows. */
const withGrace = whenRefresh((_p, i) => {
  const rotates = rotatesOnRefresh(i);
  if (rotates !== true) return rotates;
  const grace = graceRetries(i);
  if (!grace) return `the profile declares no grace retry (graceWindowSeconds ${i.profile.graceWindowSeconds})`;
  if (grace.count > RETRY_LIMIT) return `the profile allows ${i.profile.graceReuseCount} retries: more than the ${RETRY_LIMIT} a check makes`;
  return grace.endsBy === 'reuse' ? true : `a retry after the ${grace.until} s window is refused for another reason (${grace.endsBy}): the window's end does not show`;
});

/** A rotation (rt0 → rt1) to retry: the login, the refresh, and the grace retries the model allows after it. */
async function rotationToRetry(t: CheckContext): Promise<{ rt0: string; r1: Tokens; grace: GraceRetries }> {
  const grace = graceRetries(t);
  if (!grace) return inconclusive('the model gives no grace retry');
  const { tokens } = await t.login({ offline: true });
  const rt0 = givenRefreshToken(tokens, 'the code exchange');
  const r1 = await t.refresh(rt0);
  const rt1 = givenRefreshToken(r1, 'the first refresh');
  if (rt1 === rt0) inconclusive('the first refresh returned the presented refresh token: nothing rotated out');
  t.note({ kind: 'rotation' });
  return { rt0, r1, grace };
}

/**
 * The last moment a retry is surely inside the window: the server retired the token no earlier than
 * the rotation's request left, so a retry answered by then is at most `until` whole seconds later.
 */
const windowOpenUntil = (r1: Tokens, grace: GraceRetries) => r1.sentAt + grace.until;

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
          ? concurrentSuccessors(i, CONCURRENT_REFRESHES).successors === 1
            ? 'the profile declares concurrentRefresh same-successor: rotation.concurrent-same-successor'
            : 'the profile declares a grace window: concurrent reuse may succeed'
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
  {
    id: 'rotation.grace-retry-within-window',
    group: 'rotation',
    level: 'MUST',
    title: 'Inside the grace window a rotated-out token may be retried, as many times as declared, and no more',
    clause: ({ profile }) => [
      ...profile.citations.reuse,
      profileField(profile, 'graceWindowSeconds'),
      profileField(profile, 'graceReuseCount'),
      cite.spec('RFC 9700', '4.14.2'),
    ],
    applies: withGrace,
    waits: (i) => graceRetries(i)?.at ?? 0,
    async run(t) {
      const { rt0, r1, grace } = await rotationToRetry(t);
      const open = windowOpenUntil(r1, grace);
      // A retry in the rotation's own second may be a repeat (same-successor), not a grace retry: from `at` on.
      await waitUntil(t, aimInside(t, r1.receivedAt + grace.at, open, `grace window ${secs(grace.until)}`), 'into the grace window');
      let last: Tokens = r1;
      for (let n = 1; n <= grace.count; n++) {
        const r = await t.refresh(rt0);
        if (r.status !== 200) unlessPast(r, open, `grace retry #${n}`);
        refreshTokenOf(r, `grace retry #${n} of the rotated-out token (profile: graceReuseCount ${t.profile.graceReuseCount}, graceWindowSeconds ${t.profile.graceWindowSeconds})`);
        last = r;
      }
      const over = await t.refresh(rt0);
      t.note({ kind: 'rejected', label: 'grace retries spent' });
      // Refused after the window proves nothing about the count: only a refusal inside it does.
      if (over.status !== 200) unlessPast(over, open, `retry #${grace.count + 1}`);
      expectRefused(over, `retry #${grace.count + 1} of the rotated-out token inside the window (profile: graceReuseCount ${t.profile.graceReuseCount})`, last);
    },
  },
  {
    id: 'rotation.grace-window-ends',
    group: 'rotation',
    level: 'MUST',
    title: 'The grace window lasts as declared: a retry at its last second succeeds, one after it is refused',
    clause: ({ profile }) => [...profile.citations.reuse, profileField(profile, 'graceWindowSeconds'), cite.spec('RFC 9700', '4.14.2')],
    applies: withGrace,
    // Two rotations, one probed at the window's end, the other a second past it.
    waits: (i) => 2 * (graceRetries(i)?.until ?? 0) + 2,
    async run(t) {
      // Two rotations: a retry spends the grace (or revokes the family), so each edge gets its own token.
      const inside = await rotationToRetry(t);
      const open = windowOpenUntil(inside.r1, inside.grace);
      const { until } = inside.grace;
      // As late as surely inside (its answer by `open`), and not in the rotation's own second (a repeat there is no grace retry).
      const earliest = aimInside(t, inside.r1.receivedAt + inside.grace.at, open, `grace window ${secs(until)}`);
      await waitUntil(t, Math.max(earliest, open - t.clock.jitter()), `the grace window's last second (${until} s)`);
      const last = await t.refresh(inside.rt0);
      if (last.status !== 200) unlessPast(last, open, 'the retry at the end of the window');
      refreshTokenOf(last, `a retry of the rotated-out token ${secs(until)} after the rotation (profile: graceWindowSeconds ${t.profile.graceWindowSeconds})`);

      const outside = await rotationToRetry(t);
      // Surely past the window: the server retired it no later than the rotation's answer came.
      await waitUntil(t, outside.r1.receivedAt + until + 1, `past the ${until} s grace window`);
      const late = await t.refresh(outside.rt0);
      t.note({ kind: 'rejected', label: 'grace window over' });
      expectRefused(late, `a retry of the rotated-out token ${secs(until + 1)} after the rotation, past the window (profile: graceWindowSeconds ${t.profile.graceWindowSeconds})`, outside.r1);
    },
  },
  {
    id: 'rotation.concurrent-same-successor',
    group: 'rotation',
    level: 'MUST',
    title: `Of ${CONCURRENT_REFRESHES} concurrent refreshes of one token every success carries the same new refresh token, which works afterwards`,
    clause: ({ profile }) => [profileField(profile, 'concurrentRefresh'), cite.spec('RFC 9700', '4.14.2', 'one-time use: one successor, however many retries'), cite.spec('Keycloak GHSA-m2w5-7xhv-w6fh', undefined, 'non-atomic rotation')],
    applies: whenRefresh((_p, i) => {
      const rotates = rotatesOnRefresh(i);
      if (rotates !== true) return rotates;
      const { winners, successors } = concurrentSuccessors(i, CONCURRENT_REFRESHES);
      return winners > 1 && successors === 1 ? true : `the profile declares concurrentRefresh ${i.profile.concurrentRefresh}: rotation.concurrent-single-winner`;
    }),
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      const rt = givenRefreshToken(tokens, 'the code exchange');
      const answers = await t.refreshConcurrently(rt, CONCURRENT_REFRESHES);
      const winners = answers.filter((a) => a.status === 200);
      const statuses = () => `statuses: ${answers.map((a) => a.status).join(', ')}`;
      // A late one may land in the next second and count as a reuse: at least one must win, each with the one successor.
      expectThat(winners.length >= 1, `at least one of ${CONCURRENT_REFRESHES} concurrent refreshes to succeed`, () => `none did (${statuses()})`, answers[0]);
      const successors = winners.map((w, n) => refreshTokenOf(w, `concurrent refresh #${n + 1} (rotation on)`));
      const distinct = new Set(successors);
      if (distinct.size > 1) {
        const first = winners.find((w) => w.refresh_token !== winners[0]!.refresh_token);
        fail(`every successful concurrent refresh to carry the same new refresh token (profile: concurrentRefresh same-successor)`, `${distinct.size} different refresh tokens among ${winners.length} successes (${statuses()})`, winners[0], first);
      }
      expectThat(!distinct.has(rt), 'a new refresh token, distinct from the presented one', () => 'the presented refresh token again', winners[0]);
      const after = await t.refresh(successors[0]!);
      // A refresh that landed after the rotation's second is a reuse: where the profile revokes the family for it, the successor dies with it.
      if (after.status !== 200 && winners.length < answers.length && reuseAfterRotation(t).familyRevoked) {
        inconclusive(`the successor was refused afterwards (${describe(after)}), but ${answers.length - winners.length} of the concurrent refreshes were refused too: a late one is a reuse, which revokes the family (reuseOfRotatedToken ${t.profile.reuseOfRotatedToken})`);
      }
      expectSuccess(after, 'the one successor of the concurrent refreshes, presented afterwards');
    },
  },
];
