/** msw adapter: in-process interception of globalThis.fetch and node:http for the IdP's issuer. */
import { http, type RequestHandler } from 'msw';
import type { MockIdp } from '../idp.ts';

export function mockIdpHandlers(idp: Pick<MockIdp, 'issuer' | 'fetch'>): RequestHandler[] {
  return [http.all(`${idp.issuer}/*`, ({ request }) => idp.fetch(request))];
}
