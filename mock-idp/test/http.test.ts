/** The expectations over real HTTP: serveMockIdp on 127.0.0.1, a free port per IdP, always closed. */
import { afterAll } from 'vitest';
import { serveMockIdp, type RunningMockIdp } from '../adapters/node-http.ts';
import { defineIdpExpectations } from './expectations.ts';

const open = new Set<RunningMockIdp>();
// The expectations close each IdP after its test; this catches any a failed test left behind.
afterAll(() => Promise.all([...open].map((r) => r.close())));

defineIdpExpectations({
  name: 'real HTTP',
  async start(opts) {
    const running = await serveMockIdp(opts, { host: '127.0.0.1', port: 0 });
    open.add(running);
    return {
      idp: running.idp,
      fetch: (url, init) => globalThis.fetch(url, init),
      close: async () => {
        open.delete(running);
        await running.close();
      },
    };
  },
});
