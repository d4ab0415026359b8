/**
 * What wrote a report: this package's name and version, read from its package.json. Found by walking
 * up from this module, so it holds from the sources and from a build laid out elsewhere in the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TOOL_NAME = 'refresh-conformance';

let cached: { name: string; version: string } | undefined;

export function toolInfo(): { name: string; version: string } {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === TOOL_NAME && typeof pkg.version === 'string') return (cached = { name: TOOL_NAME, version: pkg.version });
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${TOOL_NAME}: no package.json of ${TOOL_NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
