/**
 * --list-profiles (both CLIs): one line per built-in profile, tab-separated: name, title, and its
 * policies. Every file is loaded, so a broken library file is a ProfileError here, not a surprise later.
 */
import { BUILTIN_PROFILES, loadProfile } from './load.ts';

export async function listProfiles(names: readonly string[] = BUILTIN_PROFILES): Promise<string> {
  const profiles = await Promise.all(names.map((name) => loadProfile(name)));
  const clean = (text: string) => text.replace(/\s+/g, ' ');
  return profiles.map((p) => [p.name, clean(p.title), Object.keys(p.policies).join(', ')].join('\t')).join('\n') + '\n';
}
