#!/usr/bin/env node
// The `refresh-conformance-mock` command of the installed package: the mock IdP as a service (compiled).
import '../dist/scripts/mock-idp.js';
