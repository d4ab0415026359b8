/** Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3). */
import { constantTimeEqual } from './crypto.ts';
import { invalidClient, invalidRequest } from './errors.ts';
import type { MockClient } from './fixtures.ts';
import type { IdpRequest, Params } from './http.ts';

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  client: MockClient;
  method: AuthMethod;
  /** True when the client presented a secret that was verified. */
  authenticated: boolean;
}

interface Presented {
  id: string;
  secret?: string;
  method: AuthMethod;
}

function decodeBasicPart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw invalidClient('malformed Basic credentials', true);
  }
}

/** What the client presented, without judging it yet. */
function presented(request: IdpRequest, params: Params): Presented | undefined {
  const header = request.headers.get('authorization');
  const postSecret = params.get('client_secret');
  if (header !== null) {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    if (!m) throw invalidClient('unsupported Authorization header; use Basic', true);
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    if (postSecret !== undefined) throw invalidRequest('client authenticated with more than one method');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('malformed Basic credentials', true);
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
    const id = decodeBasicPart(decoded.slice(0, colon));
    const secret = decodeBasicPart(decoded.slice(colon + 1));
    const bodyId = params.get('client_id');
    if (bodyId !== undefined && bodyId !== id) throw invalidRequest('client_id in the body does not match the Authorization header');
    return { id, secret, method: 'client_secret_basic' };
  }
  const id = params.get('client_id');
  if (id === undefined) return undefined;
  return postSecret !== undefined ? { id, secret: postSecret, method: 'client_secret_post' } : { id, method: 'none' };
}

/**
 * Identifies and authenticates the client. `requireSecretForConfidential: false` lets a
 * caller (a deliberate defect) accept a confidential client that sent no secret.
 */
export function authenticateClient(
  request: IdpRequest,
  params: Params,
  clients: ReadonlyMap<string, MockClient>,
  requireSecretForConfidential = true,
): AuthenticatedClient {
  const usedHeader = request.headers.has('authorization');
  const p = presented(request, params);
  if (!p) throw invalidClient('client authentication is required', usedHeader);
  const client = clients.get(p.id);
  if (!client) throw invalidClient('unknown client', usedHeader);
  if (client.confidential) {
    if (p.secret === undefined) {
      if (!requireSecretForConfidential) return { client, method: 'none', authenticated: false };
      throw invalidClient('confidential client must authenticate', usedHeader);
    }
    if (!constantTimeEqual(p.secret, client.secret ?? '')) throw invalidClient('client authentication failed', usedHeader);
    // A client registered for one method must use it (OIDC Registration §2, token_endpoint_auth_method).
    if (client.authMethod !== undefined && p.method !== client.authMethod) throw invalidClient(`this client must authenticate with ${client.authMethod}`, usedHeader);
    return { client, method: p.method, authenticated: true };
  }
  if (p.secret !== undefined) throw invalidClient('public client has no secret; send only client_id', usedHeader);
  return { client, method: 'none', authenticated: false };
}
