import { registerGroup } from './runner/vitest-suite.ts';

await registerGroup('expiry');
