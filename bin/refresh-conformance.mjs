#!/usr/bin/env node
// The `refresh-conformance` command: the CLI. Installed, the compiled code (dist/, built on npm pack);
// in a clone, where the TypeScript sources are, those through tsx (a dev dependency), so a
// stale or missing build is never what runs.
import { existsSync } from 'node:fs';

const source = new URL('../scripts/conformance.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/scripts/conformance.js');
}
