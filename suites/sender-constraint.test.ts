import { registerGroup } from './runner/vitest-suite.ts';

await registerGroup('sender-constraint');
