/**
 * The target file for a running DOT, as its operator would write it: secrets and the password as
 * ${ENV} placeholders, the discovery URL with its trailing slash, the revocation and introspection
 * endpoints DOT's discovery does not list, form login through Django's login page and DOT's
 * authorization form, no logout (DOT 1.7 has no RP-initiated logout), the real clock.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ExpectedFailure } from '../../suites/harness/target.ts';
import type { WrittenTarget } from '../cli.ts';
import { longestWait, writeTargetFiles } from '../scale.ts';
import type { RunningDot } from './launch.ts';

export const EXPECTED_FAILURES_FILE = fileURLToPath(new URL('./expected-failures.json', import.meta.url));

/** Every (check, client) DOT fails against its own documented profile, each with the documented behaviour it contradicts. */
export async function loadExpectedFailures(file = EXPECTED_FAILURES_FILE): Promise<Array<ExpectedFailure & { client: string }>> {
  return JSON.parse(await readFile(file, 'utf8')) as Array<ExpectedFailure & { client: string }>;
}

/**
 * Checks at once: fewer than for node-oidc-provider (16). DOT parses its RSA key from PEM on every
 * code exchange (jwcrypto, with the key's consistency check: ~0.3 s on a busy 2-core machine), in
 * two GIL-bound worker processes, so 16 logins at once queue a code exchange past its timeout.
 */
export const CONCURRENCY = 8;

function envName(clientId: string): string {
  return `DOT_SECRET_${clientId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export async function writeDotTarget(running: RunningDot, dir: string): Promise<WrittenTarget> {
  const env: Record<string, string> = { DOT_PASSWORD: running.users[0]!.password };
  const clients = running.clients.map((c) => {
    if (c.secret === undefined) return c;
    env[envName(c.id)] = c.secret;
    return { ...c, secret: `\${${envName(c.id)}}` };
  });
  const maxWaitSeconds = longestWait(running.profile, running.clients.map((c) => ({ ...c, scope: c.scope ?? 'openid' }))) + 1;
  const target = {
    name: 'Django OAuth Toolkit 1.7 (Debian)',
    issuer: running.issuer,
    discoveryUrl: running.discoveryUrl,
    endpoints: running.endpoints,
    clients,
    login: { driver: 'form', username: running.users[0]!.username, password: '${DOT_PASSWORD}' },
    logout: { driver: 'none' },
    clock: { driver: 'real', maxWaitSeconds },
    // The CLI's default (the CPUs) would queue checks between their steps on a 2-core machine.
    concurrency: CONCURRENCY,
    // A code exchange can queue behind others for several seconds on a busy machine (CONCURRENCY above).
    timeouts: { requestMs: 30_000, runMs: 300_000 },
  };
  const files = await writeTargetFiles(path.resolve(dir), running.profile, target);
  return { ...files, env, maxWaitSeconds };
}
