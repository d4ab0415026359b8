/**
 * observe against node-oidc-provider 9 configured with refresh-token lifetimes of a few seconds, on
 * the real clock: the lifetimes it measures are within ±1 s of the configured ones, and every other
 * field it observes equals the profile the provider was configured from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTarget } from '../../suites/harness/target.ts';
import { declaredValue } from '../../suites/observe/fields.ts';
import { observeTarget, type ObserveResult } from '../../suites/observe/observe.ts';
import { spawnLauncher } from '../cli.ts';
import type { TargetFileClient } from '../scale.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const LIFETIMES = 8;

interface Ready {
  issuer: string;
  clients: TargetFileClient[];
  targetFile: string;
  env: Record<string, string>;
}

describe(`observe against node-oidc-provider 9 with ${LIFETIMES} s refresh-token lifetimes (real clock)`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof spawnLauncher<Ready>>> | undefined;
  let result: ObserveResult;
  let target: Awaited<ReturnType<typeof loadTarget>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'observe-oidc-provider-'));
    server = await spawnLauncher<Ready>(CLI, ['--dir', dir, '--lifetimes', String(LIFETIMES)]);
    target = await loadTarget(server.info.targetFile, { ...process.env, ...server.info.env });
    result = await observeTarget(target, { maxWaitSeconds: 40 });
  }, 600_000);

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lifetimes within ±1 s, every other observed field exact', () => {
    const profile = target.profile;
    const lifetimes = result.fields.filter((f) => /\.lifetimeSeconds$/.test(f.field));
    expect(lifetimes.length).toBeGreaterThan(0);
    for (const f of lifetimes) {
      const declared = declaredValue(profile, f.field);
      expect(f.confidence, `${f.field}: ${f.reason}`).toBe('bounded');
      expect(typeof f.value, f.field).toBe('number');
      expect(Math.abs((f.value as number) - (declared as number)), `${f.field}: observed ${f.value}, configured ${declared} (${f.reason})`).toBeLessThanOrEqual(1);
    }
    const others = result.fields.filter((f) => f.confidence === 'observed');
    const wrong = others.filter((f) => declaredValue(profile, f.field) !== f.value).map((f) => `${f.field}: configured ${JSON.stringify(declaredValue(profile, f.field))}, observed ${JSON.stringify(f.value)} (${f.reason})`);
    expect(wrong).toEqual([]);
    expect(others.map((f) => f.field)).toEqual(expect.arrayContaining(['refreshTokenIssuance', 'reuseOfRotatedToken', 'invalidGrantStatus', 'concurrentRefresh']));
  });
});
