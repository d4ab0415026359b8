/** The token endpoint's rules around refresh: RFC 6749 §5–§6, OIDC Core §12.2, RFC 7009, RFC 7662, RFC 8414. */
import { describe, expectOAuthError, expectSuccess, fail, refreshTokenOf, skip } from './expect.ts';
import type { Check, CheckContext, Tokens } from './types.ts';
import { aimInside, aliveUntil, secs, unlessPast, waitUntil } from './timing.ts';
import { rp, scopeOf, whenRefresh } from './util.ts';

async function freshRefreshToken(t: CheckContext): Promise<{ rt: string; tokens: Tokens }> {
  const { tokens } = await t.login({ offline: true });
  return { rt: refreshTokenOf(tokens, 'the code exchange'), tokens };
}

const confidentialRefresh = whenRefresh((_p, i) => (i.policy.confidential ? true : `policy ${i.client.policy} is for public clients`));

export const tokenEndpointChecks: Check[] = [
  {
    id: 'token-endpoint.metadata-advertises-refresh',
    group: 'token-endpoint',
    level: 'SHOULD',
    title: 'Discovery advertises offline_access and the refresh_token grant',
    clause: 'RFC 8414 §2 (grant_types_supported, scopes_supported); OpenID Connect Discovery 1.0 §3',
    // Once per target: for the refreshing client whose id sorts first (the same one whichever client asks).
    applies: (i) => {
      const first = [i.client, ...i.otherClients].filter((c) => i.profile.policies[c.policy]?.refresh).map((c) => c.id).sort()[0];
      return first === i.client.id ? true : 'checked once per target (with the first refreshing client)';
    },
    async run(t) {
      const m = t.metadata();
      const scopes = m.scopes_supported;
      if (Array.isArray(scopes) && !scopes.includes(t.profile.offlineAccessScope)) {
        fail(`scopes_supported to include ${t.profile.offlineAccessScope}`, `scopes_supported = ${JSON.stringify(scopes)}`);
      }
      const grants = m.grant_types_supported;
      if (Array.isArray(grants) && !grants.includes('refresh_token')) {
        fail('grant_types_supported to include refresh_token', `grant_types_supported = ${JSON.stringify(grants)}`);
      }
    },
  },
  {
    id: 'token-endpoint.no-store',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Token responses carry Cache-Control: no-store and Pragma: no-cache',
    clause: 'RFC 6749 §5.1',
    applies: whenRefresh(),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      const r = await t.refresh(rt);
      expectSuccess(r, 'the refresh');
      for (const a of [tokens, r]) {
        const cc = (a.headers.get('cache-control') ?? '').toLowerCase();
        if (!cc.split(',').map((s) => s.trim()).includes('no-store')) fail('Cache-Control: no-store on a response carrying tokens', `Cache-Control: ${cc || '(absent)'}`, a);
        const pragma = (a.headers.get('pragma') ?? '').toLowerCase();
        if (pragma !== 'no-cache') fail('Pragma: no-cache on a response carrying tokens', `Pragma: ${pragma || '(absent)'}`, a);
      }
    },
  },
  {
    id: 'token-endpoint.error-shape',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'An unknown refresh token gets HTTP 400 JSON with error=invalid_grant',
    clause: 'RFC 6749 §5.2',
    applies: whenRefresh(),
    async run(t) {
      const r = await t.refresh('not-a-refresh-token-' + 'x'.repeat(32));
      expectOAuthError(r, 'invalid_grant', 'an unknown refresh token');
      const type = (r.headers.get('content-type') ?? '').toLowerCase();
      if (!type.startsWith('application/json')) fail('Content-Type application/json on the error', `Content-Type: ${type || '(absent)'}`, r);
      const d = r.body?.error_description;
      if (d !== undefined && (typeof d !== 'string' || /[^\x20-\x21\x23-\x5b\x5d-\x7e]/.test(d))) {
        fail('error_description, if present, a string of %x20-21 / %x23-5B / %x5D-7E', JSON.stringify(d), r);
      }
    },
  },
  {
    id: 'token-endpoint.refresh-token-syntax',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Refresh tokens are VSCHAR strings long enough for 128 bits, distinct per issue',
    clause: 'RFC 6749 §10.10, Appendix A.17',
    applies: whenRefresh(),
    async run(t) {
      const a = await freshRefreshToken(t);
      const b = await freshRefreshToken(t);
      for (const { rt, tokens } of [a, b]) {
        if (!/^[\x20-\x7e]+$/.test(rt)) fail('a refresh_token of VSCHAR characters (%x20-7E)', 'other characters', tokens);
        if (rt.length < 22) fail('a refresh_token of at least 22 characters (128 bits as base64url)', `${rt.length} characters`, tokens);
      }
      if (a.rt === b.rt) fail('distinct refresh tokens for two logins', 'the same refresh_token twice', a.tokens, b.tokens);
    },
  },
  {
    id: 'token-endpoint.bound-to-client',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh token presented by another client is rejected with invalid_grant',
    clause: 'RFC 6749 §6 (bound to the client), §10.4; RFC 6749 §5.2',
    applies: whenRefresh((_p, i) => (i.otherClients.some((c) => i.profile.policies[c.policy]?.grantTypes.includes('refresh_token')) ? true : 'the target has no other client allowed to refresh')),
    async run(t) {
      const other = t.otherClients.find((c) => t.profile.policies[c.policy]?.grantTypes.includes('refresh_token'))!;
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { as: other });
      if (r.status === 200) fail(`client ${other.id} to be refused a refresh token issued to ${t.client.id}`, describe(r), r);
      expectOAuthError(r, 'invalid_grant', `another client (${other.id}) presenting the refresh token`);
    },
  },
  {
    id: 'token-endpoint.confidential-must-authenticate',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A confidential client that refreshes without its credentials gets invalid_client',
    clause: 'RFC 6749 §6 (MUST authenticate), §5.2 (invalid_client, 400 or 401)',
    applies: confidentialRefresh,
    async run(t) {
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { omitAuth: true });
      if ((r.status !== 400 && r.status !== 401) || r.body?.error !== 'invalid_client') {
        fail('HTTP 400 or 401 with error=invalid_client for a refresh without client authentication', describe(r), r);
      }
    },
  },
  {
    id: 'token-endpoint.wrong-secret-rejected',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A wrong client secret gets invalid_client (401 with WWW-Authenticate when sent in the Authorization header)',
    clause: 'RFC 6749 §5.2 (invalid_client)',
    applies: confidentialRefresh,
    async run(t) {
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt, { wrongSecret: true });
      if (r.body?.error !== 'invalid_client' || (r.status !== 400 && r.status !== 401)) fail('error=invalid_client for a wrong secret', describe(r), r);
      if (t.client.auth === 'client_secret_basic' && (r.status !== 401 || !r.headers.get('www-authenticate'))) {
        fail('HTTP 401 with WWW-Authenticate (the client used the Authorization header)', `HTTP ${r.status}, WWW-Authenticate: ${r.headers.get('www-authenticate') ?? '(absent)'}`, r);
      }
    },
  },
  {
    id: 'token-endpoint.scope-may-narrow',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh may ask for a narrower scope',
    clause: 'RFC 6749 §6 (scope: MUST NOT include any scope not originally granted)',
    applies: whenRefresh(),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      const granted = scopeOf(tokens.scope ?? `${t.client.scope ?? 'openid'} ${t.profile.offlineAccessScope}`);
      const narrower = granted.filter((s) => s !== t.profile.offlineAccessScope);
      if (narrower.length === 0) fail('a granted scope besides offline access', `scope = ${granted.join(' ')}`, tokens);
      const r = await t.refresh(rt, { scope: narrower.join(' ') });
      expectSuccess(r, `a refresh asking for the narrower scope "${narrower.join(' ')}"`);
      const got = scopeOf(r.scope ?? narrower.join(' '));
      const extra = got.filter((s) => !narrower.includes(s));
      if (extra.length) fail(`the access token scope to be within "${narrower.join(' ')}"`, `scope = ${got.join(' ')}`, r);
    },
  },
  {
    id: 'token-endpoint.scope-may-not-widen',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'A refresh asking for a scope not originally granted gets invalid_scope',
    clause: 'RFC 6749 §6, §5.2 (invalid_scope)',
    applies: whenRefresh((_p, i) => {
      const base = scopeOf(i.client.scope ?? 'openid');
      return i.profile.scopes.some((s) => !base.includes(s)) ? true : 'every supported scope is already requested: nothing to widen with';
    }),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      const granted = scopeOf(tokens.scope ?? `${t.client.scope ?? 'openid'} ${t.profile.offlineAccessScope}`);
      const extra = t.profile.scopes.find((s) => !granted.includes(s))!;
      const r = await t.refresh(rt, { scope: [...granted, extra].join(' ') });
      if (r.status === 200) fail(`invalid_scope: "${extra}" was not granted originally`, `${describe(r)} (scope = ${String(r.scope)})`, r);
      expectOAuthError(r, 'invalid_scope', `a refresh that widens the scope with "${extra}"`);
    },
  },
  {
    id: 'token-endpoint.id-token-on-refresh',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'An ID token from a refresh keeps iss, sub, aud and auth_time, has a new iat, and verifies against the JWKS',
    clause: 'OIDC Core §12.2',
    applies: whenRefresh((_p, i) => (scopeOf(i.client.scope ?? 'openid').includes('openid') ? true : 'the client does not request openid')),
    async run(t) {
      const { rt, tokens } = await freshRefreshToken(t);
      if (typeof tokens.id_token !== 'string') fail('an id_token from the code exchange (openid requested)', describe(tokens), tokens);
      const before = await t.verifyIdToken(tokens.id_token);
      // The server's next second has surely begun 1 s after the answer came (whatever its clock's offset);
      // refresh then, but only while the refresh token surely lives.
      const L = rp(t).lifetimeSeconds;
      const alive = aliveUntil(tokens, L);
      await waitUntil(t, aimInside(t, tokens.receivedAt + 1, alive, `refresh-token lifetime ${secs(L)}, waiting for a new iat second`), 'a new second, so iat can change');
      const r = await t.refresh(rt);
      if (r.status !== 200) unlessPast(r, alive, 'the refresh');
      expectSuccess(r, 'the refresh');
      if (typeof r.id_token !== 'string') return; // §12.2: the response "might not contain an id_token"
      let after;
      try {
        after = await t.verifyIdToken(r.id_token);
      } catch (e) {
        fail('the refreshed id_token to verify against the JWKS', (e as Error).message, r);
      }
      for (const claim of ['iss', 'sub', 'aud', 'auth_time', 'azp'] as const) {
        if (JSON.stringify(before[claim]) !== JSON.stringify(after[claim])) {
          fail(`${claim} unchanged in the refreshed id_token`, `${claim} ${JSON.stringify(before[claim])} became ${JSON.stringify(after[claim])}`, tokens, r);
        }
      }
      if (typeof after.iat !== 'number' || typeof before.iat !== 'number' || after.iat <= before.iat) {
        fail('a new iat in the refreshed id_token', `iat ${String(before.iat)} then ${String(after.iat)}`, r);
      }
      if (after.nonce !== undefined && after.nonce !== before.nonce) fail('no nonce, or the original one, in the refreshed id_token', `nonce ${String(after.nonce)}`, r);
    },
  },
  {
    id: 'token-endpoint.revocation-kills-refresh-token',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'After RFC 7009 revocation the refresh token fails with invalid_grant',
    clause: 'RFC 7009 §2.1, §2.2',
    applies: whenRefresh(),
    async run(t) {
      if (!t.has('revocation')) skip('the target has no revocation endpoint');
      const { rt } = await freshRefreshToken(t);
      const rev = await t.revoke(rt, 'refresh_token');
      if (rev.status !== 200) fail('HTTP 200 from the revocation endpoint', describe(rev), rev);
      t.note({ kind: 'revocation' });
      const r = await t.refresh(rt);
      if (r.status === 200) fail('the revoked refresh token to be refused', describe(r), rev, r);
      expectOAuthError(r, 'invalid_grant', 'the revoked refresh token');
    },
  },
  {
    id: 'token-endpoint.introspection-after-revocation',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Introspection reports a refresh token active, then inactive after revocation',
    clause: 'RFC 7662 §2.2 (active); RFC 7009 §2.1',
    applies: whenRefresh(),
    async run(t) {
      if (!t.has('introspection') || !t.has('revocation')) skip('the target lacks a revocation or introspection endpoint');
      const { rt } = await freshRefreshToken(t);
      const before = await t.introspect(rt, 'refresh_token');
      if (!before) skip('the target has no confidential client to introspect with');
      if (before.status !== 200 || before.body?.active !== true) fail('active=true for a live refresh token', describe(before), before);
      for (const field of ['exp', 'client_id']) {
        if (before.body?.[field] === undefined) fail(`"${field}" in the introspection of a live refresh token`, describe(before), before);
      }
      const rev = await t.revoke(rt, 'refresh_token');
      if (rev.status !== 200) fail('HTTP 200 from the revocation endpoint', describe(rev), rev);
      const after = (await t.introspect(rt, 'refresh_token'))!;
      if (after.status !== 200 || after.body?.active !== false) fail('active=false for a revoked refresh token', describe(after), rev, after);
    },
  },
  {
    id: 'token-endpoint.introspection-after-rotation',
    group: 'token-endpoint',
    level: 'MUST',
    title: 'Introspection reports a rotated-out refresh token inactive and its successor active',
    clause: 'RFC 7662 §2.2; RFC 6749 §6',
    applies: whenRefresh((p, i) => (p.rotation ? true : `policy ${i.client.policy} declares no rotation`)),
    async run(t) {
      if (!t.has('introspection')) skip('the target has no introspection endpoint');
      const { rt } = await freshRefreshToken(t);
      const r = await t.refresh(rt);
      const rt1 = refreshTokenOf(r, 'the refresh');
      const old = await t.introspect(rt, 'refresh_token');
      if (!old) skip('the target has no confidential client to introspect with');
      if (old.body?.active !== false) fail('active=false for the rotated-out refresh token', describe(old), r, old);
      const cur = (await t.introspect(rt1, 'refresh_token'))!;
      if (cur.body?.active !== true) fail('active=true for the new refresh token', describe(cur), cur);
    },
  },
];
