/**
 * `--store`: where the service keeps its state. `memory` (the default: one process, gone when it
 * stops) or `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`: a Redis server that several replicas of the
 * mock share (their token families, sessions, codes, clock and keys). Pure: parsing and the
 * redacted form shown on the terminal; opening the store is the service's (scripts/mock-idp.ts).
 */
import { ServiceConfigError } from './config.ts';

export type StoreOption =
  | { kind: 'memory' }
  | {
      kind: 'redis';
      /** The URL as given, credentials included: for the client only, never printed. */
      url: string;
      /** The URL with any password replaced by ***: what the banner and errors show. */
      display: string;
      host: string;
      port: number;
      db: number;
    };

export const MEMORY_STORE: StoreOption = { kind: 'memory' };

/** `origin` names where the value came from in errors (`--store`, `config.json store`). */
export function parseStoreOption(value: string, origin: string): StoreOption {
  const fail = (why: string): never => {
    throw new ServiceConfigError('CONFIG_INVALID', `${origin}: ${why}`);
  };
  if (value === 'memory') return MEMORY_STORE;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`expected "memory" or redis://HOST:PORT/DB, got ${JSON.stringify(redact(value))}`);
  }
  if (url.protocol !== 'redis:') fail(`expected "memory" or redis://HOST:PORT/DB, got a ${url.protocol.slice(0, -1)}: URL`);
  if (url.hostname === '') fail('redis://HOST:PORT/DB needs a host');
  if (url.search || url.hash) fail('no query or fragment in a redis:// URL');
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) fail(`the database is a number (redis://HOST:PORT/DB), got ${JSON.stringify(dbText)}`);
  return { kind: 'redis', url: value, display: redact(value), host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 6379, db: dbText === '' ? 0 : Number(dbText) };
}

/** A value that may hold a password, as an error may show it. */
function redact(value: string): string {
  return value.replace(/(\/\/[^/@]*:)[^/@]*@/, '$1***@');
}
