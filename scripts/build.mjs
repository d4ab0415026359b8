#!/usr/bin/env node
// npm run build (and prepack): the package's JavaScript, declarations and data in dist/.
// tsc compiles the entry points and what they import (tsconfig.build.json; `.ts` imports become
// `.js`); the data the code reads at run time (profiles, defects, schemas, the default target) is
// copied beside it, so every `new URL('../fixtures/…', import.meta.url)` finds it in both layouts.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
cpSync(`${root}fixtures`, `${dist}/fixtures`, { recursive: true, filter: (src) => !src.endsWith('.ts') });
console.log(`built ${dist}`);
