import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('erp-net-dpop');
