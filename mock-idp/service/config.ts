/**
 * The mock as a service for another project's tests: its clients and users from a JSON file
 * (`--config FILE`) and from flags (`--client id:policy:redirect`, `--user name:password`).
 * Pure: parsing and validation against the profile served; errors name the field.
 */
import { z } from 'zod';
import { fixtureClients, fixtureUsers, type MockClient, type MockUser } from '../fixtures.ts';
import type { Profile } from '../profile/index.ts';

export type ServiceConfigErrorCode = 'CONFIG_UNREADABLE' | 'CONFIG_INVALID';

export class ServiceConfigError extends Error {
  override readonly name = 'ServiceConfigError';
  constructor(
    readonly code: ServiceConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An absolute URL without a fragment (RFC 6749 §3.1.2: a redirection endpoint has none). */
const RegisteredUri = z.string().refine((u) => URL.canParse(u) && !u.includes('#'), 'an absolute URI without a fragment');
/** Visible ASCII: what may travel in client_id and Basic credentials (RFC 6749 App. A.1). */
const VisibleAscii = z.string().min(1).regex(/^[\x21-\x7e]+$/, 'visible ASCII characters, no spaces');

export const ServiceClient = z.strictObject({
  id: VisibleAscii,
  /** Required for a client of a confidential policy, refused for a public one. */
  secret: VisibleAscii.optional(),
  /** Default: client_secret_basic or client_secret_post for a confidential client, none for a public one. */
  authMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  redirectUris: z.array(RegisteredUri).min(1),
  postLogoutRedirectUris: z.array(RegisteredUri).default([]),
  /** A policy of the profile served: it says confidential or public, the grants and the refresh rules. */
  policy: z.string().min(1),
  /** May introspect tokens of other clients (RFC 7662 §4). */
  resourceServer: z.boolean().optional(),
});
export type ServiceClient = z.input<typeof ServiceClient>;

export const ServiceUser = z.strictObject({
  username: z.string().min(1),
  password: z.string().min(1),
  /** Default: the username. */
  sub: z.string().min(1).max(255).optional(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  email: z.string().optional(),
  phone_number: z.string().optional(),
  /** More UserInfo claims, sent whatever the scope. */
  claims: z.record(z.string(), z.unknown()).refine((c) => !('sub' in c), 'sub is set by the "sub" field').optional(),
});
export type ServiceUser = z.input<typeof ServiceUser>;

export const ServiceConfig = z.strictObject({
  $schema: z.string().optional(),
  /** A built-in profile name or a profile file (relative to this file); --profile wins. */
  profile: z.string().min(1).optional(),
  /** Also serve the profile's fixture clients (one per policy; the conformance run uses them). */
  fixtureClients: z.boolean().default(true),
  /** Also serve the generated fixture users. */
  fixtureUsers: z.boolean().default(true),
  clients: z.array(ServiceClient).default([]),
  users: z.array(ServiceUser).default([]),
  /** Where the state is kept: "memory" (default) or redis://HOST:PORT/DB, shared by replicas (store-option.ts); --store wins. */
  store: z.string().min(1).optional(),
});
export type ServiceConfig = z.output<typeof ServiceConfig>;

/** `clients[0].redirectUris[1]`: where in the file an issue is. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '') || '(root)';
}

/** Validates a parsed config file; `origin` names it in errors. */
export function parseServiceConfig(json: unknown, origin: string): ServiceConfig {
  const result = ServiceConfig.safeParse(json);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `${fieldPath([...i.path])}: ${i.message}`);
  throw new ServiceConfigError('CONFIG_INVALID', `${origin}: invalid config\n  ${lines.join('\n  ')}`);
}

/** `--client id:policy:redirect` (the redirect URI may hold colons). A confidential one's secret is given to resolveClients. */
export function parseClientFlag(flag: string): ServiceClient {
  const first = flag.indexOf(':');
  const second = first < 0 ? -1 : flag.indexOf(':', first + 1);
  if (first <= 0 || second < 0 || second === first + 1 || second === flag.length - 1) {
    throw new ServiceConfigError('CONFIG_INVALID', `--client ${JSON.stringify(flag)}: expected id:policy:redirect_uri`);
  }
  const id = flag.slice(0, first);
  return { id, policy: flag.slice(first + 1, second), redirectUris: [flag.slice(second + 1)] };
}

/** `--user username:password` (the password may hold colons). */
export function parseUserFlag(flag: string): ServiceUser {
  const colon = flag.indexOf(':');
  if (colon <= 0 || colon === flag.length - 1) throw new ServiceConfigError('CONFIG_INVALID', `--user ${JSON.stringify(flag)}: expected username:password`);
  return { username: flag.slice(0, colon), password: flag.slice(colon + 1) };
}

/**
 * The clients served: the fixtures (unless turned off), then the configured ones, each checked
 * against its policy in `profile`. `at(i)` names client i in errors (`config.json clients[2]`,
 * `--client #1`). A flag client of a confidential policy gets `generatedSecret` when it has none.
 */
export function resolveClients(
  profile: Profile,
  configured: readonly { client: ServiceClient; at: string; generatedSecret?: string }[],
  withFixtures: boolean,
): MockClient[] {
  const clients = withFixtures ? fixtureClients(profile) : [];
  const seen = new Map(clients.map((c) => [c.id, 'a fixture client']));
  const fail = (at: string, field: string, message: string): never => {
    throw new ServiceConfigError('CONFIG_INVALID', `${at}.${field}: ${message}`);
  };
  for (const { client: input, at, generatedSecret } of configured) {
    const c = ServiceClient.safeParse(input);
    if (!c.success) {
      const i = c.error.issues[0]!;
      fail(at, fieldPath([...i.path]), i.message);
      continue;
    }
    const client = c.data;
    const policy = profile.policies[client.policy];
    if (!policy) fail(at, 'policy', `"${client.policy}" is not a policy of profile ${profile.name} (its policies: ${Object.keys(profile.policies).join(', ')})`);
    const other = seen.get(client.id);
    if (other) fail(at, 'id', `"${client.id}" is taken by ${other}`);
    seen.set(client.id, at);
    const secret = client.secret ?? (policy!.confidential ? generatedSecret : undefined);
    if (policy!.confidential) {
      if (client.authMethod === 'none') fail(at, 'authMethod', `policy ${client.policy} is confidential: client_secret_basic or client_secret_post, not none`);
      if (secret === undefined) fail(at, 'secret', `required: policy ${client.policy} is confidential`);
    } else {
      if (client.secret !== undefined) fail(at, 'secret', `policy ${client.policy} is public: a public client has no secret`);
      if (client.authMethod !== undefined && client.authMethod !== 'none') fail(at, 'authMethod', `policy ${client.policy} is public: none (PKCE), not ${client.authMethod}`);
    }
    if (client.resourceServer && !policy!.confidential) fail(at, 'resourceServer', 'only a confidential client may introspect tokens of others');
    clients.push({
      id: client.id,
      policy: client.policy,
      confidential: policy!.confidential,
      grantTypes: policy!.grantTypes,
      redirectUris: client.redirectUris,
      postLogoutRedirectUris: client.postLogoutRedirectUris,
      ...(secret !== undefined && { secret }),
      ...(client.authMethod !== undefined && client.authMethod !== 'none' && { authMethod: client.authMethod }),
      ...(client.resourceServer && { resourceServer: true }),
    });
  }
  return clients;
}

/** The users served: the fixtures (unless turned off), then the configured ones; usernames and subs are unique. */
export function resolveUsers(configured: readonly { user: ServiceUser; at: string }[], withFixtures: boolean): MockUser[] {
  const users = withFixtures ? fixtureUsers() : [];
  for (const { user: input, at } of configured) {
    const u = ServiceUser.safeParse(input);
    if (!u.success) {
      const i = u.error.issues[0]!;
      throw new ServiceConfigError('CONFIG_INVALID', `${at}.${fieldPath([...i.path])}: ${i.message}`);
    }
    const { sub, claims, ...rest } = u.data;
    const user: MockUser = { ...rest, sub: sub ?? rest.username, ...(claims && { claims }) };
    if (users.some((o) => o.username === user.username)) throw new ServiceConfigError('CONFIG_INVALID', `${at}.username: "${user.username}" is taken`);
    if (users.some((o) => o.sub === user.sub)) throw new ServiceConfigError('CONFIG_INVALID', `${at}.sub: "${user.sub}" is taken`);
    users.push(user);
  }
  return users;
}
