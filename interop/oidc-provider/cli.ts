/**
 * npm run interop:oidc-provider -- [--scale 0.0001 | --lifetimes 4 | --defaults] [--port 0] [--dir DIR] [--run]
 *
 * Serves node-oidc-provider configured for the TelenorID+ policies with lifetimes scaled by --scale,
 * writes the scaled profile and a target file for it, and prints how to run the suites against it
 * (with --run: runs them, with the documented expected failures, and exits with their status).
 * With --defaults: node-oidc-provider with no refresh configuration, against the node-oidc-provider profile.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CI_SCALE, formatScale } from '../scale.ts';
import { howToRun, parseLauncherArgs, printReady, runOrServe, serveUntilStopped } from '../cli.ts';
import { startOidcProvider } from './launch.ts';
import { DEFAULTS_EXPECTED_FAILURES_FILE, DEFAULTS_MAX_WAIT_SECONDS, EXPECTED_FAILURES_FILE, writeOidcProviderTarget } from './target.ts';

const HELP = `Usage: npm run interop:oidc-provider -- [options]

Serves node-oidc-provider 9 on 127.0.0.1, configured to implement the TelenorID+ refresh policies
(one client per policy) with lifetimes scaled down, and writes profile.json + target.json for it.

  --scale S    lifetime scale, e.g. 0.0001 or 1/648000 (default 1/648000: 90 d -> 12 s); floors apply
  --lifetimes N  instead of --scale: refresh tokens of N s (3N where they outlive the SSO session),
               an SSO session of 2N s (a real-clock stress of the suites' timing)
  --defaults   instead: node-oidc-provider with its own defaults (no refresh configuration, nothing
               scaled) against the node-oidc-provider profile; checks needing more than
               ${DEFAULTS_MAX_WAIT_SECONDS} s of real time are skipped
  --dpop       its DPoP feature on (RFC 9449): public clients' refresh tokens bound to their proof
               key, nonces demanded; the profile declares it (senderConstraint dpop, dpopNonce)
  --port N     port on 127.0.0.1 (default 0: a free one)
  --dir DIR    where to write profile.json and target.json (default: a new temp dir)
  --run        run the suites against it (npm run conformance) with
               interop/oidc-provider/expected-failures.json (expected-failures.defaults.json
               with --defaults), then stop; exit status is theirs
  --json       print one "interop-ready {json}" line (issuer, clients, files, env) and serve
               until stdin closes (for a parent process)
  -h, --help   this text
`;

let options;
let lifetimes: number | undefined;
let defaults = false;
let dpop = false;
try {
  // --lifetimes, --defaults and --dpop are this launcher's own; the rest are the shared launcher options.
  const argv = process.argv.slice(2);
  const d = argv.indexOf('--defaults');
  if (d >= 0) {
    defaults = true;
    argv.splice(d, 1);
  }
  const dpopAt = argv.indexOf('--dpop');
  if (dpopAt >= 0) {
    dpop = true;
    argv.splice(dpopAt, 1);
  }
  const at = argv.indexOf('--lifetimes');
  if (at >= 0) {
    lifetimes = Number(argv[at + 1]);
    if (!Number.isInteger(lifetimes) || lifetimes < 1) throw new Error(`--lifetimes must be a whole number of seconds >= 1, got ${argv[at + 1]}`);
    argv.splice(at, 2);
  }
  options = parseLauncherArgs(argv);
  if (lifetimes !== undefined && options.scale !== undefined) throw new Error('--lifetimes and --scale exclude each other');
  if (defaults && (lifetimes !== undefined || options.scale !== undefined)) throw new Error('--defaults excludes --scale and --lifetimes (its lifetimes are its own)');
  if (defaults && dpop) throw new Error('--defaults and --dpop exclude each other (--dpop configures DPoP on the served profile)');
} catch (e) {
  process.stderr.write(`interop:oidc-provider: ${(e as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const running = await startOidcProvider({
  port: options.port,
  ...(options.scale !== undefined && { scale: options.scale }),
  ...(lifetimes !== undefined && { lifetimes }),
  defaults,
  dpop,
  onServerError: (e) => process.stderr.write(`interop:oidc-provider: server_error: ${e.stack ?? String(e)}\n`),
});
const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'interop-oidc-provider-')));
const written = await writeOidcProviderTarget(running, dir, defaults ? { maxWaitSeconds: DEFAULTS_MAX_WAIT_SECONDS } : {});
const expectedFailuresFile = defaults ? DEFAULTS_EXPECTED_FAILURES_FILE : EXPECTED_FAILURES_FILE;

if (options.json) {
  printReady({ issuer: running.issuer, clients: running.clients, users: running.users, ...written });
  serveUntilStopped(running.close, true);
} else {
  const policies = Object.entries(running.profile.policies);
  const lines = [
    `node-oidc-provider serving ${running.profile.title}`,
    `issuer:    ${running.issuer}`,
    `lifetimes: SSO session ${running.profile.ssoSessionLifetimeSeconds} s, access token ${running.profile.accessTokenLifetimeSeconds} s; ` +
      policies.map(([n, p]) => `${n} ${p.refresh ? `${p.lifetimeSeconds} s ${p.expiry}` : 'no refresh'}`).join(', '),
    `clients:   ${running.clients.map((c) => `${c.id} (${c.policy})`).join(', ')}`,
    `login:     any username and password (devInteractions); the target uses ${running.users[0]!.username}`,
    '',
    ...howToRun(written, expectedFailuresFile),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await runOrServe(options, {
    written,
    dir,
    expectedFailuresFile,
    close: running.close,
    announce: `running the suites (${defaults ? 'its defaults, unscaled' : lifetimes !== undefined ? `lifetimes of ${lifetimes} s` : `scale ${formatScale(options.scale ?? CI_SCALE)}`})...`,
  });
}
