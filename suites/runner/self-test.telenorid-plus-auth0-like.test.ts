import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('telenorid-plus-auth0-like');
