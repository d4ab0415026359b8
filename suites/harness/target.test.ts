import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetupError } from './errors.ts';
import { jsonPath, loadTarget, parseTarget, substituteEnv, targetSecrets } from './target.ts';

const env = { CONF_SECRET: 'conf-s3cret', QA_USER: 'qa@example.com', QA_PASSWORD: 'pw-123' };

function remote(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'staging',
    issuer: 'https://idp.staging.example',
    endpoints: { token: 'https://idp.staging.example/oauth/token' },
    profile: 'telenorid-plus',
    clients: [
      {
        id: 'my-confidential',
        secret: '${CONF_SECRET}',
        auth: 'client_secret_basic',
        redirectUri: 'https://app.example/cb',
        policy: 'Confidential',
        scope: 'openid profile',
      },
      { id: 'my-mobile', auth: 'none', redirectUri: 'no.example.mobile:/cb', policy: 'Mobile' },
    ],
    login: { driver: 'form', username: '${QA_USER}', password: '${QA_PASSWORD}' },
    logout: { driver: 'end-session' },
    clock: { driver: 'real', maxWaitSeconds: 120 },
    timeouts: { requestMs: 5000, runMs: 600000 },
    expectedFailures: [{ id: 'check-id', reason: 'known bug' }],
    ...overrides,
  };
}

/** Runs `fn`, expecting a SetupError; returns it. */
async function setupError(fn: () => Promise<unknown>): Promise<SetupError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SetupError);
    const err = e as SetupError;
    expect(err.message).not.toContain('\n'); // a setup error is one line
    return err;
  }
  throw new Error('expected a SetupError');
}

describe('parseTarget', () => {
  it('substitutes ${ENV} in string values and resolves profile and policies', async () => {
    const t = await parseTarget(remote(), 'staging.json', env);
    expect(t.kind).toBe('remote');
    if (t.kind !== 'remote') return;
    expect(t.issuer).toBe('https://idp.staging.example');
    expect(t.clients[0]!.secret).toBe('conf-s3cret');
    expect(t.login).toEqual({ driver: 'form', username: 'qa@example.com', password: 'pw-123', allowedOrigins: [] });
    expect(t.profile.name).toBe('telenorid-plus');
    expect(t.profileRef).toBe('telenorid-plus');
    expect(t.clients[0]!.policyRules).toBe(t.profile.policies.Confidential);
    expect(t.clients[1]!.redirectUri).toBe('no.example.mobile:/cb'); // private-use scheme is fine
    expect(t.clients[1]!.scope).toBe('openid'); // default
    expect(t.endpoints).toEqual({ token: 'https://idp.staging.example/oauth/token' });
    expect(t.timeouts).toEqual({ requestMs: 5000, runMs: 600000 });
    expect(t.expectedFailures).toEqual([{ id: 'check-id', reason: 'known bug' }]);
  });

  it('fills defaults for timeouts, expectedFailures and clock.maxWaitSeconds', async () => {
    const json = remote({ clock: { driver: 'real' } });
    delete json.timeouts;
    delete json.expectedFailures;
    const t = await parseTarget(json, 't.json', env);
    expect(t.timeouts).toEqual({ requestMs: 10000, runMs: 600000 });
    expect(t.expectedFailures).toEqual([]);
    expect(t.clock).toEqual({ driver: 'real', maxWaitSeconds: 120 });
  });

  it('names the variable and the JSON path of a missing env var', async () => {
    const err = await setupError(() => parseTarget(remote(), 'staging.json', { QA_USER: 'u', QA_PASSWORD: 'p' }));
    expect(err.code).toBe('ENV_MISSING');
    expect(err.message).toBe('staging.json: environment variable CONF_SECRET (used at clients[0].secret) is not set');
  });

  it('names every missing env var at once, each with where it is used', async () => {
    const err = await setupError(() => parseTarget(remote(), 'staging.json', { QA_PASSWORD: '' }));
    expect(err.code).toBe('ENV_MISSING');
    expect(err.message).toBe(
      'staging.json: 3 environment variables are missing: CONF_SECRET (used at clients[0].secret) is not set; QA_USER (used at login.username) is not set; QA_PASSWORD (used at login.password) is empty',
    );
  });

  it('treats an empty env var as missing (an unset CI secret)', async () => {
    const err = await setupError(() => parseTarget(remote(), 'staging.json', { ...env, QA_PASSWORD: '' }));
    expect(err.code).toBe('ENV_MISSING');
    expect(err.message).toContain('QA_PASSWORD (used at login.password) is empty');
  });

  it('rejects an unknown policy, naming the field and the known policies', async () => {
    const json = remote();
    (json.clients as Array<Record<string, unknown>>)[1]!.policy = 'Mobil';
    const err = await setupError(() => parseTarget(json, 't.json', env));
    expect(err.code).toBe('POLICY_UNKNOWN');
    expect(err.message).toMatch(/clients\[1\]\.policy: "Mobil" is not a policy of profile telenorid-plus \(.*Mobile.*\)/);
  });

  it('rejects a bad auth value, naming the field and the allowed values', async () => {
    const json = remote();
    (json.clients as Array<Record<string, unknown>>)[0]!.auth = 'private_key_jwt';
    const err = await setupError(() => parseTarget(json, 't.json', env));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('clients[0].auth:');
    expect(err.message).toContain('client_secret_basic');
  });

  it('rejects unknown keys (a typo must not be ignored silently)', async () => {
    const err = await setupError(() => parseTarget(remote({ clock: { driver: 'real', maxWaitSecond: 5 } }), 't.json', env));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('clock');
    expect(err.message).toContain('maxWaitSecond');
  });

  it('rejects an unknown driver, naming login.driver', async () => {
    const err = await setupError(() => parseTarget(remote({ login: { driver: 'carrier-pigeon' } }), 't.json', env));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('login.driver');
  });

  it('rejects a non-http issuer and a missing clients list', async () => {
    const json = remote({ issuer: 'idp.example' });
    delete json.clients;
    const err = await setupError(() => parseTarget(json, 't.json', env));
    expect(err.message).toContain('issuer: must be an http(s) URL');
    expect(err.message).toContain('clients:');
  });

  it('checks auth against the policy: a confidential policy needs a secret method, a public one "none"', async () => {
    const confNone = remote();
    Object.assign((confNone.clients as Array<Record<string, unknown>>)[0]!, { auth: 'none' });
    expect((await setupError(() => parseTarget(confNone, 't.json', env))).message).toContain('clients[0].auth: policy Confidential is confidential');

    const publicBasic = remote();
    Object.assign((publicBasic.clients as Array<Record<string, unknown>>)[1]!, { auth: 'client_secret_basic', secret: 'x' });
    expect((await setupError(() => parseTarget(publicBasic, 't.json', env))).message).toContain('clients[1].auth: policy Mobile is for public clients');

    const noSecret = remote();
    delete (noSecret.clients as Array<Record<string, unknown>>)[0]!.secret;
    expect((await setupError(() => parseTarget(noSecret, 't.json', env))).message).toContain('clients[0].secret: required with auth client_secret_basic');
  });

  it('rejects a duplicate client id', async () => {
    const json = remote();
    (json.clients as Array<Record<string, unknown>>)[1]!.id = 'my-confidential';
    const err = await setupError(() => parseTarget(json, 't.json', env));
    expect(err.message).toContain('clients[1].id: "my-confidential" appears twice');
  });

  it('maps an unknown profile to PROFILE_UNKNOWN', async () => {
    const err = await setupError(() => parseTarget(remote({ profile: 'no-such-profile' }), 't.json', env));
    expect(err.code).toBe('PROFILE_UNKNOWN');
    expect(err.message).toContain('"no-such-profile"');
  });

  it('needs control.adminToken for the mock logout and clock against a running mock', async () => {
    const json = remote({ logout: { driver: 'mock' }, clock: { driver: 'mock' }, login: { driver: 'mock' } });
    const err = await setupError(() => parseTarget(json, 't.json', env));
    expect(err.message).toContain('control.adminToken: required by the mock driver of logout, clock');
    const ok = await parseTarget({ ...json, control: { adminToken: '${ADMIN}' } }, 't.json', { ...env, ADMIN: 'adm' });
    expect(ok.control).toEqual({ adminToken: 'adm' });
    expect(ok.login).toEqual({ driver: 'mock' });
  });

  it('accepts an embedded mock target without issuer and clients', async () => {
    const t = await parseTarget(
      { name: 'embedded-mock', embedded: { transport: 'msw' }, profile: 'telenorid-plus', login: { driver: 'mock' }, logout: { driver: 'mock' }, clock: { driver: 'mock' } },
      'embedded.json',
      {},
    );
    expect(t.kind).toBe('embedded');
    if (t.kind !== 'embedded') return;
    expect(t.embedded).toEqual({ transport: 'msw' });
    expect(t.profile.name).toBe('telenorid-plus');
    expect('clients' in t).toBe(false);
  });

  it('rejects issuer or clients in an embedded target, and an unknown transport', async () => {
    const base = { name: 'e', profile: 'telenorid-plus', login: { driver: 'mock' }, logout: { driver: 'mock' }, clock: { driver: 'mock' } };
    const withIssuer = await setupError(() => parseTarget({ ...base, embedded: { transport: 'http' }, issuer: 'https://x' }, 'e.json', {}));
    expect(withIssuer.message).toContain('issuer');
    const badTransport = await setupError(() => parseTarget({ ...base, embedded: { transport: 'tcp' } }, 'e.json', {}));
    expect(badTransport.message).toContain('embedded.transport');
  });

  it('lists the secrets a recorder must hide', async () => {
    const t = await parseTarget(remote({ control: { adminToken: 'adm-1' } }), 't.json', env);
    expect(targetSecrets(t)).toEqual([
      { value: 'conf-s3cret', label: 'client_secret' },
      { value: 'my-confidential:conf-s3cret', label: 'client_credentials' },
      { value: 'pw-123', label: 'password' },
      { value: 'adm-1', label: 'admin_token' },
    ]);
  });
});

describe('loadTarget', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'target-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and resolves a relative profile path against the file', async () => {
    // A copy of the built-in profile under another name proves which file was loaded.
    const builtin = JSON.parse(await readFile(new URL('../../fixtures/profiles/telenorid-plus.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    delete builtin.$schema;
    await mkdir(path.join(dir, 'profiles'), { recursive: true });
    await writeFile(path.join(dir, 'profiles', 'custom.json'), JSON.stringify({ ...builtin, name: 'custom-copy' }));
    const file = path.join(dir, 'target.json');
    await writeFile(file, JSON.stringify(remote({ profile: './profiles/custom.json' })));
    const t = await loadTarget(file, env);
    expect(t.profile.name).toBe('custom-copy');
    expect(t.profileRef).toBe('./profiles/custom.json');
    expect(t.origin).toBe(file);
  });

  it('reports a missing file as TARGET_NOT_FOUND', async () => {
    const err = await setupError(() => loadTarget(path.join(dir, 'nope.json'), env));
    expect(err.code).toBe('TARGET_NOT_FOUND');
    expect(err.message).toContain('nope.json not found');
  });

  it('reports broken JSON as TARGET_INVALID', async () => {
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{ "name": ');
    const err = await setupError(() => loadTarget(file, env));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('not valid JSON');
  });

  it('reports an invalid profile file as TARGET_INVALID naming the profile field', async () => {
    const bad = path.join(dir, 'bad-profile.json');
    await writeFile(bad, JSON.stringify({ name: 'bad' }));
    const file = path.join(dir, 'with-bad-profile.json');
    await writeFile(file, JSON.stringify(remote({ profile: bad })));
    const err = await setupError(() => loadTarget(file, env));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('profile:');
    expect(err.message).toContain('title');
  });
});

describe('helpers', () => {
  it('jsonPath renders zod paths like the file reads', () => {
    expect(jsonPath(['clients', 0, 'auth'])).toBe('clients[0].auth');
    expect(jsonPath([])).toBe('(root)');
  });

  it('substituteEnv leaves keys and non-strings alone and replaces several vars in one string', () => {
    expect(substituteEnv({ '${A}': 1, s: '${A}-${B}', n: [true, null] }, { A: 'a', B: 'b' }, 'x')).toEqual({ '${A}': 1, s: 'a-b', n: [true, null] });
  });
});

describe('targets as they are', () => {
  it('takes logout.driver "none"', async () => {
    const t = await parseTarget(remote({ logout: { driver: 'none' } }), 't.json', env);
    expect(t.logout).toEqual({ driver: 'none' });
    expect((await setupError(() => parseTarget(remote({ logout: { driver: 'none', postLogoutRedirectUri: 'https://app.example/bye' } }), 't.json', env))).code).toBe('TARGET_INVALID');
  });

  it('takes an optional discoveryUrl: https, or plain http on the issuer origin or a loopback host', async () => {
    const t = await parseTarget(remote({ discoveryUrl: 'https://idp.staging.example/.well-known/openid-configuration/' }), 't.json', env);
    expect(t.kind === 'remote' && t.discoveryUrl).toBe('https://idp.staging.example/.well-known/openid-configuration/');
    const none = await parseTarget(remote(), 't.json', env);
    expect(none.kind === 'remote' && 'discoveryUrl' in none).toBe(false);
    for (const ok of ['http://127.0.0.1:8080/meta', 'http://localhost:8080/meta']) {
      expect(await parseTarget(remote({ discoveryUrl: ok }), 't.json', env)).toMatchObject({ discoveryUrl: ok });
    }
    expect(await parseTarget(remote({ issuer: 'http://idp.lan', discoveryUrl: 'http://idp.lan/meta' }), 't.json', env)).toMatchObject({ discoveryUrl: 'http://idp.lan/meta' });
    const plain = await setupError(() => parseTarget(remote({ discoveryUrl: 'http://metadata.example/openid-configuration' }), 't.json', env));
    expect(plain).toMatchObject({ code: 'TARGET_INVALID', message: "t.json: discoveryUrl: must be an https URL (plain http only on the issuer's origin or a loopback host): http://metadata.example/openid-configuration" });
    expect((await setupError(() => parseTarget(remote({ discoveryUrl: 'ftp://idp.staging.example/meta' }), 't.json', env))).message).toContain('discoveryUrl: must be an http(s) URL');
    expect((await setupError(() => parseTarget({ name: 'm', profile: 'telenorid-plus', embedded: { transport: 'msw' }, login: { driver: 'mock' }, logout: { driver: 'mock' }, clock: { driver: 'mock' }, discoveryUrl: 'https://x.test/' }, 't.json', env))).code).toBe('TARGET_INVALID');
  });

  it('needs redirectUri only for clients whose policy has the authorization_code grant', async () => {
    const service = { id: 'svc', secret: 'svc-secret-0123', auth: 'client_secret_post', policy: 'Service' };
    const interactive = { id: 'portal', secret: 'portal-secret-0123', auth: 'client_secret_basic', policy: 'Interactive' };
    const t = await parseTarget(remote({ profile: 'erp-net', clients: [service, { ...interactive, redirectUri: 'https://portal.example/cb' }] }), 't.json', env);
    expect(t.kind === 'remote' && t.clients.map((c) => [c.id, c.redirectUri])).toEqual([
      ['svc', undefined],
      ['portal', 'https://portal.example/cb'],
    ]);
    expect(t.kind === 'remote' && 'redirectUri' in t.clients[0]!).toBe(false);
    const err = await setupError(() => parseTarget(remote({ profile: 'erp-net', clients: [service, interactive] }), 't.json', env));
    expect(err).toMatchObject({
      code: 'TARGET_INVALID',
      message: 't.json: clients[1].redirectUri: required for client "portal": policy Interactive has the authorization_code grant, so its checks log in',
    });
  });
});
