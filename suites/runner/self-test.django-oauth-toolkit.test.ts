import { defineDefectMatrix } from './self-test-cases.ts';

defineDefectMatrix('django-oauth-toolkit');
