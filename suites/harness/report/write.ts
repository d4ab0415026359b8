/** The only I/O of reporting: writes report.json and junit.xml into a directory (created if needed). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { reportToJson } from './json.ts';
import { reportToJUnit } from './junit.ts';
import type { Report } from './types.ts';

export async function writeReports(dir: string, report: Report): Promise<{ json: string; junit: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'report.json');
  const junit = path.join(dir, 'junit.xml');
  await writeFile(json, reportToJson(report), 'utf8');
  await writeFile(junit, reportToJUnit(report), 'utf8');
  return { json, junit };
}
