/**
 * The target file for a running oidc-provider, as a vendor would write it: secrets as ${ENV}
 * placeholders, form login through its devInteractions pages, RP-initiated logout through its
 * end_session confirmation page, the real clock with maxWaitSeconds just above the longest wait.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import { longestWait, writeTargetFiles } from '../scale.ts';
import type { RunningOidcProvider } from './launch.ts';

export const EXPECTED_FAILURES_FILE = fileURLToPath(new URL('./expected-failures.json', import.meta.url));
/** The expected failures of node-oidc-provider with its defaults against the node-oidc-provider profile. */
export const DEFAULTS_EXPECTED_FAILURES_FILE = fileURLToPath(new URL('./expected-failures.defaults.json', import.meta.url));

/**
 * The real-time budget of a run against its unscaled defaults (14-day refresh tokens, 1-hour access
 * tokens): checks needing a longer wait are skipped and say so; the ones waiting seconds still run.
 */
export const DEFAULTS_MAX_WAIT_SECONDS = 30;

export async function loadExpectedFailures(file = EXPECTED_FAILURES_FILE): Promise<ExpectedFailure[]> {
  return JSON.parse(await readFile(file, 'utf8')) as ExpectedFailure[];
}

function envName(clientId: string): string {
  return `OIDC_PROVIDER_SECRET_${clientId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export interface WrittenTarget {
  targetFile: string;
  profileFile: string;
  /** The environment the target file's ${...} placeholders need. */
  env: Record<string, string>;
  maxWaitSeconds: number;
}

/** `maxWaitSeconds`: the run's real-time budget; default just above the longest wait of an applicable check. */
export async function writeOidcProviderTarget(running: RunningOidcProvider, dir: string, options: { maxWaitSeconds?: number } = {}): Promise<WrittenTarget> {
  const env: Record<string, string> = { OIDC_PROVIDER_PASSWORD: running.users[0]!.password };
  const clients = running.clients.map((c) => {
    if (c.secret === undefined) return c;
    env[envName(c.id)] = c.secret;
    return { ...c, secret: `\${${envName(c.id)}}` };
  });
  const maxWaitSeconds = options.maxWaitSeconds ?? longestWait(running.profile, running.clients.map((c) => ({ ...c, scope: c.scope ?? 'openid' }))) + 1;
  const target = {
    name: `node-oidc-provider 9 (${running.profile.name})`,
    issuer: running.issuer,
    clients,
    login: { driver: 'form', username: running.users[0]!.username, password: '${OIDC_PROVIDER_PASSWORD}' },
    logout: { driver: 'end-session' },
    clock: { driver: 'real', maxWaitSeconds },
    timeouts: { requestMs: 10_000, runMs: 300_000 },
  };
  const files = await writeTargetFiles(path.resolve(dir), running.profile, target);
  return { ...files, env, maxWaitSeconds };
}
