/**
 * The run pipeline (pipeline.ts): the embedded mock's clients come from the profile's fixtures without
 * starting an instance; the run's one deadline errors what it cut short the same way for runOne and
 * runAll; the self-test and the benchmark run the catalogue through runCatalogue; every check's
 * recorder knows the target's secrets, browser step values included.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { loadTarget, parseTarget, targetSecrets, type Target } from '../harness/target.ts';
import { loadProfile } from '../../mock-idp/index.ts';

const pipelineCalls = vi.hoisted(() => ({ runCatalogue: [] as Array<{ target: unknown; options: unknown }> }));

// Counts the mock instances started: listing clients must start none.
vi.mock('./embedded.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('./embedded.ts')>();
  return { ...original, startEmbedded: vi.fn(original.startEmbedded) };
});
// Observes the entry points' calls; the real pipeline still runs.
vi.mock('./pipeline.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('./pipeline.ts')>();
  return {
    ...original,
    runCatalogue: vi.fn(async (target: Target, options?: import('./pipeline.ts').RunOptions) => {
      pipelineCalls.runCatalogue.push({ target, options });
      return original.runCatalogue(target, { ...options, only: [] });
    }),
  };
});

const { startEmbedded } = await import('./embedded.ts');
const { prepareRun } = await import('./pipeline.ts');
const { connectEmbedded, targetClients } = await import('./connection.ts');
const { checkRecorder } = await import('./context.ts');

async function embedded(): Promise<Extract<Target, { kind: 'embedded' }>> {
  const base = await loadTarget('fixtures/targets/mock.json');
  return { ...base, embedded: { transport: 'direct' } } as Extract<Target, { kind: 'embedded' }>;
}

afterEach(() => {
  vi.mocked(startEmbedded).mockClear();
  pipelineCalls.runCatalogue.length = 0;
});

describe('embedded clients', () => {
  test('are planned from the profile fixtures without starting a mock instance, and are the ones an instance registers', async () => {
    const target = await embedded();
    const run = await prepareRun(target);
    await run.close();
    expect(run.plan.length).toBeGreaterThan(0);
    expect(vi.mocked(startEmbedded)).not.toHaveBeenCalled();

    const connection = await connectEmbedded(target);
    await connection.close();
    expect(vi.mocked(startEmbedded)).toHaveBeenCalledTimes(1);
    const instance = await vi.mocked(startEmbedded).mock.results[0]!.value;
    const registered = instance.idp.clients.map((c: { id: string; secret?: string; redirectUris: string[]; policy: string }) => [c.id, c.secret, c.redirectUris[0], c.policy]);
    expect(targetClients(target).map((c) => [c.id, c.secret, c.redirectUri, c.policy])).toEqual(registered);
  });
});

describe('the run deadline', () => {
  test('past it, runOne and runAll error every instance that would run with RUN_TIMEOUT, without running it; skips stay skips', async () => {
    const target = await embedded();
    const run = await prepareRun(target, { deadlineMs: Date.now() - 1 });
    await new Promise((r) => setTimeout(r, 0));
    const all = await run.runAll();
    const one = await run.runOne(run.plan.find((i) => i.skip === undefined)!);
    await run.close();
    expect(vi.mocked(startEmbedded)).not.toHaveBeenCalled();
    const notStarted = `RUN_TIMEOUT: not started, the run exceeded timeouts.runMs (${target.timeouts.runMs} ms)`;
    for (const [i, r] of all.entries()) {
      if (run.plan[i]!.skip !== undefined) expect(r.status).toBe('skipped');
      else expect([r.status, r.message]).toEqual(['errored', expect.stringContaining(notStarted)]);
    }
    expect(one.message).toContain(notStarted);
    expect(all.filter((r) => r.status === 'errored').length).toBeGreaterThan(0);
  });

  test('a run that outlives it stops the check under way: errored RUN_TIMEOUT, never failed', async () => {
    const target = await embedded();
    const run = await prepareRun(target, { deadlineMs: Date.now() + 300, only: ['token-endpoint.error-shape'] });
    const instance = run.plan.find((i) => i.skip === undefined)!;
    const stuck = { ...instance, check: { ...instance.check, run: () => new Promise<void>(() => undefined) } };
    const r = await run.runOne(stuck);
    await run.close();
    expect(r.status).toBe('errored');
    expect(r.message).toContain(`RUN_TIMEOUT: the run exceeded timeouts.runMs (${target.timeouts.runMs} ms); the check was stopped`);
  });
});

describe('entry points run through runCatalogue', () => {
  test('the self-test runs the catalogue with its defects', async () => {
    const { failingChecks } = await import('./self-test.ts');
    await failingChecks(await embedded(), await loadProfile('erp-net'), ['no-rotation']);
    expect(pipelineCalls.runCatalogue).toHaveLength(1);
    const call = pipelineCalls.runCatalogue[0]!;
    expect((call.target as Target).profile.name).toBe('erp-net');
    expect(call.options).toEqual({ defects: ['no-rotation'] });
  });

  test('the benchmark times the catalogue', async () => {
    const { timeCatalogue } = await import('../../scripts/bench/suites.ts');
    await timeCatalogue('direct', 'telenorid-plus');
    expect(pipelineCalls.runCatalogue).toHaveLength(1);
    expect((pipelineCalls.runCatalogue[0]!.target as Target).kind).toBe('embedded');
  });
});

describe('secrets of the production path', () => {
  test("a check's recorder hides every targetSecrets value, browser step values included", async () => {
    const target = await parseTarget(
      {
        name: 'browser',
        profile: 'telenorid-plus',
        issuer: 'https://idp.example',
        clients: [{ id: 'conf', secret: 'conf-secret-0123456789', auth: 'client_secret_basic', redirectUri: 'https://rp.example/cb', policy: 'Confidential' }],
        login: {
          driver: 'browser',
          steps: [
            { fill: '#user', value: 'qa-user@example.com' },
            { fill: '#pin', value: '4711' },
            { click: '#go' },
          ],
        },
        logout: { driver: 'none' },
        clock: { driver: 'real', maxWaitSeconds: 5 },
        control: { adminToken: 'admin-token-0123456789' },
      },
      'pipeline.test.ts',
    );
    const values = targetSecrets(target).map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['qa-user@example.com', '4711', 'conf-secret-0123456789', 'admin-token-0123456789']));
    const recorder = checkRecorder(target, targetClients(target), { adminToken: 'admin-token-0123456789' });
    for (const v of values) expect(recorder.redact(`seen: ${v}.`), v).not.toContain(v);
  });
});
