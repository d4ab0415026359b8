/**
 * refresh-conformance-mock / npm run mock-idp -- --profile telenorid-plus --port 4455
 * The mock IdP as a service: on 127.0.0.1 by default; clients and users from --config FILE and
 * flags; HTTPS with your certificate or a generated one. Prints the issuer, clients, users and how to log in.
 */
import { parseArgs } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { serveMockIdp } from '../mock-idp/adapters/node-http.ts';
import { createClock, DEFECTS, isDefect, listProfiles, loadProfile, ProfileError } from '../mock-idp/index.ts';
import { randomToken } from '../mock-idp/crypto.ts';
import { checkBind, isLoopback } from '../mock-idp/service/bind.ts';
import { MEMORY_STORE, parseStoreOption, type StoreOption } from '../mock-idp/service/store-option.ts';
import { openStore } from '../mock-idp/service/open-store.ts';
import type { MockStore } from '../mock-idp/store.ts';
import {
  parseClientFlag,
  parseServiceConfig,
  parseUserFlag,
  resolveClients,
  resolveUsers,
  ServiceConfigError,
  type ServiceConfig,
} from '../mock-idp/service/config.ts';

const HELP = `Usage: refresh-conformance-mock [options]
       npm run mock-idp -- [options]

  --profile NAME|FILE   profile to serve: a name from --list-profiles, or a profile file
                        [the config's "profile", else telenorid-plus]
  --config FILE         clients and users to serve (JSON; see the README, "The mock as a service")
  --client ID:POLICY:REDIRECT_URI
                        also serve this client (repeatable); a confidential policy's secret is
                        MOCK_IDP_CLIENT_SECRET_<ID> from the environment, else generated and printed
  --user NAME:PASSWORD  also serve this user (repeatable)
  --port N              port; 0 picks a free one                                          [4455]
  --host ADDR           address to bind                                                   [127.0.0.1]
  --allow-remote        allow a --host other than loopback (0.0.0.0, a LAN address); test mode
                        then needs --admin-token (or MOCK_IDP_ADMIN_TOKEN), 16 characters or more
  --issuer URL          the issuer clients use, if not scheme://host:port (needed with --host
                        0.0.0.0); {port} in it is replaced by the port bound
  --allow-host HOST     also answer requests for HOST (name or name:port; repeatable); any
                        Host but the issuer's and these gets 421 (DNS rebinding)
  --https               serve HTTPS: with --cert and --key, or a generated certificate whose CA is
                        printed (and written with --write-ca) for clients to trust
  --cert FILE           certificate chain (PEM) for --https
  --key FILE            private key (PEM) for --https
  --write-ca FILE       write the generated CA certificate to FILE (e.g. for NODE_EXTRA_CA_CERTS)
  --no-test-mode        disable the login_hint shortcut and the /__control API
  --admin-token TOKEN   admin token for /__control (default on loopback: random per run, or the first
                        replica's with a Redis --store; env MOCK_IDP_ADMIN_TOKEN)
  --store memory|redis://HOST:PORT/DB
                        where the state is kept: in this process (default), or a Redis server that
                        several replicas share: give them the same --store, --issuer (the address
                        clients use, e.g. a load balancer's), profile, config and --admin-token;
                        they share token families, sessions, codes, the clock and the signing keys.
                        Redis unreachable at start: exit 2                      [the config's "store", else memory]
  --signing-alg ALG     ES256 | RS256 | EdDSA                                             [ES256]
  --write-target FILE   write a target file for this server (form login, end-session logout)
  --defect NAME         deviate from the profile in one seeded way (repeatable); see --list-defects
  --list-defects        print each defect's name and what it breaks, and exit
  --list-profiles       print the built-in profiles (name, title, policies; tab-separated) and exit
  -h, --help            this text
`;

function fail(message: string): never {
  process.stderr.write(`mock-idp: ${message}\n`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        profile: { type: 'string' },
        config: { type: 'string' },
        client: { type: 'string', multiple: true, default: [] },
        user: { type: 'string', multiple: true, default: [] },
        port: { type: 'string', default: '4455' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-remote': { type: 'boolean', default: false },
        issuer: { type: 'string' },
        'allow-host': { type: 'string', multiple: true, default: [] },
        https: { type: 'boolean', default: false },
        cert: { type: 'string' },
        key: { type: 'string' },
        'write-ca': { type: 'string' },
        'test-mode': { type: 'boolean', default: true },
        'no-test-mode': { type: 'boolean', default: false },
        'admin-token': { type: 'string' },
        store: { type: 'string' },
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
}
const args = parseCommandLine();
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (args['list-defects']) {
  const { defectDescriptions, formatDefectList } = await import('../mock-idp/defect-list.ts');
  process.stdout.write(formatDefectList(await defectDescriptions()));
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
const badHost = args['allow-host'].find((h) => !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(h));
if (badHost !== undefined) fail(`--allow-host must be a host name or name:port, got ${JSON.stringify(badHost)}`);
const alg = args['signing-alg'];
if (alg !== 'ES256' && alg !== 'RS256' && alg !== 'EdDSA') fail(`--signing-alg must be ES256, RS256 or EdDSA`);
const testMode = args['test-mode'] && !args['no-test-mode'];
// An empty MOCK_IDP_ADMIN_TOKEN (a CI variable left blank) is no token.
const adminToken = args['admin-token'] ?? (process.env.MOCK_IDP_ADMIN_TOKEN || undefined);
if ((args.cert === undefined) !== (args.key === undefined)) fail('--cert and --key go together');
if (args.cert !== undefined && !args.https) fail('--cert and --key serve HTTPS: add --https');
if (args['write-ca'] !== undefined && (!args.https || args.cert !== undefined)) fail('--write-ca writes the generated CA: it needs --https without --cert/--key');
try {
  checkBind({ host: args.host, allowRemote: args['allow-remote'], testMode, adminToken, issuer: args.issuer, https: args.https });
} catch (e) {
  fail(e instanceof ServiceConfigError ? e.message : String(e));
}

/** The environment variable that holds a client's secret: MOCK_IDP_CLIENT_SECRET_<ID>. */
function secretEnv(id: string): string {
  return `MOCK_IDP_CLIENT_SECRET_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

async function readConfig(file: string): Promise<ServiceConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ServiceConfigError('CONFIG_UNREADABLE', `--config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseServiceConfig(json, file);
}

/**
 * The issuer, when it is known before listening: replicas on a shared store keep their state under
 * their issuer's key prefix, so it must be the same for all, and known before the store is opened.
 */
function issuerBeforeListening(): string | undefined {
  if (args.issuer !== undefined) return args.issuer.includes('{port}') && port === 0 ? undefined : args.issuer.replace('{port}', String(port)).replace(/\/$/, '');
  if (port === 0) return undefined;
  return `${args.https ? 'https' : 'http'}://${args.host.includes(':') ? `[${args.host}]` : args.host}:${port}`;
}

let profile;
let clients;
let users;
let storeOption: StoreOption = MEMORY_STORE;
let store: MockStore | undefined;
let sharedAdminToken: string | undefined;
try {
  const config = args.config !== undefined ? await readConfig(args.config) : parseServiceConfig({}, 'defaults');
  // A profile file named in the config is relative to it.
  const fromConfig = config.profile && !/^[a-z0-9-]+$/.test(config.profile) ? path.resolve(path.dirname(args.config!), config.profile) : config.profile;
  profile = await loadProfile(args.profile ?? fromConfig ?? 'telenorid-plus');
  if (args.store !== undefined) storeOption = parseStoreOption(args.store, '--store');
  else if (config.store !== undefined) storeOption = parseStoreOption(config.store, `${args.config} store`);
  if (storeOption.kind === 'redis') {
    const issuer = issuerBeforeListening();
    if (issuer === undefined) fail(`--store ${storeOption.display}: replicas share the store under their issuer, unknown until a free port is bound: give --issuer URL (the address clients use) or a --port`);
    try {
      store = await openStore(storeOption, issuer);
    } catch (e) {
      fail(`--store ${storeOption.display}: ${(e as Error).message.split('\n')[0]}`);
    }
    // What a replica would make up on its own is the first replica's: a secret or token printed by any is good for all.
    if (testMode && adminToken === undefined) sharedAdminToken = await store.shared('admin-token', randomToken());
  }
  const secretOf = async (id: string) => process.env[secretEnv(id)] || (store ? await store.shared(`client-secret:${id}`, randomToken(24)) : randomToken(24));
  const flagClients = [];
  for (const [i, flag] of args.client.entries()) {
    const client = parseClientFlag(flag);
    flagClients.push({ client, at: `--client #${i + 1} (${client.id})`, generatedSecret: await secretOf(client.id) });
  }
  clients = resolveClients(profile, [...config.clients.map((client, i) => ({ client, at: `${args.config} clients[${i}]` })), ...flagClients], config.fixtureClients);
  users = resolveUsers(
    [...config.users.map((user, i) => ({ user, at: `${args.config} users[${i}]` })), ...args.user.map((flag, i) => ({ user: parseUserFlag(flag), at: `--user #${i + 1}` }))],
    config.fixtureUsers,
  );
  if (users.length === 0) fail('no users to log in with: the config turns the fixture users off and names none');
} catch (e) {
  if ((e as { code?: unknown }).code === 'STORE_UNAVAILABLE') fail(`--store ${(storeOption as { display: string }).display}: ${(e as Error).message.split('\n')[0]}`);
  fail(e instanceof ProfileError || e instanceof ServiceConfigError ? e.message : String(e));
}

/** The names a generated certificate must cover: the issuer's host, the bind address, the allowed hosts, loopback. */
function certificateHosts(args: { issuer?: string | undefined; host: string; 'allow-host': string[] }): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  if (args.issuer) names.unshift(new URL(args.issuer.replace('{port}', '1')).hostname.replace(/^\[|\]$/g, ''));
  if (!isLoopback(args.host) && args.host !== '0.0.0.0' && args.host !== '::') names.push(args.host);
  for (const h of args['allow-host']) names.push(h.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
  return [...new Set(names)];
}

let tls: { cert: string; key: string } | undefined;
let generatedCa: string | undefined;
if (args.https) {
  if (args.cert !== undefined) {
    try {
      tls = { cert: await readFile(args.cert, 'utf8'), key: await readFile(args.key!, 'utf8') };
    } catch (e) {
      fail(`cannot read --cert/--key: ${(e as Error).message}`);
    }
  } else {
    // node-forge loads only for a generated certificate.
    const { generateTls } = await import('../mock-idp/service/tls.ts');
    const generated = generateTls(certificateHosts(args));
    tls = { cert: generated.cert, key: generated.key };
    generatedCa = generated.ca;
    if (args['write-ca']) await writeFile(args['write-ca'], generated.ca);
  }
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
      clients,
      users,
      allowedHosts: args['allow-host'],
      ...((adminToken ?? sharedAdminToken) && { adminToken: adminToken ?? sharedAdminToken }),
      ...(store && { store }),
      onError: (error, request) => process.stderr.write(`mock-idp: unexpected error on ${request.method} ${new URL(request.url).pathname}: ${String(error)}\n`),
    },
    { host: args.host, port, ...(tls && { tls }), ...(args.issuer && { issuer: args.issuer }) },
  );
} catch (e) {
  // The shared signing keys are read from the store as the IdP is made: Redis may be gone by then.
  if ((e as { code?: unknown }).code === 'STORE_UNAVAILABLE') fail(`--store ${(storeOption as { display: string }).display}: ${(e as Error).message.split('\n')[0]}`);
  fail(`cannot listen on ${args.host}:${port}: ${(e as Error).message}`);
}
const { idp, url } = running;
const listening = `${tls ? 'https' : 'http'}://${args.host.includes(':') ? `[${args.host}]` : args.host}:${running.port}`;

const lines = [
  `mock-idp serving profile "${profile.name}" (${profile.title})`,
  ...(defects.length ? [`DEFECTS ACTIVE (deliberate deviations from the profile): ${defects.join(', ')}`] : []),
  `issuer:     ${url}`,
  // Behind a load balancer the issuer is its address, not this process's.
  ...(isLoopback(args.host) && new URL(url).host !== new URL(listening).host ? [`listening:  ${listening}`] : []),
  ...(storeOption.kind === 'redis' ? [`store:      ${storeOption.display} (shared by every replica of this issuer)`] : []),
  ...(args['allow-host'].length ? [`also answers for: ${args['allow-host'].join(', ')} (other Host headers get 421)`] : []),
  `discovery:  ${url}/.well-known/openid-configuration`,
  ...(isLoopback(args.host) ? [] : [`listening on ${args.host}:${running.port}: other machines can reach it (--allow-remote)${testMode ? '; test mode: login_hint logs in any user without a password' : ''}`]),
  ...(tls && !generatedCa ? [`https:      with the certificate of ${args.cert}`] : []),
  ...(generatedCa
    ? [
        '',
        `https: a certificate generated for this run; clients must trust this CA${args['write-ca'] ? ` (written to ${args['write-ca']}; e.g. NODE_EXTRA_CA_CERTS=${args['write-ca']})` : ' (--write-ca FILE writes it)'}:`,
        generatedCa.trimEnd(),
      ]
    : []),
  '',
  'clients:',
  ...idp.clients.map(
    (c) =>
      `  ${c.id.padEnd(20)} policy ${c.policy.padEnd(18)} ${c.confidential ? `secret ${c.secret}${c.authMethod ? ` (${c.authMethod} only)` : ''}` : 'public (PKCE, no secret)'}` +
      `${c.resourceServer ? ' · resource server (may introspect any client\'s tokens)' : ''}\n` +
      `  ${''.padEnd(20)} redirect_uri ${c.redirectUris.join(' ')}` +
      (c.postLogoutRedirectUris.length ? `\n  ${''.padEnd(20)} post_logout_redirect_uri ${c.postLogoutRedirectUris.join(' ')}` : ''),
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
        ...(c.secret !== undefined && { secret: '${' + secretEnv(c.id) + '}' }),
        auth: c.authMethod ?? (c.confidential ? 'client_secret_basic' : 'none'),
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
    lines.push(`  ${secretEnv(c.id)}=${c.secret}`);
  }
  lines.push(`  MOCK_IDP_PASSWORD=${idp.users[0]!.password}`, ...(testMode ? [`  MOCK_IDP_ADMIN_TOKEN=${idp.adminToken}`] : []));
}
let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping mock-idp\n`);
  await running!.close();
  await store?.close?.();
  process.exit(0);
}
// Before the banner: whoever waits for it may stop the server the moment it reads it.
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
lines.push('', 'Ctrl-C stops the server.');
process.stdout.write(lines.join('\n') + '\n');
