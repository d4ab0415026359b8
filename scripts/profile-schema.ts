/** Writes fixtures/profiles/profile.schema.json from the zod schema, for editors. */
import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Profile, PROFILES_DIR } from '../mock-idp/profile/index.ts';

const schema = z.toJSONSchema(Profile, { io: 'input', unrepresentable: 'any' });
await writeFile(`${PROFILES_DIR}profile.schema.json`, JSON.stringify(schema, null, 2) + '\n');
console.log(`wrote ${PROFILES_DIR}profile.schema.json`);
