/** The expectations against the Fetch-API handler directly: no network, no interception. */
import { createMockIdp } from '../idp.ts';
import { defineIdpExpectations } from './expectations.ts';

let n = 0;

defineIdpExpectations({
  name: 'the handler',
  async start(opts) {
    const idp = await createMockIdp({ ...opts, issuer: `https://mock-idp-${++n}.test` });
    return { idp, fetch: (url, init) => idp.fetch(new Request(url, init)), close: async () => {} };
  },
});
