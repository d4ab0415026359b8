/**
 * npm run interop:django-oauth-toolkit -- [--lifetimes 15] [--port 0] [--dir DIR] [--run] [--json]
 *
 * Serves Django OAuth Toolkit 1.7 from Debian under gunicorn on 127.0.0.1 with refresh-token
 * lifetimes of a few seconds, writes the scaled django-oauth-toolkit profile and a target file for
 * it, and prints how to run the suites against it (with --run: runs them, with the expected
 * failures, and exits with their status).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { howToRun, parseLauncherArgs, printReady, runOrServe, serveUntilStopped } from '../cli.ts';
import { DEFAULT_LIFETIMES, startDot } from './launch.ts';
import { EXPECTED_FAILURES_FILE, writeDotTarget } from './target.ts';

const HELP = `Usage: npm run interop:django-oauth-toolkit -- [options]

Serves Django OAuth Toolkit 1.7 (Debian python3-django-oauth-toolkit, under /usr/bin/gunicorn) on
127.0.0.1 with its documented defaults and short lifetimes, one application per policy of the
django-oauth-toolkit profile, and writes profile.json + target.json for it.

  --lifetimes N  refresh and access tokens of N s, an SSO session of 2N s (default ${DEFAULT_LIFETIMES})
  --port N     port on 127.0.0.1 (default 0: a free one)
  --dir DIR    where to write profile.json and target.json (default: a new temp dir)
  --run        run the suites against it (npm run conformance) with
               interop/django-oauth-toolkit/expected-failures.json, then stop; exit status is theirs
  --json       print one "interop-ready {json}" line (issuer, clients, files, env) and serve
               until stdin closes (for a parent process)
  -h, --help   this text
`;

let options;
let lifetimes = DEFAULT_LIFETIMES;
try {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--lifetimes');
  if (at >= 0) {
    lifetimes = Number(argv[at + 1]);
    if (!Number.isInteger(lifetimes) || lifetimes < 1) throw new Error(`--lifetimes must be a whole number of seconds >= 1, got ${argv[at + 1]}`);
    argv.splice(at, 2);
  }
  options = parseLauncherArgs(argv);
  if (options.scale !== undefined) throw new Error('--scale does not apply: DOT runs with --lifetimes');
} catch (e) {
  process.stderr.write(`interop:django-oauth-toolkit: ${(e as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

let running;
try {
  running = await startDot({ lifetimes, port: options.port, onLog: (l) => process.stderr.write(`dot: ${l}\n`) });
} catch (e) {
  process.stderr.write(`interop:django-oauth-toolkit: ${(e as Error).message}\n`);
  process.exit(2);
}
const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'interop-dot-target-')));
const written = await writeDotTarget(running, dir);

if (options.json) {
  printReady({ issuer: running.issuer, clients: running.clients, users: running.users, ...written });
  serveUntilStopped(running.close, true);
} else {
  const lines = [
    `Django OAuth Toolkit 1.7 serving ${running.profile.title}`,
    `issuer:    ${running.issuer} (discovery ${running.discoveryUrl})`,
    `lifetimes: access token ${running.profile.accessTokenLifetimeSeconds} s, refresh token ${lifetimes} s (REFRESH_TOKEN_EXPIRE_SECONDS: DOT enforces it only in cleartokens), session ${running.profile.ssoSessionLifetimeSeconds} s`,
    `clients:   ${running.clients.map((c) => `${c.id} (${c.policy})`).join(', ')}`,
    `login:     ${running.users[0]!.username}, password in DOT_PASSWORD below (Django's login form, then DOT's authorization form)`,
    '',
    ...howToRun(written, EXPECTED_FAILURES_FILE),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await runOrServe(options, { written, dir, expectedFailuresFile: EXPECTED_FAILURES_FILE, close: running.close, announce: `running the suites (lifetimes of ${lifetimes} s)...` });
}
