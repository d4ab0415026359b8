/** Who gets a refresh token, and when: offline_access gating per policy. */
import { cite, policyField, profileField } from './citations.ts';
import { describe, expectSuccess, expectThat, refreshTokenOf } from './expect.ts';
import type { Check } from './types.ts';
import { interactive, onlineTokenIssued } from './util.ts';

export const offlineAccessChecks: Check[] = [
  {
    id: 'offline-access.none-without-offline-access',
    group: 'offline-access',
    level: 'MUST',
    title: 'No refresh token when offline_access was not requested',
    clause: ({ profile }) => [...profile.citations.offlineAccess, profileField(profile, 'offlineAccessScope'), profileField(profile, 'refreshTokenIssuance'), cite.spec('OIDC Core', '11')],
    // The model says whether the code exchange issues one without offline access (refreshTokenIssuance "always": an online token).
    applies: (i) => (onlineTokenIssued(i) ? 'the profile declares a refresh token without offline access too (refreshTokenIssuance always): offline-access.online-token-without-offline-access' : interactive(i)),
    async run(t) {
      const { tokens } = await t.login({ offline: false });
      expectSuccess(tokens, 'the code exchange');
      expectThat(tokens.body?.refresh_token === undefined, `no refresh_token without the ${t.profile.offlineAccessScope} scope`, () => describe(tokens), tokens);
    },
  },
  {
    id: 'offline-access.online-token-without-offline-access',
    group: 'offline-access',
    level: 'MUST',
    title: 'A refresh token without offline_access too, where the profile declares one always (an online token), and it refreshes',
    clause: (i) => [...i.profile.citations.offlineAccess, ...i.policy.source, profileField(i.profile, 'refreshTokenIssuance'), profileField(i.profile, 'offlineAccessScope')],
    applies: (i) => (onlineTokenIssued(i) ? interactive(i) : `no refresh token without ${i.profile.offlineAccessScope} (refreshTokenIssuance ${i.profile.refreshTokenIssuance}, policy ${i.client.policy} refresh ${String(i.policy.refresh)})`),
    async run(t) {
      const { tokens } = await t.login({ offline: false });
      expectSuccess(tokens, 'the code exchange');
      const rt = refreshTokenOf(tokens, `the code exchange without ${t.profile.offlineAccessScope} (profile: refreshTokenIssuance always)`);
      t.note({ kind: 'login', label: 'online refresh token' });
      // While the SSO session is active an online token refreshes like any other (its end is sso.online-token-ends-with-session's).
      expectSuccess(await t.refresh(rt), 'a refresh with the online refresh token during the SSO session');
    },
  },
  {
    id: 'offline-access.issued-with-offline-access',
    group: 'offline-access',
    level: 'MUST',
    title: 'A refresh token when offline_access was requested, for a policy that allows refresh',
    clause: (i) => [...i.profile.citations.offlineAccess, ...i.policy.source, policyField(i, 'refresh'), profileField(i.profile, 'offlineAccessScope')],
    applies: (i) => (i.policy.refresh ? interactive(i) : `policy ${i.client.policy} does not allow refresh`),
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      expectSuccess(tokens, 'the code exchange');
      expectThat(
        typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '',
        `a refresh_token: policy ${t.client.policy} allows refresh and ${t.profile.offlineAccessScope} was requested`,
        () => describe(tokens),
        tokens,
      );
      t.note({ kind: 'login', label: 'refresh token issued' });
    },
  },
  {
    id: 'offline-access.none-for-no-refresh-policy',
    group: 'offline-access',
    level: 'MUST',
    title: 'No refresh token for a policy that never refreshes, even with offline_access',
    clause: (i) => [...i.policy.source, policyField(i, 'refresh'), cite.spec('OIDC Core', '11')],
    applies: (i) => (i.policy.refresh ? `policy ${i.client.policy} allows refresh` : interactive(i)),
    async run(t) {
      const { tokens } = await t.login({ offline: true });
      expectSuccess(tokens, 'the code exchange');
      expectThat(
        tokens.body?.refresh_token === undefined,
        `no refresh_token: policy ${t.client.policy} (client type ${t.policy.clientType}) never gets one`,
        () => describe(tokens),
        tokens,
      );
    },
  },
  {
    id: 'offline-access.none-from-client-credentials',
    group: 'offline-access',
    level: 'MUST',
    title: 'No refresh token from the client_credentials grant, even with offline_access',
    clause: ({ profile }) => [...profile.citations.clientCredentials, cite.spec('RFC 6749', '4.4.3')],
    applies: (i) => (i.policy.grantTypes.includes('client_credentials') ? true : `policy ${i.client.policy} does not use client_credentials`),
    async run(t) {
      let tokens = await t.clientCredentials({ scope: t.profile.offlineAccessScope });
      // A server may refuse the scope outright; that is fine, as long as the plain grant issues no refresh token.
      if (tokens.status === 400 && tokens.body?.error === 'invalid_scope') tokens = await t.clientCredentials();
      expectSuccess(tokens, 'the client_credentials grant');
      expectThat(tokens.body?.refresh_token === undefined, 'no refresh_token from client_credentials', () => describe(tokens), tokens);
    },
  },
];
