/**
 * The target file: which IdP to test, with which clients, and how to log in, log out and wait.
 *
 * Loading runs in a fixed order, each step with its own error code (all SetupError, one line each):
 *   read (TARGET_NOT_FOUND) → JSON (TARGET_INVALID) → `${ENV}` substitution (ENV_MISSING)
 *   → shape (TARGET_INVALID) → profile (PROFILE_UNKNOWN) → policies (POLICY_UNKNOWN) → consistency (TARGET_INVALID).
 *
 * `${NAME}` is replaced in every string value before validation, so secrets stay out of the file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadProfile, ProfileError, BUILTIN_PROFILES, type Policy, type Profile } from '../../mock-idp/profile/index.ts';
import { DPOP_ALGS, type DpopAlg } from './dpop.ts';
import { SetupError } from './errors.ts';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** Any absolute URI: redirect URIs may use a private-use scheme (`no.example.mobile:/cb`, RFC 8252 §7.1). */
const absoluteUri = z.url({ error: 'must be an absolute URI' });

export const ClientAuth = z.enum(['client_secret_basic', 'client_secret_post', 'none']);
export type ClientAuth = z.infer<typeof ClientAuth>;

const Client = z.strictObject({
  id: z.string().min(1),
  /** Required for client_secret_basic and client_secret_post. */
  secret: z.string().min(1).optional(),
  /** Token endpoint authentication method (RFC 7591 §2 names). */
  auth: ClientAuth,
  /** Required unless the client's policy has no authorization_code grant (it never logs in). */
  redirectUri: absoluteUri.optional(),
  /** A key of the profile's `policies`: what this client is expected to get. */
  policy: z.string().min(1),
  /** Scope asked for at login; the offline-access scope is added by the checks that need it. */
  scope: z.string().min(1).default('openid'),
});

const Endpoints = z.strictObject({
  authorization: httpUrl.optional(),
  token: httpUrl.optional(),
  revocation: httpUrl.optional(),
  introspection: httpUrl.optional(),
  userinfo: httpUrl.optional(),
  endSession: httpUrl.optional(),
  jwks: httpUrl.optional(),
});
export type EndpointOverrides = z.infer<typeof Endpoints>;

/** One step of a browser login: fill a field, click, or wait for an element (CSS or Playwright selectors). */
const BrowserStep = z.union(
  [
    z.strictObject({ fill: z.string().min(1), value: z.string() }),
    z.strictObject({ click: z.string().min(1) }),
    z.strictObject({ waitFor: z.string().min(1) }),
  ],
  { error: 'a step is { "fill": selector, "value": text }, { "click": selector } or { "waitFor": selector }' },
);
export type BrowserStep = z.infer<typeof BrowserStep>;

/**
 * Origins other than the issuer's that may receive the login's credentials (an IdP whose login pages live
 * on another host): `https://login.example.com`, no path. Normalized to the URL's origin.
 */
const AllowedOrigins = z
  .array(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) origin' })
      .refine((u) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(u), { error: 'must be an origin (scheme, host and port, no path)' })
      .transform((u) => new URL(u).origin),
  )
  .default([]);

/** How a check gets an authorization code. Discriminated on `driver`. */
const Login = z.discriminatedUnion('driver', [
  /** The mock IdP's test-mode shortcut (login_hint); default user: the mock's first one. */
  z.strictObject({ driver: z.literal('mock'), username: z.string().min(1).optional() }),
  /** Headless HTTP: follow redirects, fill the login form, confirm consent. */
  z.strictObject({ driver: z.literal('form'), username: z.string().min(1), password: z.string().min(1), allowedOrigins: AllowedOrigins }),
  /**
   * A real browser (the system's Chromium through playwright-core) for login pages that need JavaScript:
   * the steps run in order on the authorization URL's page, then the driver waits for the redirect to the
   * client's redirect URI. Every `fill` value is treated as a secret (redacted from exchanges).
   */
  z.strictObject({
    driver: z.literal('browser'),
    steps: z.array(BrowserStep).min(1, 'at least one step'),
    headless: z.boolean().default(true),
    /** For the login once the browser runs, from opening the page to the redirect. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** For starting Chromium, apart from timeoutMs (a slow machine is not a slow IdP). */
    launchTimeoutMs: z.number().int().positive().default(60_000),
    /** Chromium to launch; default /usr/bin/chromium (Debian's `chromium` package). */
    executablePath: z.string().min(1).optional(),
    allowedOrigins: AllowedOrigins,
  }),
  /** A person signs in (MFA-protected staging): the authorization URL is printed, the redirect URL pasted back. */
  z.strictObject({ driver: z.literal('manual') }),
]);
export type LoginConfig = z.infer<typeof Login>;

/** How a check ends the SSO session. */
const Logout = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('mock') }),
  /** OIDC RP-Initiated Logout 1.0; `postLogoutRedirectUri` must be registered for the client. */
  z.strictObject({ driver: z.literal('end-session'), postLogoutRedirectUri: absoluteUri.optional() }),
  /** The target cannot log a session out (no RP-initiated logout, or none the harness may use): checks that need one are skipped. */
  z.strictObject({ driver: z.literal('none') }),
]);
export type LogoutConfig = z.infer<typeof Logout>;

/** How a check lets time pass. */
const Clock = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('mock') }),
  /** Real waiting; a check needing a longer wait than `maxWaitSeconds` is skipped. */
  z.strictObject({ driver: z.literal('real'), maxWaitSeconds: z.number().int().nonnegative().default(120) }),
]);
export type ClockConfig = z.infer<typeof Clock>;

const Timeouts = z.strictObject({
  requestMs: z.number().int().positive().default(10_000),
  runMs: z.number().int().positive().default(600_000),
});

const ExpectedFailure = z.strictObject({
  id: z.string().min(1),
  reason: z.string().min(1),
  /** Limit the expectation to one client (by id); default: every client. */
  client: z.string().min(1).optional(),
});
export type ExpectedFailure = z.infer<typeof ExpectedFailure>;

const common = {
  $schema: z.string().optional(),
  name: z.string().min(1),
  profile: z.string().min(1),
  endpoints: Endpoints.optional(),
  login: Login,
  logout: Logout,
  clock: Clock,
  /** The mock IdP's control API, needed by the `mock` drivers against a running mock. */
  control: z.strictObject({ adminToken: z.string().min(1) }).optional(),
  timeouts: Timeouts.default({ requestMs: 10_000, runMs: 600_000 }),
  /** At most this many checks work at once (--concurrency wins); default: the number of CPUs. */
  concurrency: z.number().int().positive().optional(),
  expectedFailures: z.array(ExpectedFailure).default([]),
  /** DPoP (RFC 9449) for the clients whose policy declares a sender constraint: the proof keys' algorithm (default ES256). */
  dpop: z.strictObject({ alg: z.enum(DPOP_ALGS).default('ES256') }).default({ alg: 'ES256' }),
};

const RemoteTargetFile = z.strictObject({
  ...common,
  issuer: httpUrl,
  /**
   * Where the provider metadata is, when not at `<issuer>/.well-known/openid-configuration` (some IdPs serve
   * it only with a trailing slash, or elsewhere). The metadata's `issuer` must still be the target's.
   */
  discoveryUrl: httpUrl.optional(),
  clients: z.array(Client).min(1, 'at least one client'),
});

const EmbeddedTargetFile = z.strictObject({
  ...common,
  /** The mock IdP runs inside the harness and supplies issuer and clients. */
  embedded: z.strictObject({ transport: z.enum(['msw', 'http', 'direct']) }),
});

type RemoteFile = z.infer<typeof RemoteTargetFile>;
type EmbeddedFile = z.infer<typeof EmbeddedTargetFile>;

export interface TargetClient {
  id: string;
  secret?: string;
  auth: ClientAuth;
  /** Absent only for a client whose policy has no authorization_code grant. */
  redirectUri?: string;
  /** The policy's name, a key of `profile.policies`. */
  policy: string;
  /** The policy itself, looked up once. */
  policyRules: Policy;
  scope: string;
}

interface TargetCommon {
  name: string;
  /** The loaded profile: the expectations. */
  profile: Profile;
  /** What the file said: a built-in profile name or a path. */
  profileRef: string;
  endpoints: EndpointOverrides;
  login: LoginConfig;
  logout: LogoutConfig;
  clock: ClockConfig;
  control?: { adminToken: string };
  timeouts: { requestMs: number; runMs: number };
  concurrency?: number;
  expectedFailures: ExpectedFailure[];
  /** The DPoP proof keys' algorithm. */
  dpop: { alg: DpopAlg };
  /** Where the target came from (file path), for messages. */
  origin: string;
}

/** A running IdP reached over the network (a real one, or the mock started as a server). */
export interface RemoteTarget extends TargetCommon {
  kind: 'remote';
  issuer: string;
  /** The provider metadata's URL, when the target file gives one. */
  discoveryUrl?: string;
  clients: TargetClient[];
}

/** The mock IdP inside the harness; issuer and clients come from it when it starts. */
export interface EmbeddedTarget extends TargetCommon {
  kind: 'embedded';
  embedded: { transport: 'msw' | 'http' | 'direct' };
}

export type Target = RemoteTarget | EmbeddedTarget;

export type Env = Record<string, string | undefined>;

/** Reads, substitutes, validates and resolves a target file. Relative profile paths are relative to the file. */
export async function loadTarget(file: string, env: Env = process.env): Promise<Target> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot be read (${(e as Error).message})`;
    throw new SetupError('TARGET_NOT_FOUND', `target file ${file} ${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SetupError('TARGET_INVALID', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseTarget(json, file, env, { baseDir: path.dirname(path.resolve(file)) });
}

export interface ParseTargetOptions {
  /** Directory against which a relative profile path is resolved. Default: the working directory. */
  baseDir?: string;
}

/** Validates and resolves parsed target JSON; `origin` names it in messages. */
export async function parseTarget(json: unknown, origin: string, env: Env = process.env, options: ParseTargetOptions = {}): Promise<Target> {
  const substituted = substituteEnv(json, env, origin);
  // `embedded` decides which shape applies, so errors name the fields of the intended one.
  const isEmbedded = typeof substituted === 'object' && substituted !== null && 'embedded' in substituted;
  const parsed = isEmbedded ? EmbeddedTargetFile.safeParse(substituted) : RemoteTargetFile.safeParse(substituted);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`);
    throw new SetupError('TARGET_INVALID', `${origin}: invalid target: ${issues.join('; ')}`);
  }
  const file = parsed.data;
  const profile = await resolveProfile(file.profile, origin, options.baseDir);
  requireControlForMockDrivers(file, origin);
  const common: TargetCommon = {
    name: file.name,
    profile,
    profileRef: file.profile,
    endpoints: file.endpoints ?? {},
    login: file.login,
    logout: file.logout,
    clock: file.clock,
    ...(file.control && { control: file.control }),
    timeouts: file.timeouts,
    ...(file.concurrency !== undefined && { concurrency: file.concurrency }),
    expectedFailures: file.expectedFailures,
    dpop: file.dpop,
    origin,
  };
  if ('embedded' in file) return { ...common, kind: 'embedded', embedded: file.embedded };
  if (file.discoveryUrl !== undefined) requireSafeDiscoveryUrl(file.discoveryUrl, file.issuer, origin);
  return {
    ...common,
    kind: 'remote',
    issuer: file.issuer,
    ...(file.discoveryUrl !== undefined && { discoveryUrl: file.discoveryUrl }),
    clients: resolveClients(file.clients, profile, origin),
  };
}

/**
 * Every secret the target holds, for `Recorder.addSecret`: client secrets (and the Basic credentials made
 * of them), the password, browser step values, the admin token.
 */
export function targetSecrets(target: Target): Array<{ value: string; label: string }> {
  const out: Array<{ value: string; label: string }> = [];
  if (target.kind === 'remote') {
    for (const c of target.clients) out.push(...clientSecrets(c));
  }
  if (target.login.driver === 'form') out.push({ value: target.login.password, label: 'password' });
  if (target.login.driver === 'browser') {
    for (const step of target.login.steps) if ('fill' in step && step.value) out.push({ value: step.value, label: 'login_value' });
  }
  if (target.control) out.push({ value: target.control.adminToken, label: 'admin_token' });
  return out;
}

/**
 * A client's secret, and the `id:secret` pairs HTTP Basic encodes, raw and form-encoded (RFC 6749 §2.3.1):
 * registered whole, their Base64 is found however short the secret (secret-search.ts).
 */
export function clientSecrets(client: { id: string; secret?: string | undefined }): Array<{ value: string; label: string }> {
  if (!client.secret) return [];
  const form = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  const pairs = new Set([`${client.id}:${client.secret}`, `${form(client.id)}:${form(client.secret)}`]);
  return [{ value: client.secret, label: 'client_secret' }, ...[...pairs].map((value) => ({ value, label: 'client_credentials' }))];
}

/**
 * Replaces `${NAME}` in every string value (not in keys). A missing or empty variable is an error
 * naming the variable and where it is used: an empty secret is nearly always an unset CI secret.
 * Every missing variable is named at once, so one run tells a CI engineer all the secrets to set.
 */
export function substituteEnv(value: unknown, env: Env, origin: string, at: Array<string | number> = []): unknown {
  const missing = new Map<string, { empty: boolean; at: string[] }>();
  const result = substitute(value, env, at, missing);
  if (missing.size) {
    const each = [...missing].map(([name, m]) => `${name} (used at ${m.at.join(', ')}) is ${m.empty ? 'empty' : 'not set'}`);
    throw new SetupError(
      'ENV_MISSING',
      each.length === 1 ? `${origin}: environment variable ${each[0]}` : `${origin}: ${each.length} environment variables are missing: ${each.join('; ')}`,
    );
  }
  return result;
}

function substitute(value: unknown, env: Env, at: Array<string | number>, missing: Map<string, { empty: boolean; at: string[] }>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        const seen = missing.get(name) ?? { empty: v === '', at: [] };
        if (!seen.at.includes(jsonPath(at))) seen.at.push(jsonPath(at));
        missing.set(name, seen);
        return m;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, env, [...at, i], missing));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env, [...at, k], missing)]));
  }
  return value;
}

/** `clients[0].auth`; the root is `(root)`. */
export function jsonPath(at: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of at) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || '(root)';
}

async function resolveProfile(ref: string, origin: string, baseDir: string | undefined): Promise<Profile> {
  const isBuiltinName = /^[a-z0-9-]+$/.test(ref);
  const arg = isBuiltinName || path.isAbsolute(ref) || !baseDir ? ref : path.resolve(baseDir, ref);
  try {
    return await loadProfile(arg);
  } catch (e) {
    if (!(e instanceof ProfileError)) throw e;
    if (e.code === 'PROFILE_NOT_FOUND') {
      throw new SetupError(
        'PROFILE_UNKNOWN',
        `${origin}: profile: "${ref}" is not a built-in profile (${BUILTIN_PROFILES.join(', ')}) nor a profile file`,
      );
    }
    throw new SetupError('TARGET_INVALID', `${origin}: profile: ${e.message.replace(/\s*\n\s*/g, '; ')}`);
  }
}

function resolveClients(clients: RemoteFile['clients'], profile: Profile, origin: string): TargetClient[] {
  const seen = new Set<string>();
  return clients.map((c, i) => {
    const at = `clients[${i}]`;
    const rules = profile.policies[c.policy];
    if (!rules) {
      throw new SetupError(
        'POLICY_UNKNOWN',
        `${origin}: ${at}.policy: "${c.policy}" is not a policy of profile ${profile.name} (${Object.keys(profile.policies).join(', ')})`,
      );
    }
    if (seen.has(c.id)) throw new SetupError('TARGET_INVALID', `${origin}: ${at}.id: "${c.id}" appears twice`);
    seen.add(c.id);
    // A confidential policy means the client authenticates with a secret, a public one means it cannot.
    if (rules.confidential && c.auth === 'none') {
      throw new SetupError('TARGET_INVALID', `${origin}: ${at}.auth: policy ${c.policy} is confidential; use client_secret_basic or client_secret_post`);
    }
    if (!rules.confidential && c.auth !== 'none') {
      throw new SetupError('TARGET_INVALID', `${origin}: ${at}.auth: policy ${c.policy} is for public clients; use "none"`);
    }
    if (c.auth !== 'none' && !c.secret) {
      throw new SetupError('TARGET_INVALID', `${origin}: ${at}.secret: required with auth ${c.auth}`);
    }
    if (c.redirectUri === undefined && rules.grantTypes.includes('authorization_code')) {
      throw new SetupError(
        'TARGET_INVALID',
        `${origin}: ${at}.redirectUri: required for client "${c.id}": policy ${c.policy} has the authorization_code grant, so its checks log in`,
      );
    }
    return {
      id: c.id,
      ...(c.secret !== undefined && { secret: c.secret }),
      auth: c.auth,
      ...(c.redirectUri !== undefined && { redirectUri: c.redirectUri }),
      policy: c.policy,
      policyRules: rules,
      scope: c.scope,
    };
  });
}

/**
 * The metadata names the endpoints the client secrets go to, so it must come over TLS, as the issuer
 * does: https, or plain http to the issuer's own origin or to a loopback host (a local test IdP).
 */
function requireSafeDiscoveryUrl(url: string, issuer: string, origin: string): void {
  const u = new URL(url);
  const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(u.hostname);
  if (u.protocol === 'https:' || loopback || u.origin === new URL(issuer).origin) return;
  throw new SetupError('TARGET_INVALID', `${origin}: discoveryUrl: must be an https URL (plain http only on the issuer's origin or a loopback host): ${url}`);
}

/** Against a running mock, the `mock` drivers talk to its control API, which needs the admin token. */
function requireControlForMockDrivers(file: RemoteFile | EmbeddedFile, origin: string): void {
  if ('embedded' in file || file.control) return;
  // The mock login driver needs none: it uses the authorization endpoint's login_hint shortcut.
  const users = [
    file.logout.driver === 'mock' && 'logout',
    file.clock.driver === 'mock' && 'clock',
  ].filter((x): x is string => typeof x === 'string');
  if (users.length > 0) {
    throw new SetupError('TARGET_INVALID', `${origin}: control.adminToken: required by the mock driver of ${users.join(', ')}`);
  }
}
