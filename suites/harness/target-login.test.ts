/** The `browser` and `manual` members of the target file's login union. */
import { describe, expect, it } from 'vitest';
import { SetupError } from './errors.ts';
import { parseTarget, targetSecrets } from './target.ts';

const env = { QA_USER: 'qa@example.com', QA_PASSWORD: 'pw-123' };

function target(login: unknown): Record<string, unknown> {
  return {
    name: 'staging',
    issuer: 'https://idp.staging.example',
    profile: 'telenorid-plus',
    clients: [{ id: 'my-mobile', auth: 'none', redirectUri: 'no.example.mobile:/cb', policy: 'Mobile' }],
    login,
    logout: { driver: 'end-session' },
    clock: { driver: 'real' },
  };
}

async function setupError(login: unknown): Promise<SetupError> {
  const e = await parseTarget(target(login), 't.json', env).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(SetupError);
  return e as SetupError;
}

describe('login.driver "browser"', () => {
  it('takes fill, click and waitFor steps, with ${ENV} values, and defaults headless, the timeout and the launch timeout', async () => {
    const t = await parseTarget(
      target({
        driver: 'browser',
        steps: [{ waitFor: 'form#login' }, { fill: '#username', value: '${QA_USER}' }, { fill: '#password', value: '${QA_PASSWORD}' }, { click: 'button[type=submit]' }],
      }),
      't.json',
      env,
    );
    expect(t.login).toEqual({
      driver: 'browser',
      steps: [{ waitFor: 'form#login' }, { fill: '#username', value: 'qa@example.com' }, { fill: '#password', value: 'pw-123' }, { click: 'button[type=submit]' }],
      headless: true,
      timeoutMs: 30_000,
      launchTimeoutMs: 60_000,
      allowedOrigins: [],
    });
    // Every fill value is a secret for the recorder.
    expect(targetSecrets(t)).toEqual([
      { value: 'qa@example.com', label: 'login_value' },
      { value: 'pw-123', label: 'login_value' },
    ]);
  });

  it('keeps headless: false, a timeout, a launch timeout and a Chromium path', async () => {
    const t = await parseTarget(
      target({ driver: 'browser', steps: [{ click: '#go' }], headless: false, timeoutMs: 5000, launchTimeoutMs: 90_000, executablePath: '/opt/chromium/chrome' }),
      't.json',
      env,
    );
    expect(t.login).toMatchObject({ headless: false, timeoutMs: 5000, launchTimeoutMs: 90_000, executablePath: '/opt/chromium/chrome' });
  });

  it('rejects a step of unknown shape, naming it and the shapes allowed', async () => {
    const err = await setupError({ driver: 'browser', steps: [{ click: '#go' }, { type: '#username', value: 'x' }] });
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.message).toContain('login.steps[1]: a step is { "fill": selector, "value": text }, { "click": selector } or { "waitFor": selector }');
  });

  it('rejects no steps, a fill without value, and a bad timeout', async () => {
    expect((await setupError({ driver: 'browser', steps: [] })).message).toContain('login.steps: at least one step');
    expect((await setupError({ driver: 'browser', steps: [{ fill: '#u' }] })).message).toContain('login.steps[0]');
    expect((await setupError({ driver: 'browser', steps: [{ click: '#go' }], timeoutMs: 0 })).message).toContain('login.timeoutMs');
  });

  it('names a missing variable in a step', async () => {
    const e = await parseTarget(target({ driver: 'browser', steps: [{ fill: '#otp', value: '${QA_OTP}' }] }), 't.json', env).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ENV_MISSING', message: 't.json: environment variable QA_OTP (used at login.steps[0].value) is not set' });
  });
});

describe('login.driver "manual"', () => {
  it('needs nothing else, and takes nothing else', async () => {
    const t = await parseTarget(target({ driver: 'manual' }), 't.json', env);
    expect(t.login).toEqual({ driver: 'manual' });
    expect(targetSecrets(t)).toEqual([]);
    expect((await setupError({ driver: 'manual', username: 'x' })).message).toContain('login');
  });
});

describe('login.allowedOrigins', () => {
  it('defaults to none, and takes origins, normalized (a trailing slash, upper-case host)', async () => {
    const form = { driver: 'form', username: 'u', password: 'p' };
    expect((await parseTarget(target(form), 't.json', env)).login).toMatchObject({ allowedOrigins: [] });
    const t = await parseTarget(target({ ...form, allowedOrigins: ['https://Login.Example.com/', 'http://127.0.0.1:8080'] }), 't.json', env);
    expect(t.login).toMatchObject({ allowedOrigins: ['https://login.example.com', 'http://127.0.0.1:8080'] });
  });

  it('rejects a URL with a path, and a non-http scheme, naming the field', async () => {
    const form = { driver: 'form', username: 'u', password: 'p' };
    expect((await setupError({ ...form, allowedOrigins: ['https://login.example.com/steal'] })).message).toContain(
      'login.allowedOrigins[0]: must be an origin (scheme, host and port, no path)',
    );
    expect((await setupError({ driver: 'browser', steps: [{ click: '#go' }], allowedOrigins: ['ftp://x.example'] })).message).toContain('login.allowedOrigins[0]');
  });
});
