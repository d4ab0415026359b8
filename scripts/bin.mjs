#!/usr/bin/env node
// `npx refresh-conformance ...`, from a checkout or an install: the CLI is TypeScript, run without a
// build step through tsx's ESM loader (tsx and vitest are runtime dependencies).
import { register } from 'tsx/esm/api';

register();
await import('./conformance.ts');
