/**
 * npm test: unit tests, plus the conformance suites against the embedded mock for every
 * profile, in-process (msw) and over real HTTP: one set of suites, four targets.
 */
import { defineConfig } from 'vitest/config';

const conformanceTargets = ['telenorid-plus', 'erp-net'].flatMap((profile) =>
  (['msw', 'http'] as const).map((transport) => ({ profile, transport })),
);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'unit',
          // A test file, and the run, fail when a process a test started is still running after it.
          globalSetup: ['scripts/test-setup/leaked-processes.ts'],
          setupFiles: ['scripts/test-setup/test-file-leaks.ts'],
          include: ['mock-idp/**/*.test.ts', 'suites/harness/**/*.test.ts', 'suites/runner/**/*.test.ts', 'suites/observe/**/*.test.ts', 'scripts/**/*.test.ts', 'interop/**/*.test.ts'],
        },
      },
      ...conformanceTargets.map(({ profile, transport }) => ({
        test: {
          name: `conformance:${profile}:${transport}`,
          include: ['suites/*.test.ts'],
          // The group files share one module graph (the embedded msw router is process-wide by design):
          // half the wall time of isolated workers.
          isolate: false,
          provide: { conformance: { target: 'fixtures/targets/mock.json', profile, transport } },
        },
      })),
    ],
  },
});
