/** The expectations through msw: globalThis.fetch intercepted; anything not for the IdP is an error. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { createMockIdp } from '../idp.ts';
import { mockIdpHandlers } from '../adapters/msw.ts';
import { defineIdpExpectations } from './expectations.ts';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let n = 0;

defineIdpExpectations({
  name: 'msw',
  async start(opts) {
    const idp = await createMockIdp({ ...opts, issuer: `https://mock-idp-${++n}.test` });
    server.use(...mockIdpHandlers(idp));
    return { idp, fetch: (url, init) => globalThis.fetch(url, init), close: async () => {} };
  },
});
