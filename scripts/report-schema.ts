/** Writes fixtures/schemas/report.schema.json from the zod schema of report.json (suites/harness/report/types.ts). */
import { writeFile } from 'node:fs/promises';
import { REPORT_SCHEMA_FILE, reportJsonSchemaText } from '../suites/harness/report/schema.ts';

await writeFile(REPORT_SCHEMA_FILE, reportJsonSchemaText());
console.log(`wrote ${REPORT_SCHEMA_FILE}`);
