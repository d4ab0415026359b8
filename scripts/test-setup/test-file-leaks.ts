/**
 * Vitest setup file (unit project): a test file fails when a process it started is still running
 * after its own afterAll hooks (this hook is registered first, so it runs last). Its processes carry
 * RC_TEST_FILE=<id> in their environment, inherited from this worker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll } from 'vitest';
import { FILE_MARKER, killLeaks, markedProcesses, waitUntilGone } from './leaked-processes.ts';

const id = randomUUID();
process.env[FILE_MARKER] = id;

afterAll(async () => {
  const leaked = await waitUntilGone(() => markedProcesses(id, FILE_MARKER).filter((p) => p.pid !== process.pid), 3000);
  if (leaked.length) throw killLeaks(leaked, 'this test file');
});
