import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('telenorid-plus-sso-invalid-grant');
