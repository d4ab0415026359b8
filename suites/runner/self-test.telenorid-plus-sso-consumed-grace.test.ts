import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('telenorid-plus-sso-consumed-grace');
