/**
 * Redaction: secrets never reach a report, a log or a failure message.
 *
 * A redacted value becomes `[redacted:<label>#<fingerprint>]`, the fingerprint being the first 6 hex digits
 * of a keyed hash of the value (see `fingerprint`). Equal values get equal markers, so a reader can still follow a refresh token through
 * its rotations without seeing it.
 *
 * Two nets, applied to any text (URLs, headers, bodies):
 * 1. by name: the value of a sensitive OAuth field (SENSITIVE_FIELDS) in a query/form string, a JSON
 *    member or an HTML input, plus credentials in Authorization and Cookie headers;
 * 2. by value: every registered secret, wherever it appears, in every encoding an echo may take
 *    (percent, form, JSON, HTML references, Base64: see secret-search.ts).
 *
 * Which values are secrets: every value the target file declares as one (client secrets, the password,
 * browser step values, the admin token), the Basic credentials built from them, and every token, code and
 * code_verifier the harness handles. They are redacted whatever their length, even a 4-character password:
 * a short secret may blank out an ordinary word, which is the price of never printing it. Values the
 * recorder only finds by name (in a field called `code`, ...) are learnt from 8 characters on (record.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { SecretIndex, type Span } from './secret-search.ts';

/** Parameter and member names whose values are secrets (RFC 6749, 7009, 7521, 7636, 7662, 8693, OIDC). */
export const SENSITIVE_FIELDS = [
  'client_secret',
  'client_assertion',
  'password',
  'refresh_token',
  'access_token',
  'id_token_hint',
  'id_token',
  'code_verifier',
  'code',
  'token',
  'assertion',
  'logout_token',
  'subject_token',
  'actor_token',
] as const;

export interface Secret {
  value: string;
  /** Names the kind of value in the marker: `[redacted:<label>#...]`. */
  label: string;
}

const fingerprints = new Map<string, string>();

/**
 * The key of fingerprints: random per run and never written anywhere. A plain hash of a short
 * password in a pasted report would let anyone find the password by trying candidates against it.
 * Random per process until `useFingerprintKey` gives the run's (the CLI hands its workers one).
 */
let FINGERPRINT_KEY: Uint8Array = randomBytes(32);

/**
 * Makes `key` (32 bytes or more) the key of fingerprints, so that a value has one fingerprint across the
 * processes of a run: a refresh token seen by checks in two worker processes gets one marker.
 */
export function useFingerprintKey(key: Uint8Array): void {
  if (key.length < 32) throw new RangeError('a fingerprint key has at least 32 bytes');
  if (Buffer.from(key).equals(Buffer.from(FINGERPRINT_KEY))) return;
  FINGERPRINT_KEY = Uint8Array.from(key);
  fingerprints.clear();
}

/**
 * First 6 hex digits of HMAC-SHA256(run key, value): equal values get equal fingerprints within a
 * run (a check, its exchanges and its timeline, every check), and a fingerprint tells nothing about the value.
 * Memoized: the same tokens are redacted in every exchange.
 */
export function fingerprint(value: string): string {
  let fp = fingerprints.get(value);
  if (fp === undefined) {
    fp = createHmac('sha256', FINGERPRINT_KEY).update(value, 'utf8').digest('hex').slice(0, 6);
    if (fingerprints.size >= 50_000) fingerprints.clear();
    fingerprints.set(value, fp);
  }
  return fp;
}

export function marker(label: string, value: string): string {
  return `[redacted:${label}#${fingerprint(value)}]`;
}

const MARKER = /\[redacted:[A-Za-z0-9_.-]+#[0-9a-f]{6}\]/g;

// Longest names first so that `token` never wins over `access_token` in an alternation.
const FIELD_ALT = [...SENSITIVE_FIELDS].sort((a, b) => b.length - a.length).join('|');
const SENSITIVE = new Set<string>(SENSITIVE_FIELDS);

/** `name=value` after a query/form/fragment separator (`&amp;` ends in `;`) or at the very start. */
const QUERY_FIELD = new RegExp(`(^|[?&#;])(${FIELD_ALT})=((?!\\[redacted:)[^&#\\s"'<>]+)`, 'g');
/** `"name": "value"` in JSON text, whether or not the whole text parses. */
const JSON_FIELD = new RegExp(`"(${FIELD_ALT})"(\\s*:\\s*)"((?!\\[redacted:)(?:[^"\\\\]|\\\\.)*)"`, 'g');
/** `scheme://user:password@` in URLs. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"<>]*:)([^@\s/'"<>]+)@/gi;
/** One start tag of an input element; attributes are read one by one below. */
const INPUT_TAG = /<input\b[^>]*>/gi;
const ATTRIBUTE = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;

export interface RedactResult {
  text: string;
  /** Values found by name (not by registered value): candidates to register as secrets. */
  found: Secret[];
}

/**
 * Redacts sensitive fields and the given secrets in any text.
 * Secrets are plain values (label "secret") or `{ value, label }`.
 */
export function redact(text: string, secrets: Iterable<string | Secret> = []): string {
  return redactText(text, normalizeSecrets(secrets)).text;
}

/** Like `redact`, also returning what the by-name net found. `secrets` should come from `normalizeSecrets`. */
export function redactText(text: string, secrets: Secrets = []): RedactResult {
  const found: Secret[] = [];
  const hide = (label: string, value: string): string => {
    found.push({ label, value });
    return marker(label, value);
  };
  let out = text;
  out = out.replace(JSON_FIELD, (all, name: string, colon: string, raw: string) =>
    raw === '' ? all : `"${name}"${colon}"${hide(name, decodeJsonString(raw))}"`,
  );
  out = out.replace(QUERY_FIELD, (_all, sep: string, name: string, raw: string) => `${sep}${name}=${hide(name, decodeForm(raw))}`);
  out = out.replace(URL_USERINFO, (_all, head: string, raw: string) => `${head}${hide('password', decodeForm(raw))}@`);
  out = out.replace(INPUT_TAG, (tag) => redactInputTag(tag, hide));
  return { text: replaceSecrets(out, secrets), found };
}

/**
 * Redacts one header value. Credentials in Authorization, DPoP, Cookie and Set-Cookie are hidden whole
 * (the auth scheme and cookie names stay readable); other headers go through `redactText`.
 */
export function redactHeader(name: string, value: string, secrets: Secrets = []): RedactResult {
  const lower = name.toLowerCase();
  const found: Secret[] = [];
  const hide = (label: string, v: string): string => {
    found.push({ label, value: v });
    return marker(label, v);
  };
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const m = /^(\S+)\s+(.+)$/s.exec(value);
    if (!m) return { text: hide('authorization', value), found };
    const scheme = m[1]!;
    const label = /^(bearer|basic|dpop)$/i.test(scheme) ? scheme.toLowerCase() : 'authorization';
    return { text: `${scheme} ${hide(label, m[2]!)}`, found };
  }
  // RFC 9449: a DPoP proof is a credential while its iat window lasts; hidden whole, by name.
  if (lower === 'dpop') return { text: hide('dpop_proof', value), found };
  if (lower === 'cookie') {
    const text = value
      .split(';')
      .map((pair) => redactCookiePair(pair, hide))
      .join(';');
    return { text, found };
  }
  if (lower === 'set-cookie') {
    const semi = value.indexOf(';');
    const first = semi === -1 ? value : value.slice(0, semi);
    const rest = semi === -1 ? '' : value.slice(semi);
    return { text: redactCookiePair(first, hide) + replaceSecrets(rest, secrets), found };
  }
  const r = redactText(value, secrets);
  return { text: r.text, found: [...found, ...r.found] };
}

/** Deduplicated secrets, empty values dropped; a later label does not override an earlier one. */
export function normalizeSecrets(secrets: Iterable<string | Secret>): Secret[] {
  const byValue = new Map<string, string>();
  for (const s of secrets) {
    const { value, label } = typeof s === 'string' ? { value: s, label: 'secret' } : s;
    if (value && !byValue.has(value)) byValue.set(value, label);
  }
  return [...byValue].map(([value, label]) => ({ value, label }));
}

/** Registered secrets: a list, or an index that grows (the run's). */
export type Secrets = readonly Secret[] | SecretIndex;

/**
 * Replaces every registered secret, in each of its encodings (secret-search.ts), outside existing markers.
 * Longest secrets first; where two matches overlap (a secret containing another one), their union becomes
 * one marker, the longer secret's, so no fragment of either stays.
 */
export function replaceSecrets(text: string, secrets: Secrets): string {
  if (text === '') return text;
  const index = indexOf(secrets);
  if (index.size === 0) return text;
  const hits = index.find(text);
  if (hits.length === 0) return text;
  const markers = [...text.matchAll(MARKER)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const overlaps = (a: Span, b: Span) => a.start < b.end && b.start < a.end;
  const taken: Array<Span & { replacement: string }> = [];
  hits.sort((a, b) => b.value.length - a.value.length);
  for (const h of hits) {
    if (markers.some((m) => overlaps(m, h))) continue;
    const hit = taken.find((t) => overlaps(t, h));
    if (hit) {
      hit.start = Math.min(hit.start, h.start);
      hit.end = Math.max(hit.end, h.end);
    } else taken.push({ start: h.start, end: h.end, replacement: marker(h.label, h.value) });
  }
  if (taken.length === 0) return text;
  taken.sort((a, b) => a.start - b.start);
  let out = '';
  let last = 0;
  for (const t of taken) {
    // A union grown after a later span was taken may now cover it: skip what is already replaced.
    if (t.end <= last) continue;
    out += text.slice(last, Math.max(last, t.start)) + t.replacement;
    last = t.end;
  }
  return out + text.slice(last);
}

// A secrets list is immutable once made: its index is kept for as long as the list lives.
const indexes = new WeakMap<readonly Secret[], SecretIndex>();

function indexOf(secrets: Secrets): SecretIndex {
  if (secrets instanceof SecretIndex) return secrets;
  let index = indexes.get(secrets);
  if (!index) {
    index = new SecretIndex();
    for (const { value, label } of secrets) index.add(value, label);
    indexes.set(secrets, index);
  }
  return index;
}

function redactCookiePair(pair: string, hide: (label: string, v: string) => string): string {
  const eq = pair.indexOf('=');
  if (eq === -1) return pair.trim() === '' ? pair : hide('cookie', pair.trim());
  const value = pair.slice(eq + 1).trim();
  return value === '' ? pair : `${pair.slice(0, eq)}=${hide('cookie', value)}`;
}

/** Hides the value of an input named like a sensitive field, and of any password input. */
function redactInputTag(tag: string, hide: (label: string, v: string) => string): string {
  let name: string | undefined;
  let type: string | undefined;
  let value: { start: number; end: number; raw: string } | undefined;
  for (const m of tag.slice(6).matchAll(ATTRIBUTE)) {
    const attr = m[1]!.toLowerCase();
    const raw = m[2] ?? m[3] ?? m[4];
    if (raw === undefined) continue;
    if (attr === 'name') name = decodeHtml(raw);
    else if (attr === 'type') type = raw.toLowerCase();
    else if (attr === 'value') {
      // Position of the raw value inside the tag: the match ends with the value and its closing quote, if any.
      const quoted = m[2] !== undefined || m[3] !== undefined ? 1 : 0;
      const end = 6 + m.index + m[0].length - quoted;
      value = { start: end - raw.length, end, raw };
    }
  }
  if (!value || value.raw === '') return tag;
  const label = name !== undefined && SENSITIVE.has(name) ? name : type === 'password' ? 'password' : undefined;
  if (!label || value.raw.startsWith('[redacted:')) return tag;
  return tag.slice(0, value.start) + hide(label, decodeHtml(value.raw)) + tag.slice(value.end);
}

function decodeForm(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** Enough of HTML character references for fingerprints of attribute values. */
function decodeHtml(raw: string): string {
  return raw.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (all, ref: string) => {
    const r = ref.toLowerCase();
    if (r === 'amp') return '&';
    if (r === 'lt') return '<';
    if (r === 'gt') return '>';
    if (r === 'quot') return '"';
    if (r === 'apos') return "'";
    const cp = r.startsWith('#x') ? parseInt(r.slice(2), 16) : parseInt(r.slice(1), 10);
    return Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
  });
}
