#!/usr/bin/env node
// `refresh-conformance` from a checkout: the TypeScript CLI run without a build step through tsx's
// ESM loader (a dev dependency). The installed package's command is bin/refresh-conformance.mjs,
// the compiled CLI (npm run build).
import { register } from 'tsx/esm/api';

register();
await import('./conformance.ts');
