/**
 * Where the CLI runs from: the sources (scripts/*.ts under tsx) or the compiled package
 * (dist/scripts/*.js). Data and group files sit beside the code in both layouts; package.json
 * is at the package root, one level above dist/ once compiled.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);

/** `.ts` from the sources, `.js` once compiled: the extension of the suite group files to run. */
export const CODE_EXTENSION = path.extname(HERE);

/** The package's own package.json: the nearest one above this module that names refresh-conformance. */
export async function packageInfo(): Promise<{ name: string; version: string }> {
  for (let dir = path.dirname(HERE); ; dir = path.dirname(dir)) {
    const text = await readFile(path.join(dir, 'package.json'), 'utf8').catch(() => undefined);
    const pkg = text === undefined ? undefined : (JSON.parse(text) as { name?: string; version?: string });
    if (pkg?.name === 'refresh-conformance' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
    if (path.dirname(dir) === dir) throw new Error(`no package.json of refresh-conformance above ${HERE}`);
  }
}
