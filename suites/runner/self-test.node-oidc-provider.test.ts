import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('node-oidc-provider');
