import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('ory-hydra');
