/**
 * OAuth 2.0 / OIDC client requests. Sending and judging stay apart (as in oauth4webapi):
 * every request function returns the raw HttpResult, whatever the status; `parseTokenResponse`
 * and `parseOAuthError` read a result without throwing, and the checks judge.
 */
import { createHash, randomBytes } from 'node:crypto';
import { base64url } from 'jose';
import { requireEndpoint, type Endpoints } from './discovery.ts';
import type { Http, HttpResult, RequestOptions } from './http.ts';
import type { ClientAuth } from './target.ts';

export interface OAuthClient {
  id: string;
  secret?: string;
  auth: ClientAuth;
  redirectUri?: string;
}

// ---------------------------------------------------------------------------------------------
// PKCE (RFC 7636) and random values

/** RFC 7636 §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]. */
export function isValidCodeVerifier(verifier: string): boolean {
  return /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier);
}

/** RFC 7636 §4.1: base64url of 32 random bytes gives 43 characters. */
export function generateCodeVerifier(bytes = 32): string {
  if (bytes < 32 || bytes > 96) throw new TypeError('generateCodeVerifier: bytes must be 32..96 (43..128 characters)');
  return base64url.encode(randomBytes(bytes));
}

/** RFC 7636 §4.2: S256 challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
export function codeChallengeS256(verifier: string): string {
  return base64url.encode(createHash('sha256').update(verifier, 'ascii').digest());
}

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

export function generatePkce(): Pkce {
  const verifier = generateCodeVerifier();
  return { verifier, challenge: codeChallengeS256(verifier), method: 'S256' };
}

/** An unguessable value for `state` and `nonce`. */
export function randomValue(bytes = 16): string {
  return base64url.encode(randomBytes(bytes));
}

// ---------------------------------------------------------------------------------------------
// Authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3)

export interface AuthorizationUrlInput {
  endpoint: string;
  client: { id: string; redirectUri: string };
  scope: string;
  state: string;
  nonce?: string;
  codeChallenge: string;
  prompt?: string;
  loginHint?: string;
  /** Further parameters; `undefined` values are left out. */
  extra?: Record<string, string | undefined>;
}

/** Pure. Keeps any query the endpoint already has (RFC 6749 §3.1). */
export function buildAuthorizationUrl(input: AuthorizationUrlInput): string {
  const url = new URL(input.endpoint);
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: input.client.id,
    redirect_uri: input.client.redirectUri,
    scope: input.scope,
    state: input.state,
    nonce: input.nonce,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
    prompt: input.prompt,
    login_hint: input.loginHint,
    ...input.extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Token endpoint (RFC 6749 §3.2) and client authentication (§2.3.1)

/** `omit` sends no client credentials and no client_id: for checks that the server demands them. */
export type AuthOverride = ClientAuth | 'omit';

export interface TokenRequestOptions {
  /** Authenticate differently from `client.auth`, e.g. 'omit' or 'none' for a confidential client. */
  auth?: AuthOverride;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * RFC 6749 §2.3.1: HTTP Basic with client_id and client_secret each encoded with
 * application/x-www-form-urlencoded (Appendix B) before joining them with `:`.
 */
export function basicAuthorization(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * The headers and body fields that authenticate `client` by `method`. Pure.
 * client_secret_basic: Authorization header; client_secret_post: client_id + client_secret in the body;
 * none: client_id in the body (RFC 6749 §3.2.1 for public clients); omit: nothing.
 */
export function clientAuthentication(client: OAuthClient, method: AuthOverride = client.auth): { headers: Record<string, string>; params: Record<string, string> } {
  switch (method) {
    case 'omit':
      return { headers: {}, params: {} };
    case 'none':
      return { headers: {}, params: { client_id: client.id } };
    case 'client_secret_post':
      return { headers: {}, params: { client_id: client.id, client_secret: needSecret(client, method) } };
    case 'client_secret_basic':
      return { headers: { authorization: basicAuthorization(client.id, needSecret(client, method)) }, params: {} };
  }
}

function needSecret(client: OAuthClient, method: string): string {
  if (!client.secret) throw new TypeError(`client ${client.id} has no secret for ${method}`);
  return client.secret;
}

/** A POST to the token endpoint with `params` and the client's authentication. `undefined` params are left out. */
export function tokenRequest(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  params: Record<string, string | undefined>,
  options: TokenRequestOptions = {},
): Promise<HttpResult> {
  return postWithClientAuth(http, requireEndpoint(endpoints, 'token'), client, params, options);
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5. */
export function exchangeCode(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  input: { code: string; codeVerifier?: string; redirectUri?: string },
  options: TokenRequestOptions = {},
): Promise<HttpResult> {
  const redirectUri = input.redirectUri ?? client.redirectUri;
  if (redirectUri === undefined) throw new TypeError(`exchangeCode: client ${client.id} has no redirectUri`);
  return tokenRequest(
    http,
    endpoints,
    client,
    { grant_type: 'authorization_code', code: input.code, redirect_uri: redirectUri, code_verifier: input.codeVerifier },
    options,
  );
}

export interface RefreshOptions extends TokenRequestOptions {
  /** RFC 6749 §6: a narrower scope than originally granted. */
  scope?: string;
}

/** RFC 6749 §6. */
export function refresh(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  refreshToken: string,
  options: RefreshOptions = {},
): Promise<HttpResult> {
  const { scope, ...rest } = options;
  return tokenRequest(http, endpoints, client, { grant_type: 'refresh_token', refresh_token: refreshToken, scope }, rest);
}

/** RFC 6749 §4.4.2. */
export function clientCredentials(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  options: TokenRequestOptions & { scope?: string } = {},
): Promise<HttpResult> {
  const { scope, ...rest } = options;
  return tokenRequest(http, endpoints, client, { grant_type: 'client_credentials', scope }, rest);
}

/** RFC 7009 §2.1. */
export function revoke(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  token: string,
  hint?: 'refresh_token' | 'access_token',
  options: TokenRequestOptions = {},
): Promise<HttpResult> {
  return postWithClientAuth(http, requireEndpoint(endpoints, 'revocation'), client, { token, token_type_hint: hint }, options);
}

/** RFC 7662 §2.1. */
export function introspect(
  http: Http,
  endpoints: Partial<Endpoints>,
  client: OAuthClient,
  token: string,
  hint?: 'refresh_token' | 'access_token',
  options: TokenRequestOptions = {},
): Promise<HttpResult> {
  return postWithClientAuth(http, requireEndpoint(endpoints, 'introspection'), client, { token, token_type_hint: hint }, options);
}

/** OIDC Core §5.3.1 with a Bearer token (RFC 6750 §2.1). */
export function userinfo(http: Http, endpoints: Partial<Endpoints>, accessToken: string, options: { signal?: AbortSignal } = {}): Promise<HttpResult> {
  return http.request('GET', requireEndpoint(endpoints, 'userinfo'), {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    ...(options.signal && { signal: options.signal }),
  });
}

function postWithClientAuth(
  http: Http,
  endpoint: string,
  client: OAuthClient,
  params: Record<string, string | undefined>,
  options: TokenRequestOptions,
): Promise<HttpResult> {
  const auth = clientAuthentication(client, options.auth);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...params, ...auth.params })) if (v !== undefined) form.set(k, v);
  const request: RequestOptions = { headers: { accept: 'application/json', ...options.headers, ...auth.headers }, form };
  if (options.signal) request.signal = options.signal;
  return http.request('POST', endpoint, request);
}

// ---------------------------------------------------------------------------------------------
// Reading responses (pure, never throw)

export interface TokenResponseBody {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  /** Every member as served, including unknown ones. */
  [member: string]: unknown;
}

export type TokenResponse =
  | { ok: true; status: number; body: TokenResponseBody }
  | {
      ok: false;
      status: number;
      error?: string;
      error_description?: string;
      /** Why this is not a successful token response, naming the field: for failure messages. */
      reason: string;
    };

/** A JSON value's kind for messages, without its content (it may be a token). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

export interface StrictTokenOptions {
  /** The token_type the client expects, compared case-insensitively (RFC 6749 §7.1); default Bearer. */
  tokenType?: string;
}

/**
 * Why a successful (HTTP 200) token response body is malformed, naming the member, or undefined
 * when it is well-formed (RFC 6749 §5.1, OIDC Core §3.1.3.3), as oauth4webapi's process step reads
 * it: a JSON object; access_token and token_type non-empty strings, token_type the expected one;
 * expires_in a non-negative number when present; refresh_token and id_token non-empty strings and
 * scope a string when present. Pure; checks fail with the reason.
 */
export function tokenResponseProblem(body: unknown, options: StrictTokenOptions = {}): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const b = body as Record<string, unknown>;
  for (const member of ['access_token', 'token_type'] as const) {
    if (b[member] === undefined) return `${member} missing`;
    if (typeof b[member] !== 'string' || b[member] === '') return `${member} is ${kindOf(b[member])}, must be a non-empty string`;
  }
  const expected = options.tokenType ?? 'Bearer';
  if ((b.token_type as string).toLowerCase() !== expected.toLowerCase()) return `token_type is ${JSON.stringify(b.token_type)}, expected ${expected}`;
  const e = b.expires_in;
  if (e !== undefined && (typeof e !== 'number' || !Number.isFinite(e) || e < 0)) {
    return `expires_in is ${JSON.stringify(e) ?? String(e)} (${kindOf(e)}), must be a number of seconds`;
  }
  for (const member of ['refresh_token', 'id_token'] as const) {
    if (b[member] !== undefined && (typeof b[member] !== 'string' || b[member] === '')) return `${member} is ${kindOf(b[member])}, must be a non-empty string`;
  }
  if (b.scope !== undefined && typeof b.scope !== 'string') return `scope is ${kindOf(b.scope)}, must be a string`;
  return undefined;
}

/**
 * Reads a token endpoint result: RFC 6749 §5.1 success (HTTP 200 and a well-formed body, see
 * tokenResponseProblem) or §5.2 error.
 */
export function parseTokenResponse(result: HttpResult, options: StrictTokenOptions = {}): TokenResponse {
  const status = result.response.status;
  if (status !== 200) {
    const err = parseOAuthError(result);
    const reason = err.error ? `HTTP ${status} ${err.error}${err.error_description ? `: ${err.error_description}` : ''}` : `HTTP ${status}${describeBody(result)}`;
    return { ok: false, status, ...err, reason };
  }
  const problem = tokenResponseProblem(result.json, options);
  if (problem === 'the body is not a JSON object') return { ok: false, status, reason: `HTTP 200 but ${problem}${describeBody(result)}` };
  if (problem) return { ok: false, status, reason: problem };
  return { ok: true, status, body: result.json as TokenResponseBody };
}

/** RFC 6749 §5.2 `error` and `error_description`, when the body is a JSON object carrying them as strings. */
export function parseOAuthError(result: HttpResult): { error?: string; error_description?: string } {
  const b = result.json;
  if (typeof b !== 'object' || b === null) return {};
  const { error, error_description } = b as Record<string, unknown>;
  return {
    ...(typeof error === 'string' && { error }),
    ...(typeof error_description === 'string' && { error_description }),
  };
}

/** ` (text/html body)` or ` (empty body)`, for reasons. */
function describeBody(result: HttpResult): string {
  if (result.text.trim() === '') return ' (empty body)';
  if (result.json === undefined) return ` (${result.response.headers.get('content-type') ?? 'no content-type'} body, not JSON)`;
  return '';
}
