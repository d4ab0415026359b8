import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('auth0');
