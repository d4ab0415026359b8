#!/usr/bin/env node
// The `refresh-conformance` command of the installed package: the compiled CLI (npm run build).
import '../dist/scripts/conformance.js';
