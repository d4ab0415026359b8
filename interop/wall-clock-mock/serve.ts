/**
 * The mock IdP served over loopback HTTP on the wall clock (its `running` clock: real time, whole
 * seconds), with a target file for it that drives it like any remote IdP on a real clock: mock login
 * and logout through its test-mode control API, `clock: real`. Secrets stay out of the file (${ENV}).
 */
import path from 'node:path';
import { createClock, type Profile } from '../../mock-idp/index.ts';
import { serveMockIdp } from '../../mock-idp/adapters/node-http.ts';
import { longestWait, writeTargetFiles, type TargetFileClient } from '../scale.ts';

export interface WallClockMock {
  issuer: string;
  targetFile: string;
  /** The environment the target file's ${...} placeholders need. */
  env: Record<string, string>;
  maxWaitSeconds: number;
  close(): Promise<void>;
}

const envName = (clientId: string) => `WALL_CLOCK_MOCK_SECRET_${clientId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

export async function serveOnWallClock(profile: Profile, dir: string): Promise<WallClockMock> {
  const running = await serveMockIdp({ profile, testMode: true, clock: createClock({ mode: 'running' }) }, { host: '127.0.0.1', port: 0 });
  const { idp } = running;
  const env: Record<string, string> = { WALL_CLOCK_MOCK_ADMIN_TOKEN: idp.adminToken! };
  const clients: TargetFileClient[] = idp.clients
    .filter((c) => c.grantTypes.includes('authorization_code'))
    .map((c) => {
      if (c.secret !== undefined) env[envName(c.id)] = c.secret;
      return {
        id: c.id,
        ...(c.secret !== undefined && { secret: `\${${envName(c.id)}}` }),
        auth: c.confidential ? 'client_secret_basic' : 'none',
        redirectUri: c.redirectUris[0]!,
        policy: c.policy,
      };
    });
  // One second above the longest wait a check declares: nothing is skipped for want of clock time.
  const maxWaitSeconds = longestWait(profile, clients.map((c) => ({ ...c, scope: 'openid' }))) + 1;
  const target = {
    name: `mock-idp ${profile.name} on the wall clock`,
    issuer: running.url,
    clients,
    control: { adminToken: '${WALL_CLOCK_MOCK_ADMIN_TOKEN}' },
    login: { driver: 'mock', username: idp.users[0]!.username },
    logout: { driver: 'end-session' },
    clock: { driver: 'real', maxWaitSeconds },
    timeouts: { requestMs: 10_000, runMs: 120_000 },
  };
  const { targetFile } = await writeTargetFiles(path.resolve(dir), profile, target);
  return { issuer: running.url, targetFile, env, maxWaitSeconds, close: running.close };
}
