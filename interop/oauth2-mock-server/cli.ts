/**
 * npm run interop:oauth2-mock-server -- [--scale 0.0001] [--port 0] [--dir DIR] [--run]
 *
 * Serves oauth2-mock-server (a lenient mock: no login page, any client, any refresh token) and writes
 * the scaled TelenorID+ profile and a target file for it; with --run, runs the suites with its pinned
 * failures as the expected-failures list: the worked example of a vendor report.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { howToRun, parseLauncherArgs, printReady, runOrServe, serveUntilStopped } from '../cli.ts';
import { startOauth2MockServer } from './launch.ts';
import { PINNED_FAILURES_FILE, writeOauth2MockServerTarget } from './target.ts';

const HELP = `Usage: npm run interop:oauth2-mock-server -- [options]

Serves oauth2-mock-server 8 on 127.0.0.1 and writes profile.json + target.json for it (the
TelenorID+ profile with lifetimes scaled down, one client per policy).

  --scale S    lifetime scale, e.g. 0.0001 or 1/648000 (default 1/648000: 90 d -> 12 s); floors apply
  --port N     port on 127.0.0.1 (default 0: a free one)
  --dir DIR    where to write profile.json and target.json (default: a new temp dir)
  --run        run the suites against it (npm run conformance) with
               interop/oauth2-mock-server/pinned-failures.json as expected failures, then stop
  --json       print one "interop-ready {json}" line and serve until stdin closes
  -h, --help   this text
`;

let options;
try {
  options = parseLauncherArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`interop:oauth2-mock-server: ${(e as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const running = await startOauth2MockServer({ port: options.port, ...(options.scale !== undefined && { scale: options.scale }) });
const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'interop-oauth2-mock-server-')));
const written = await writeOauth2MockServerTarget(running, dir);

if (options.json) {
  printReady({ issuer: running.issuer, clients: running.clients, users: running.users, ...written });
  serveUntilStopped(running.close, true);
} else {
  const lines = [
    `oauth2-mock-server serving on ${running.issuer} (checked against ${running.profile.title})`,
    `clients:   ${running.clients.map((c) => `${c.id} (${c.policy})`).join(', ')}  (it accepts any client)`,
    '',
    ...howToRun(written, PINNED_FAILURES_FILE),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await runOrServe(options, { written, dir, expectedFailuresFile: PINNED_FAILURES_FILE, close: running.close, announce: 'running the suites...' });
}
