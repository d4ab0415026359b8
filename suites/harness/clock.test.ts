import { http as mock, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClock } from './drivers/index.ts';
import { createControlClient } from './drivers/control.ts';
import { createMockClock } from './drivers/clock/mock.ts';
import { createRealClock, type WaitProgress } from './drivers/clock/real.ts';
import { ControlError, SkipError } from './errors.ts';
import { createHttp } from './http.ts';

const IDP = 'http://127.0.0.1:4010';
const ADMIN = 'admin-0123456789';
let now = 1_700_000_000;

const server = setupServer(
  mock.post(`${IDP}/__control/clock/advance`, async ({ request }) => {
    if (request.headers.get('authorization') !== `Bearer ${ADMIN}`) return HttpResponse.json({ error: 'unauthorized' }, { status: 401 });
    const { seconds } = (await request.json()) as { seconds: number };
    now += seconds;
    return HttpResponse.json({ now });
  }),
  mock.get(`${IDP}/__control/clock`, () => HttpResponse.json({ now })),
  mock.post(`${IDP}/__control/grants/revoke`, async ({ request }) => HttpResponse.json({ revoked: Object.keys((await request.json()) as object).length })),
  mock.get(`${IDP}/__control/families`, ({ request }) => HttpResponse.json({ families: [{ user: new URL(request.url).searchParams.get('username') }] })),
  mock.post(`${IDP}/__control/reset`, () => HttpResponse.json({})),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  vi.useRealTimers();
});
afterAll(() => server.close());

describe('mock clock', () => {
  it("advances the mock's clock through the control API, any amount", async () => {
    const control = createControlClient({ http: createHttp({ requestTimeoutMs: 2000 }), issuer: IDP, adminToken: ADMIN });
    const clock = createClock({ driver: 'mock' }, { control });
    expect(clock.kind).toBe('mock');
    expect(clock.canWait(14 * 86400)).toBe(true);
    const before = (await control.now()).now;
    await clock.wait(14 * 86400, 'the refresh token to expire');
    expect((await control.now()).now).toBe(before + 14 * 86400);
  });

  it('refuses an invalid wait', async () => {
    const clock = createMockClock({ advance: () => undefined });
    expect(clock.canWait(-1)).toBe('invalid wait of -1 seconds');
    await expect(clock.wait(Number.NaN, 'x')).rejects.toThrow(RangeError);
  });

  it('uses an in-process control when given one', async () => {
    const advanced: number[] = [];
    await createMockClock({ advance: (s) => void advanced.push(s) }).wait(30, 'x');
    expect(advanced).toEqual([30]);
  });

  it('reports a refused or malformed control answer as CONTROL_FAILED', async () => {
    const http = createHttp({ requestTimeoutMs: 2000 });
    const wrong = createControlClient({ http, issuer: IDP, adminToken: 'nope' });
    await expect(wrong.advance(1)).rejects.toThrow(ControlError);
    server.use(mock.post(`${IDP}/__control/clock/advance`, () => HttpResponse.json({ when: 1 }), { once: true }));
    const err = await createControlClient({ http, issuer: IDP, adminToken: ADMIN })
      .advance(1)
      .catch((e: unknown) => e);
    expect((err as ControlError).message).toBe(`POST ${IDP}/__control/clock/advance: response has no valid "now"`);
  });

  it('the control client covers the other control endpoints', async () => {
    const control = createControlClient({ http: createHttp({ requestTimeoutMs: 2000 }), issuer: `${IDP}/`, adminToken: ADMIN });
    expect(await control.revokeGrants({ username: 'alice', clientId: 'app' })).toEqual({ revoked: 2 });
    expect(await control.families('a b')).toEqual({ families: [{ user: 'a b' }] });
    await expect(control.reset()).resolves.toBeUndefined();
  });
});

describe('real clock', () => {
  it('refuses a wait longer than maxWaitSeconds with a reason, and wait() throws SkipError', async () => {
    const clock = createRealClock({ maxWaitSeconds: 120 });
    expect(clock.kind).toBe('real');
    expect(clock.canWait(120)).toBe(true);
    expect(clock.canWait(1209600)).toBe('needs a real-time wait of 1209600 s, more than clock.maxWaitSeconds (120 s)');
    const err = await clock.wait(121, 'the access token to expire').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkipError);
    expect((err as SkipError).code).toBe('SKIP_WAIT_TOO_LONG');
    expect((err as SkipError).message).toContain('cannot wait for the access token to expire');
  });

  it('really waits (a tiny bounded wait)', async () => {
    const clock = createRealClock({ maxWaitSeconds: 1 });
    const t0 = performance.now();
    await clock.wait(0.05, 'a moment');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('reports progress every few seconds with what it waits for and the seconds left', async () => {
    vi.useFakeTimers();
    const progress: WaitProgress[] = [];
    const clock = createRealClock({ maxWaitSeconds: 60, progressEverySeconds: 10, onProgress: (p) => progress.push(p) });
    let done = false;
    const waiting = clock.wait(25, 'the access token to expire').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(24_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
    expect(progress).toEqual([
      { why: 'the access token to expire', totalSeconds: 25, secondsLeft: 25 },
      { why: 'the access token to expire', totalSeconds: 25, secondsLeft: 15 },
      { why: 'the access token to expire', totalSeconds: 25, secondsLeft: 5 },
    ]);
  });

  it('is abortable, per wait or per clock, rejecting with the reason', async () => {
    vi.useFakeTimers();
    const perWait = new AbortController();
    const clock = createRealClock({ maxWaitSeconds: 60 });
    const a = clock.wait(30, 'x', { signal: perWait.signal });
    const reason = new Error('deadline');
    perWait.abort(reason);
    await expect(a).rejects.toBe(reason);

    const run = new AbortController();
    const runClock = createRealClock({ maxWaitSeconds: 60, signal: run.signal });
    const b = runClock.wait(30, 'x');
    await vi.advanceTimersByTimeAsync(1000);
    run.abort(new Error('run over'));
    await expect(b).rejects.toThrow('run over');
    expect(vi.getTimerCount()).toBe(0); // no timer left behind
  });
});
