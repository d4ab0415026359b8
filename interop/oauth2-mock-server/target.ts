/**
 * The target file for a running oauth2-mock-server: the same clients and scaled profile as the
 * oidc-provider target, form login (it has no login page: the driver just follows the redirect that
 * carries the code), end-session logout with the post_logout_redirect_uri it insists on, real clock.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import { longestWait, writeTargetFiles } from '../scale.ts';
import type { RunningOauth2MockServer } from './launch.ts';

export const PINNED_FAILURES_FILE = fileURLToPath(new URL('./pinned-failures.json', import.meta.url));

/** Every (check, client) it fails, with the reason: the same shape as expected failures. */
export async function loadPinnedFailures(file = PINNED_FAILURES_FILE): Promise<Array<ExpectedFailure & { client: string }>> {
  return JSON.parse(await readFile(file, 'utf8')) as Array<ExpectedFailure & { client: string }>;
}

export interface WrittenTarget {
  targetFile: string;
  profileFile: string;
  env: Record<string, string>;
  maxWaitSeconds: number;
}

export async function writeOauth2MockServerTarget(running: RunningOauth2MockServer, dir: string): Promise<WrittenTarget> {
  const env: Record<string, string> = { OAUTH2_MOCK_SERVER_PASSWORD: running.users[0]!.password };
  const clients = running.clients.map((c) => {
    if (c.secret === undefined) return c;
    env.OAUTH2_MOCK_SERVER_SECRET = c.secret;
    return { ...c, secret: '${OAUTH2_MOCK_SERVER_SECRET}' };
  });
  const maxWaitSeconds = longestWait(running.profile, running.clients.map((c) => ({ ...c, scope: c.scope ?? 'openid' }))) + 1;
  const target = {
    name: 'oauth2-mock-server 8',
    issuer: running.issuer,
    clients,
    login: { driver: 'form', username: running.users[0]!.username, password: '${OAUTH2_MOCK_SERVER_PASSWORD}' },
    logout: { driver: 'end-session', postLogoutRedirectUri: running.postLogoutRedirectUri },
    clock: { driver: 'real', maxWaitSeconds },
    timeouts: { requestMs: 10_000, runMs: 300_000 },
  };
  const files = await writeTargetFiles(path.resolve(dir), running.profile, target);
  return { ...files, env, maxWaitSeconds };
}
