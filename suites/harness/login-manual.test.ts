/** The manual login driver with fake terminals: a TTY a "person" types into, and a pipe (CI). */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLoginDriver } from './drivers/index.ts';
import { manualLogin } from './drivers/login/manual.ts';
import { LoginError } from './errors.ts';
import { createHttp } from './http.ts';
import { Recorder } from './record.ts';

const AUTH_URL = 'https://idp.test/authorize?client_id=app&state=st-9&redirect_uri=no.example.app%3A%2Fcb';
const REDIRECT_URI = 'no.example.app:/cb';
const input = { authorizationUrl: AUTH_URL, redirectUri: REDIRECT_URI, state: 'st-9' };

/** A terminal: `type` answers each prompt in turn, `screen` is what was printed. */
function fakeTty(answers: string[]) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = new PassThrough();
  let screen = '';
  stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    // A prompt was printed: the person types the next answer.
    if (screen.endsWith('redirect URL> ')) {
      const next = answers.shift();
      if (next === undefined) stdin.end();
      else stdin.write(`${next}\n`);
    }
  });
  return { stdin, stdout, screen: () => screen };
}

const http = () => createHttp({ requestTimeoutMs: 1000, recorder: new Recorder() });

describe('manual login', () => {
  it('prints the authorization URL and reads the pasted redirect URL', async () => {
    const tty = fakeTty([`${REDIRECT_URI}?code=MANUAL-CODE-123456&state=st-9&iss=https%3A%2F%2Fidp.test`]);
    const h = http();
    const result = await manualLogin(h, input, { input: tty.stdin, output: tty.stdout });
    expect(result).toMatchObject({ code: 'MANUAL-CODE-123456', state: 'st-9', params: { iss: 'https://idp.test' }, via: 'redirect', hops: 0 });
    expect(await result.cookieJar.getCookies('https://idp.test/')).toEqual([]);
    expect(tty.screen()).toContain(`  ${AUTH_URL}\n`);
    expect(tty.screen()).toContain(`sends the browser to ${REDIRECT_URI}?code=`);
    // The code is a secret from now on.
    expect(h.recorder!.redact('MANUAL-CODE-123456')).toMatch(/^\[redacted:code#[0-9a-f]{6}\]$/);
  });

  it('asks again after a paste that is not this login’s redirect, then takes the right one', async () => {
    const tty = fakeTty([
      'hello',
      'https://elsewhere.test/cb?code=x&state=st-9',
      `${REDIRECT_URI}?code=OLD-CODE-123456&state=another-login`,
      `${REDIRECT_URI}#code=FRAGMENT-CODE-1234&state=st-9`,
    ]);
    const result = await manualLogin(http(), input, { input: tty.stdin, output: tty.stdout, attempts: 4 });
    expect(result.code).toBe('FRAGMENT-CODE-1234');
    expect(tty.screen()).toContain('that is not a URL; try again (3 left).');
    expect(tty.screen()).toContain(`that is not an address at ${REDIRECT_URI}; try again (2 left).`);
    expect(tty.screen()).toContain('its state differs');
  });

  it('reports an authorization error from the pasted URL', async () => {
    const tty = fakeTty([`${REDIRECT_URI}?error=access_denied&error_description=user+said+no&state=st-9`]);
    const err = await manualLogin(http(), input, { input: tty.stdin, output: tty.stdout }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect(err).toMatchObject({ code: 'LOGIN_AUTHORIZATION_ERROR', details: { error: 'access_denied', error_description: 'user said no' } });
  });

  it('gives up after the allowed wrong pastes', async () => {
    const tty = fakeTty(['nope', 'still nope']);
    const err = await manualLogin(http(), input, { input: tty.stdin, output: tty.stdout, attempts: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOGIN_UNEXPECTED_RESPONSE', message: 'manual login: that is not a URL, and no attempts are left' });
  });

  it('fails with LOGIN_NOT_INTERACTIVE when the terminal closes before a paste', async () => {
    const tty = fakeTty([]);
    const err = await manualLogin(http(), input, { input: tty.stdin, output: tty.stdout }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect(err).toMatchObject({ code: 'LOGIN_NOT_INTERACTIVE', message: 'manual login: the terminal closed before the redirect URL was pasted' });
  });

  it('fails at once with LOGIN_NOT_INTERACTIVE when stdin is not a TTY (CI)', async () => {
    const pipe = new PassThrough();
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const driver = createLoginDriver({ driver: 'manual' }, { terminal: { input: pipe, output: out } });
    expect(driver.kind).toBe('manual');
    const err = await driver.login(http(), input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginError);
    expect(err).toMatchObject({ code: 'LOGIN_NOT_INTERACTIVE' });
    expect((err as Error).message).toMatch(/stdin is not a TTY/);
    expect(printed).toBe(''); // no prompt nobody can answer
  });

  it('prompts one login at a time', async () => {
    const tty1 = fakeTty([`${REDIRECT_URI}?code=FIRST-CODE-123456&state=st-9`]);
    const tty2 = fakeTty([`${REDIRECT_URI}?code=SECOND-CODE-12345&state=st-9`]);
    const order: string[] = [];
    tty2.stdout.on('data', () => order.push(`second printed (first ${tty1.screen().includes('Thank you') ? 'done' : 'not done'})`));
    const [a, b] = await Promise.all([
      manualLogin(http(), input, { input: tty1.stdin, output: tty1.stdout }),
      manualLogin(http(), input, { input: tty2.stdin, output: tty2.stdout }),
    ]);
    expect([a.code, b.code]).toEqual(['FIRST-CODE-123456', 'SECOND-CODE-12345']);
    expect(order[0]).toBe('second printed (first done)');
  });
});
