/**
 * Django OAuth Toolkit (Debian python3-django-oauth-toolkit 1.7, Django 3.2) served by Debian's
 * gunicorn on a free loopback port, as a real third-party target for the suites.
 *
 * One start: a temp dir (the sqlite database and this run's RSA signing key), the database
 * provisioned by provision.py (migrations, one test user, one application per policy of the
 * profile), then gunicorn in its own process group. close() ends the whole group and removes the
 * dir. Every step is bounded and a failure names the step. The Django project is dotserver/; its
 * settings keep DOT's documented defaults except the lifetimes, which come from the profile
 * scaled to a few seconds (wall-clock-mock/profile.ts withLifetimesOf).
 *
 * Debian's interpreter and packages are used on purpose (/usr/bin/python3, /usr/bin/gunicorn),
 * never a python3 found on PATH (pyenv and friends have no Debian dist-packages).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile, type Profile } from '../../mock-idp/profile/index.ts';
import { clientsForProfile } from '../clients.ts';
import type { TargetFileClient } from '../scale.ts';
import { withLifetimesOf } from '../wall-clock-mock/profile.ts';

export const PYTHON = '/usr/bin/python3';
export const GUNICORN = '/usr/bin/gunicorn';
/** The Django project (dotserver/) and provision.py live here. */
export const SERVER_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Refresh-token lifetimes of the run (s). README "The real clock" finds 6 s enough for the mock,
 * but a DOT login and code exchange take seconds on a busy 2-core machine (measured: round trips
 * of up to 7 s at a load average of 17), and at 6 s the refusal checks came out inconclusive ("it
 * may have expired on the way") and the sliding window empty. 15 s keeps them conclusive.
 */
export const DEFAULT_LIFETIMES = 15;

export type DotErrorCode = 'DOT_UNAVAILABLE' | 'DOT_PROVISION_FAILED' | 'DOT_START_FAILED' | 'DOT_STOP_FAILED';

export class DotError extends Error {
  override readonly name = 'DotError';
  constructor(
    readonly code: DotErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** What is missing to run DOT here (empty: everything is installed). */
export async function missingDebianPackages(): Promise<string[]> {
  const missing: string[] = [];
  const exists = async (file: string) => access(file).then(() => true, () => false);
  if (!(await exists(PYTHON))) missing.push(`python3 (${PYTHON})`);
  if (!(await exists(GUNICORN))) missing.push(`gunicorn (${GUNICORN})`);
  if (missing.length === 0) {
    const probe = await runPython(['-c', 'import django, oauth2_provider, jwcrypto; print(django.get_version(), oauth2_provider.__version__)'], '', {}, 20_000);
    if (probe.code !== 0) missing.push(`python3-django-oauth-toolkit (${PYTHON} cannot import it: ${lastLines(probe.stderr)})`);
  }
  return missing;
}

export interface StartDotOptions {
  /** Refresh-token lifetimes of the run (withLifetimesOf); default DEFAULT_LIFETIMES. */
  lifetimes?: number;
  /** The unscaled profile; default django-oauth-toolkit. */
  profile?: Profile;
  /** Port on 127.0.0.1; default 0 (a free one, as gunicorn reports it). */
  port?: number;
  /** Bounds: provisioning (migrations) and gunicorn's start-up until discovery answers; default 60 s each. */
  provisionTimeoutMs?: number;
  startTimeoutMs?: number;
  /** gunicorn's and Django's stderr lines (errors, tracebacks); default: dropped after start-up. */
  onLog?: (line: string) => void;
}

export interface RunningDot {
  /** DOT's OIDC issuer: http://127.0.0.1:PORT/o */
  issuer: string;
  /** Where its discovery document is: only with a trailing slash (the spec's path answers 301). */
  discoveryUrl: string;
  /** Not in its discovery document. */
  endpoints: { revocation: string; introspection: string };
  /** The scaled profile the run is checked against. */
  profile: Profile;
  /** One application per policy, with the secret of the confidential ones. */
  clients: TargetFileClient[];
  users: { username: string; password: string }[];
  /** gunicorn's pid, the leader of its process group. */
  pid: number;
  /** The temp dir (database, key); removed by close(). */
  dir: string;
  close(): Promise<void>;
}

export async function startDot(options: StartDotOptions = {}): Promise<RunningDot> {
  const missing = await missingDebianPackages();
  if (missing.length) throw new DotError('DOT_UNAVAILABLE', `missing Debian packages: ${missing.join(', ')} (apt-get install python3-django-oauth-toolkit gunicorn)`);
  const lifetimes = options.lifetimes ?? DEFAULT_LIFETIMES;
  const profile = withLifetimesOf(options.profile ?? (await loadProfile('django-oauth-toolkit')), lifetimes);
  const policies = Object.values(profile.policies);
  // DOT has one REFRESH_TOKEN_EXPIRE_SECONDS for every application: its profile's policies share one lifetime.
  const refreshLifetime = Math.max(...policies.map((p) => p.lifetimeSeconds ?? 0));
  const clients = clientsForProfile(profile, () => randomBytes(24).toString('base64url'));
  const users = [{ username: 'alice', password: randomBytes(18).toString('base64url') }];

  const dir = await mkdtemp(path.join(tmpdir(), 'interop-dot-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(path.join(dir, 'oidc.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const env: Record<string, string> = {
      DOT_STATE_DIR: dir,
      DOT_SECRET_KEY: randomBytes(32).toString('base64url'),
      DOT_ACCESS_TOKEN_SECONDS: String(profile.accessTokenLifetimeSeconds),
      DOT_ID_TOKEN_SECONDS: String(profile.idTokenLifetimeSeconds),
      DOT_REFRESH_TOKEN_SECONDS: String(refreshLifetime),
      DOT_SESSION_SECONDS: String(profile.ssoSessionLifetimeSeconds),
    };

    const spec = {
      users,
      applications: clients.map((c) => {
        const policy = profile.policies[c.policy]!;
        return {
          client_id: c.id,
          ...(c.secret !== undefined && { client_secret: c.secret }),
          client_type: policy.confidential ? 'confidential' : 'public',
          // DOT: one grant type per application; refresh_token comes with authorization-code.
          grant_type: policy.grantTypes.includes('authorization_code') ? 'authorization-code' : 'client-credentials',
          redirect_uris: [c.redirectUri],
        };
      }),
    };
    const provisioned = await runPython([path.join(SERVER_DIR, 'provision.py')], JSON.stringify(spec), env, options.provisionTimeoutMs ?? 60_000);
    if (provisioned.code !== 0) {
      throw new DotError('DOT_PROVISION_FAILED', `provision.py (migrations, users, applications) ${provisioned.timedOut ? 'did not finish in time' : `exited with ${provisioned.code}`}: ${lastLines(provisioned.stderr)}`);
    }

    const server = await startGunicorn(env, options.port ?? 0, options.startTimeoutMs ?? 60_000, options.onLog);
    const origin = `http://127.0.0.1:${server.port}`;
    return {
      issuer: `${origin}/o`,
      discoveryUrl: `${origin}/o/.well-known/openid-configuration/`,
      endpoints: { revocation: `${origin}/o/revoke_token/`, introspection: `${origin}/o/introspect/` },
      profile,
      clients,
      users,
      pid: server.pid,
      dir,
      async close() {
        try {
          await server.stop();
        } finally {
          await removeDir();
        }
      },
    };
  } catch (e) {
    await removeDir();
    throw e;
  }
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // The test runner's markers stay (scripts/test-setup finds leaked children by them); Python's
  // search path is Debian's plus the Django project, never a pyenv's.
  const { PYTHONHOME: _home, PYENV_VERSION: _pyenv, VIRTUAL_ENV: _venv, ...rest } = process.env;
  return {
    ...rest,
    ...env,
    PATH: '/usr/bin:/bin',
    PYTHONPATH: SERVER_DIR,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    DJANGO_SETTINGS_MODULE: 'dotserver.settings',
  };
}

interface Finished {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Runs Debian's python3 to completion (killed after `timeoutMs`), `input` on its stdin. */
function runPython(args: string[], input: string, env: Record<string, string>, timeoutMs: number): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { cwd: SERVER_DIR, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, timedOut, stdout, stderr: `${stderr}${e.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // it may exit before reading everything: its exit code says why
    child.stdin.end(input);
  });
}

function lastLines(text: string, n = 6): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.length ? lines.slice(-n).join(' | ') : '(no output)';
}

interface Gunicorn {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const LISTENING = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/;

/**
 * gunicorn on 127.0.0.1 (port 0: a free one), in its own process group (detached), until its discovery answers.
 *   --worker-class gthread --threads 8: the suites' checks run 16 at once, and the sync worker
 *     would serve one request per worker process;
 *   --workers 2: the machine has 2 cores; sqlite serialises writers anyway (BEGIN IMMEDIATE);
 *   --keep-alive 30: gunicorn drops an idle keep-alive connection after 2 s by default, while
 *     undici's pool reuses one for 4 s unless told otherwise (Keep-Alive: timeout=), so a reused
 *     socket would race its close (UND_ERR_SOCKET); 30 s outlives undici's reuse;
 *   --graceful-timeout 2: close() should not wait for idle connections.
 */
async function startGunicorn(env: Record<string, string>, port: number, timeoutMs: number, onLog?: (line: string) => void): Promise<Gunicorn> {
  const args = [
    GUNICORN,
    '--chdir', SERVER_DIR,
    '--bind', `127.0.0.1:${port}`,
    '--workers', '2',
    '--worker-class', 'gthread',
    '--threads', '8',
    '--keep-alive', '30',
    '--graceful-timeout', '2',
    // info: the "Listening at" line carries the port it bound; other [INFO] lines are dropped below.
    '--log-level', 'info',
    'dotserver.wsgi:application',
  ];
  const child = spawn(PYTHON, args, { cwd: SERVER_DIR, env: childEnv(env), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = () => stopGroup(child, exited);
  let log = '';
  const started = Date.now();
  try {
    const bound = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DotError('DOT_START_FAILED', `gunicorn did not report "Listening at" within ${timeoutMs} ms: ${lastLines(log)}`)), timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new DotError('DOT_START_FAILED', `gunicorn could not be started: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new DotError('DOT_START_FAILED', `gunicorn exited (${signal ?? `code ${code}`}) before listening: ${lastLines(log)}`));
      });
      let buffered = '';
      child.stderr!.on('data', (d: Buffer) => {
        buffered += d.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          log += `${line}\n`;
          const m = LISTENING.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          } else if (!/\[INFO\]/.test(line)) onLog?.(line);
        }
      });
    });
    // Workers import Django after the master listens: wait until one answers discovery.
    const url = `http://127.0.0.1:${bound}/o/.well-known/openid-configuration/`;
    let last = '';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new DotError('DOT_START_FAILED', `gunicorn exited while its workers started: ${lastLines(log)}`);
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        if (r.status === 200) break;
        last = `HTTP ${r.status} from ${url}`;
      } catch (e) {
        last = `${url}: ${(e as Error).message}`;
      }
      if (Date.now() - started > timeoutMs) throw new DotError('DOT_START_FAILED', `DOT's discovery did not answer 200 within ${timeoutMs} ms (last: ${last}); gunicorn: ${lastLines(log)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { port: bound, pid: child.pid!, stop };
  } catch (e) {
    // The start's failure is the news; one in stopping what did start is added to it, not lost.
    await stop().catch((s: unknown) => {
      if (e instanceof Error) e.message += `; and stopping gunicorn failed: ${(s as Error).message}`;
    });
    throw e;
  }
}

/** SIGTERM to the whole process group (master and workers), SIGKILL after 5 s; resolves once the master exited. */
async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  // A worker can outlive its master by a moment (the master gives up on it after --graceful-timeout):
  // the group goes, and close() returns only once nothing of it is left (bounded: 10 s).
  signalGroup('SIGKILL');
  const deadline = Date.now() + 10_000;
  while (groupAlive(pid)) {
    if (Date.now() > deadline) throw new DotError('DOT_STOP_FAILED', `gunicorn's process group ${pid} is still alive 10 s after SIGKILL`);
    await new Promise((r) => setTimeout(r, 50));
    signalGroup('SIGKILL');
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
