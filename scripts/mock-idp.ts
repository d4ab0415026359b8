/**
 * npm run mock-idp -- --profile telenorid-plus --port 4455
 * Starts the mock IdP on 127.0.0.1, prints the issuer, clients, test users and how to log in.
 */
import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { serveMockIdp } from '../mock-idp/adapters/node-http.ts';
import { createClock, DEFECTS, isDefect, listProfiles, loadProfile, ProfileError } from '../mock-idp/index.ts';

const HELP = `Usage: npm run mock-idp -- [options]

  --profile NAME|FILE   profile to serve: a name from --list-profiles, or a profile file [telenorid-plus]
  --port N              port on 127.0.0.1; 0 picks a free one                            [4455]
  --host ADDR           loopback address to bind                                          [127.0.0.1]
  --allow-host HOST     also answer requests for HOST (name or name:port; repeatable); any
                        Host but the issuer's and these gets 421 (DNS rebinding)
  --no-test-mode        disable the login_hint shortcut and the /__control API
  --admin-token TOKEN   admin token for /__control (default: random per run; env MOCK_IDP_ADMIN_TOKEN)
  --signing-alg ALG     ES256 | RS256 | EdDSA                                             [ES256]
  --write-target FILE   write a target file for this server (form login, end-session logout)
  --defect NAME         deviate from the profile in one seeded way (repeatable); see --list-defects
  --list-defects        print the defect names and exit
  --list-profiles       print the built-in profiles (name, title, policies; tab-separated) and exit
  -h, --help            this text
`;

function fail(message: string): never {
  process.stderr.write(`mock-idp: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      profile: { type: 'string', default: 'telenorid-plus' },
      port: { type: 'string', default: '4455' },
      host: { type: 'string', default: '127.0.0.1' },
      'allow-host': { type: 'string', multiple: true, default: [] },
      'test-mode': { type: 'boolean', default: true },
      'no-test-mode': { type: 'boolean', default: false },
      'admin-token': { type: 'string' },
      'signing-alg': { type: 'string', default: 'ES256' },
      'write-target': { type: 'string' },
      defect: { type: 'string', multiple: true, default: [] },
      'list-defects': { type: 'boolean', default: false },
      'list-profiles': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(`${(e as Error).message}\n\n${HELP}`);
}
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (args['list-defects']) {
  process.stdout.write(`${DEFECTS.join('\n')}\n`);
  process.exit(0);
}
if (args['list-profiles']) {
  try {
    process.stdout.write(await listProfiles());
  } catch (e) {
    fail(e instanceof ProfileError ? e.message.split('\n').join(' ') : String(e));
  }
  process.exit(0);
}
const unknownDefects = args.defect.filter((d) => !isDefect(d));
if (unknownDefects.length) fail(`unknown defect(s) ${unknownDefects.join(', ')}; known: ${DEFECTS.join(', ')}`);
const defects = args.defect.filter(isDefect);
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${args.port}`);
if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(args.host)) fail('--host must be a loopback address: the mock is for tests');
const badHost = args['allow-host'].find((h) => !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(h));
if (badHost !== undefined) fail(`--allow-host must be a host name or name:port, got ${JSON.stringify(badHost)}`);
const alg = args['signing-alg'];
if (alg !== 'ES256' && alg !== 'RS256' && alg !== 'EdDSA') fail(`--signing-alg must be ES256, RS256 or EdDSA`);
const testMode = args['test-mode'] && !args['no-test-mode'];

let profile;
try {
  profile = await loadProfile(args.profile);
} catch (e) {
  fail(e instanceof ProfileError ? e.message : String(e));
}

let running;
try {
  running = await serveMockIdp(
    {
      profile,
      testMode,
      signingAlg: alg,
      clock: createClock({ mode: 'running' }),
      defects,
      allowedHosts: args['allow-host'],
      ...((args['admin-token'] ?? process.env.MOCK_IDP_ADMIN_TOKEN) && { adminToken: args['admin-token'] ?? process.env.MOCK_IDP_ADMIN_TOKEN }),
      onError: (error, request) => process.stderr.write(`mock-idp: unexpected error on ${request.method} ${new URL(request.url).pathname}: ${String(error)}\n`),
    },
    { host: args.host, port },
  );
} catch (e) {
  fail(`cannot listen on ${args.host}:${port}: ${(e as Error).message}`);
}
const { idp, url } = running;

const lines = [
  `mock-idp serving profile "${profile.name}" (${profile.title})`,
  ...(defects.length ? [`DEFECTS ACTIVE (deliberate deviations from the profile): ${defects.join(', ')}`] : []),
  `issuer:     ${url}`,
  ...(args['allow-host'].length ? [`also answers for: ${args['allow-host'].join(', ')} (other Host headers get 421)`] : []),
  `discovery:  ${url}/.well-known/openid-configuration`,
  '',
  'clients (fixture credentials):',
  ...idp.clients.map(
    (c) =>
      `  ${c.id.padEnd(20)} policy ${c.policy.padEnd(18)} ${c.confidential ? `secret ${c.secret}` : 'public (PKCE, no secret)'}` +
      `${c.resourceServer ? ' · resource server (may introspect any client\'s tokens)' : ''}\n` +
      `  ${''.padEnd(20)} redirect_uri ${c.redirectUris[0]}`,
  ),
  '',
  'test users (username / password):',
  ...idp.users.map((u) => `  ${u.username.padEnd(28)} ${u.password}`),
  '',
  'log in: open the authorization endpoint, e.g.',
  `  ${url}/authorize?response_type=code&client_id=${idp.clients.find((c) => c.confidential)?.id ?? idp.clients[0]!.id}&redirect_uri=...&scope=openid%20offline_access&state=xyz`,
  '  and submit the form with a test user (public clients also need code_challenge + code_challenge_method=S256).',
];
if (testMode) {
  lines.push(
    '  test mode: add login_hint=<username> to skip the form.',
    '',
    `control API (test mode): ${url}/__control  with  Authorization: Bearer ${idp.adminToken}`,
    `  POST /clock/advance {"seconds":N} · GET /clock · POST /sso/end {"username":..} · POST /grants/revoke {"username":..}`,
    `  GET /families?username=.. · POST /reset`,
  );
}

if (args['write-target']) {
  const target = {
    name: `mock-idp ${profile.name} on ${url}`,
    issuer: url,
    profile: profile.name,
    clients: idp.clients
      .filter((c) => c.grantTypes.includes('authorization_code'))
      .map((c) => ({
        id: c.id,
        ...(c.secret !== undefined && { secret: '${MOCK_IDP_CLIENT_SECRET_' + c.id.toUpperCase().replace(/-/g, '_') + '}' }),
        auth: c.confidential ? 'client_secret_basic' : 'none',
        redirectUri: c.redirectUris[0],
        policy: c.policy,
      })),
    control: { adminToken: '${MOCK_IDP_ADMIN_TOKEN}' },
    login: { driver: 'form', username: idp.users[0]!.username, password: '${MOCK_IDP_PASSWORD}' },
    logout: { driver: 'end-session' },
    clock: { driver: 'mock' },
  };
  await writeFile(args['write-target'], JSON.stringify(target, null, 2) + '\n');
  lines.push('', `wrote target file ${args['write-target']}; set these environment variables to use it:`);
  for (const c of idp.clients.filter((c) => c.secret !== undefined)) {
    lines.push(`  MOCK_IDP_CLIENT_SECRET_${c.id.toUpperCase().replace(/-/g, '_')}=${c.secret}`);
  }
  lines.push(`  MOCK_IDP_PASSWORD=${idp.users[0]!.password}`, ...(testMode ? [`  MOCK_IDP_ADMIN_TOKEN=${idp.adminToken}`] : []));
}
lines.push('', 'Ctrl-C stops the server.');
process.stdout.write(lines.join('\n') + '\n');

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping mock-idp\n`);
  await running!.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
