/**
 * Finding a secret in every form an echo may take, fast enough for every exchange of a run.
 *
 * The text is decoded once, every escape to its character: percent-encoding (UTF-8 bytes, upper- or
 * lower-case hex), JSON escapes (`\uXXXX` in either case, surrogate pairs, `\"` `\\` `\/` `\n` ...) and
 * HTML character references (named, decimal, hex, the legacy ones without `;`), keeping for every decoded
 * character the span of the text it came from. Each secret is then looked for, as plain strings, in the
 * text and in its decoded form, so any mix of encoded and raw characters is found (System.Text.Json
 * escapes only `+ < > & ' "`, a percent-encoder only some characters). The strings are the secret, the
 * secret with `+` for spaces (forms), and its Base64 forms (base64Forms).
 */
import { HTML_NAMES, JSON_SHORT_ESCAPES } from './secret-encodings.ts';

/**
 * Inside a larger Base64 string only this many characters or more are matched (a secret of 6 bytes and
 * up): shorter fragments turn up by chance in unrelated Base64 text. The secret's own encoding, whole, is
 * always matched; a short secret inside a larger blob (Basic `id:secret`) is registered as its own secret.
 */
export const MIN_INNER_BASE64 = 8;

/** Where a secret was found: a span of the text. */
export interface Span {
  start: number;
  end: number;
}

/** The text with every escape decoded, and for each decoded UTF-16 unit the span of the text it came from. */
export interface Decoded {
  text: string;
  from: Int32Array;
  to: Int32Array;
}

const needleCache = new Map<string, readonly string[]>();

/** The plain strings that betray `value`: itself, with `+` for spaces, and its Base64 forms. Longest first. */
export function needlesOf(value: string): readonly string[] {
  let needles = needleCache.get(value);
  if (!needles) {
    const set = new Set([value, value.replace(/ /g, '+'), ...base64Forms(value)]);
    needles = [...set].filter(Boolean).sort((a, b) => b.length - a.length);
    if (needleCache.size >= 10_000) needleCache.clear();
    needleCache.set(value, needles);
  }
  return needles;
}

/** A span of text holding a secret. */
export interface Hit extends Span {
  value: string;
  label: string;
}

/** Needles at least this long are found through an index of their first characters; shorter ones one by one. */
const KEY = 8;

/**
 * A growing set of secrets, indexed so that finding all of them in a text costs one pass over the text
 * whatever their number (a run handles hundreds of tokens): every needle is filed under its first KEY
 * characters, and each position of the text looks its KEY characters up.
 */
export class SecretIndex {
  readonly #labels = new Map<string, string>();
  readonly #byKey = new Map<string, Array<[needle: string, value: string]>>();
  readonly #short: Array<[needle: string, value: string]> = [];

  get size(): number {
    return this.#labels.size;
  }

  has(value: string): boolean {
    return this.#labels.has(value);
  }

  labelOf(value: string): string | undefined {
    return this.#labels.get(value);
  }

  /** Adds a secret; false when it was there already (its first label stays). Empty values are ignored. */
  add(value: string, label: string): boolean {
    if (!value || this.#labels.has(value)) return false;
    this.#labels.set(value, label);
    for (const needle of needlesOf(value)) {
      if (needle.length < KEY) {
        this.#short.push([needle, value]);
        continue;
      }
      const key = needle.slice(0, KEY);
      const list = this.#byKey.get(key);
      if (list) list.push([needle, value]);
      else this.#byKey.set(key, [[needle, value]]);
    }
    return true;
  }

  /** Every span of `text` holding a secret of the set, in some encoding. */
  find(text: string, decoded: Decoded = decodeEscapes(text)): Hit[] {
    if (this.#labels.size === 0 || text === '') return [];
    const hits: Hit[] = [];
    const hit = (span: Span, value: string) => hits.push({ ...span, value, label: this.#labels.get(value)! });
    const scan = (t: string, map: (start: number, end: number) => Span) => {
      if (this.#byKey.size > 0) {
        for (let i = 0; i + KEY <= t.length; i++) {
          const list = this.#byKey.get(t.slice(i, i + KEY));
          if (!list) continue;
          for (const [needle, value] of list) if (t.startsWith(needle, i)) hit(map(i, i + needle.length), value);
        }
      }
      for (const [needle, value] of this.#short) {
        for (let i = t.indexOf(needle); i !== -1; i = t.indexOf(needle, i + 1)) hit(map(i, i + needle.length), value);
      }
    };
    scan(text, (start, end) => ({ start, end }));
    if (decoded.text !== text) scan(decoded.text, (start, end) => ({ start: decoded.from[start]!, end: decoded.to[end - 1]! }));
    return hits;
  }
}

/** True when `text` holds `value` in some encoding. */
export function containsSecret(text: string, value: string): boolean {
  const index = new SecretIndex();
  index.add(value, 'secret');
  return index.find(text).length > 0;
}

/** Base64 forms of the secret: whole (standard and URL-safe, padded or not), and its inner fragments. */
export function base64Forms(value: string): string[] {
  const out = new Set<string>();
  for (const text of new Set([value, formEncode(value)])) {
    const bytes = Buffer.from(text, 'utf8');
    const std = bytes.toString('base64');
    for (const s of [std, std.replace(/=+$/, '')]) {
      out.add(s);
      out.add(toUrlSafe(s));
    }
    for (const align of [0, 1, 2]) {
      const inner = innerBase64(bytes, align);
      if (inner.length >= MIN_INNER_BASE64) {
        out.add(inner);
        out.add(toUrlSafe(inner));
      }
    }
  }
  return [...out].filter(Boolean);
}

/**
 * The Base64 characters that depend only on `bytes` when they sit `align` bytes into a 3-byte group of
 * a larger string: character i covers bits [6i, 6i+6), the secret bits [8·align, 8·(align+n)).
 */
export function innerBase64(bytes: Uint8Array, align: number): string {
  const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString('base64');
  return encoded.slice(Math.ceil((8 * align) / 6), Math.floor((8 * (align + bytes.length)) / 6));
}

const ESCAPE_START = /[%\\&]/;
const NO_MAP = new Int32Array(0);
const HTML_BY_NAME = new Map(Object.entries(HTML_NAMES).flatMap(([ch, names]) => names.map((n) => [n, ch] as const)));
const LEGACY_WITHOUT_SEMICOLON = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT', 'nbsp']);
const JSON_UNESCAPE = new Map(Object.entries(JSON_SHORT_ESCAPES).map(([ch, esc]) => [esc[1]!, ch]));

/** Decodes every percent, JSON and HTML escape of `text` in one pass (see the module comment). */
export function decodeEscapes(text: string): Decoded {
  // Nothing to decode: the maps are never read (SecretIndex.find searches the text itself).
  if (!ESCAPE_START.test(text)) return { text, from: NO_MAP, to: NO_MAP };
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  const emit = (chars: string, start: number, end: number) => {
    out += chars;
    for (let k = 0; k < chars.length; k++) {
      from.push(start);
      to.push(end);
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const unit = c === '%' ? percentAt(text, i) : c === '\\' ? jsonAt(text, i) : c === '&' ? htmlAt(text, i) : undefined;
    if (unit) {
      emit(unit.chars, i, unit.end);
      i = unit.end;
    } else {
      emit(c, i, i + 1);
      i++;
    }
  }
  return { text: out, from: Int32Array.from(from), to: Int32Array.from(to) };
}

interface Unit {
  chars: string;
  end: number;
}

const HEX2 = /^[0-9a-fA-F]{2}$/;

/** One UTF-8 character as `%XX` triples. */
function percentAt(text: string, i: number): Unit | undefined {
  const byte = (at: number) => (text[at] === '%' && HEX2.test(text.slice(at + 1, at + 3)) ? parseInt(text.slice(at + 1, at + 3), 16) : -1);
  const lead = byte(i);
  if (lead < 0) return undefined;
  const len = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (len === 0) return undefined;
  const bytes = [lead];
  for (let k = 1; k < len; k++) {
    const b = byte(i + 3 * k);
    if (b < 0x80 || b > 0xbf) return undefined;
    bytes.push(b);
  }
  const chars = new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(bytes));
  return chars.includes('\ufffd') ? undefined : { chars, end: i + 3 * len };
}

/** A JSON escape: `\uXXXX` (a surrogate pair as one unit) or a two-character one. */
function jsonAt(text: string, i: number): Unit | undefined {
  const next = text[i + 1];
  if (next === 'u' || next === 'U') {
    const hex = text.slice(i + 2, i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
    return { chars: String.fromCharCode(parseInt(hex, 16)), end: i + 6 };
  }
  const ch = next !== undefined ? JSON_UNESCAPE.get(next) : undefined;
  return ch !== undefined ? { chars: ch, end: i + 2 } : undefined;
}

/** An HTML character reference: `&#65;`, `&#x41;`, `&amp;` (and `&#65`, `&amp` without `;`). */
function htmlAt(text: string, i: number): Unit | undefined {
  const m = /^&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}))(;?)/.exec(text.slice(i, i + 40));
  if (!m) return undefined;
  const [all, dec, hex, name, semi] = m;
  if (name !== undefined) {
    const ch = HTML_BY_NAME.get(name);
    if (ch === undefined || (!semi && !LEGACY_WITHOUT_SEMICOLON.has(name))) return undefined;
    return { chars: ch, end: i + all.length };
  }
  const cp = dec !== undefined ? parseInt(dec, 10) : parseInt(hex!, 16);
  if (!(cp > 0 && cp <= 0x10ffff)) return undefined;
  return { chars: String.fromCodePoint(cp), end: i + all.length };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function toUrlSafe(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}
