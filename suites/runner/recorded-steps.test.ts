/**
 * A check's steps that are no HTTP exchange are in its evidence: the embedded mock's clock moves and
 * logouts (in-process control calls, recorded as the control API request they stand for) and waits on
 * a real clock (a WAIT step with the seconds and why), in order with the check's exchanges.
 */
import { describe, expect, test } from 'vitest';
import { loadTarget, type Target } from '../harness/target.ts';
import { createHttp } from '../harness/http.ts';
import { formatExchange } from '../harness/record.ts';
import { connectEmbedded, embeddedClients } from './connection.ts';
import { createCheckRun } from './context.ts';

async function withRun(clock: Target['clock'], fn: (run: ReturnType<typeof createCheckRun>, issuer: string) => Promise<void>): Promise<void> {
  const base = await loadTarget('fixtures/targets/mock.json');
  const target = { ...base, clock, embedded: { transport: 'direct' } } as Extract<Target, { kind: 'embedded' }>;
  const conn = await connectEmbedded(target);
  try {
    const clients = embeddedClients(target);
    const client = clients.find((c) => c.id === 'mobile')!;
    const run = createCheckRun({
      target,
      connection: conn,
      http: createHttp({ requestTimeoutMs: 5000, ...(conn.fetch && { fetch: conn.fetch }) }),
      client,
      otherClients: clients.filter((c) => c !== client),
    });
    await fn(run, conn.issuer);
  } finally {
    await conn.close();
  }
}

describe("a check's non-HTTP steps are recorded with its exchanges", () => {
  test("the embedded mock's clock moves and logout, as the control API calls they stand for, in order", async () => {
    await withRun({ driver: 'mock' }, async (run, issuer) => {
      const session = await run.context.login({ offline: true });
      await run.context.clock.wait(30, 'a month, say');
      await run.context.logout(session);
      const steps = run.recorder.exchanges.filter((x) => x.via === 'in-process');
      expect(steps.map((x) => [x.url, x.requestBody, x.responseBody])).toEqual([
        [`${issuer}/__control/clock/advance`, '{"seconds":30}', expect.stringMatching(/^\{"now":\d+\}$/)],
        [`${issuer}/__control/sso/end`, expect.stringMatching(/^\{"username":"[^"]+"\}$/), '{"ended":1}'],
      ]);
      // After the login's exchanges, in the order they happened.
      const urls = run.recorder.exchanges.map((x) => new URL(x.url).pathname);
      expect(urls.indexOf('/__control/clock/advance')).toBeGreaterThan(urls.indexOf('/token'));
      expect(formatExchange(steps[1]!)).toMatch(/^> POST \S+\/__control\/sso\/end \(in-process: the embedded mock's control, no HTTP\)\n[^]*< done \(\d+ ms\)\n< \{"ended":1\}$/);
    });
  });

  test('a wait on the real clock, as a WAIT step with the seconds and why', async () => {
    await withRun({ driver: 'real', maxWaitSeconds: 5 }, async (run, issuer) => {
      await run.context.clock.wait(0.05, 'a short real wait');
      const [wait] = run.recorder.exchanges.filter((x) => x.via === 'real-clock');
      expect(wait).toMatchObject({ method: 'WAIT', url: issuer, requestBody: '{"seconds":0.05,"why":"a short real wait"}' });
      expect(wait!.durationMs).toBeGreaterThanOrEqual(40);
      expect(formatExchange(wait!)).toMatch(/^> WAIT \S+ \(real clock: the harness waited, no HTTP\)\n>\n> \{"seconds":0\.05,"why":"a short real wait"\}\n< waited \(\d+ ms\)$/);
    });
  });
});
