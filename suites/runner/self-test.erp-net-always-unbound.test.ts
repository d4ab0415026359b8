import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('erp-net-always-unbound');
