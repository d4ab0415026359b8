/**
 * One regular expression per secret that finds it in every form an echo may take:
 * - each character raw, percent-encoded (UTF-8, upper- or lower-case hex; `+` for a space as in forms),
 *   JSON-escaped (`\uXXXX` in either case, surrogate pairs, `\"` `\\` `\/` `\n` ...), or an HTML character
 *   reference (named, decimal, hex); characters are matched one by one, so any mix of encoded and raw
 *   characters is found (System.Text.Json escapes only `+ < > & ' "`, a percent-encoder only some);
 * - Base64, standard and URL-safe, with or without padding, of the secret and of its form encoding
 *   (RFC 6749 §2.3.1 form-encodes a client secret before Basic); and, for secrets long enough that a
 *   match cannot be chance, the characters fully determined by the secret inside a larger Base64 string,
 *   at each of the three byte alignments it may have there.
 */
import { HTML_NAMES, JSON_SHORT_ESCAPES } from './secret-encodings.ts';

/**
 * Inside a larger Base64 string only this many characters or more are matched (a secret of 6 bytes and
 * up): shorter fragments turn up by chance in unrelated Base64 text. The secret's own encoding, whole, is
 * always matched; a short secret inside a larger blob (Basic `id:secret`) is registered as its own secret.
 */
export const MIN_INNER_BASE64 = 8;

const cache = new Map<string, RegExp>();

/** A global regex matching `value` in any of its encodings. Memoized: tokens recur in every exchange. */
export function secretMatcher(value: string): RegExp {
  let re = cache.get(value);
  if (!re) {
    re = new RegExp([...base64Forms(value).map(escapeRegExp), [...value].map(charPattern).join('')].join('|'), 'g');
    if (cache.size >= 10_000) cache.clear();
    cache.set(value, re);
  }
  re.lastIndex = 0;
  return re;
}

/** Base64 forms of the secret, longest first (a whole padded encoding before its inner fragments). */
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
  return [...out].filter(Boolean).sort((a, b) => b.length - a.length);
}

/**
 * The Base64 characters that depend only on `bytes` when they sit `align` bytes into a 3-byte group of
 * a larger string: character i covers bits [6i, 6i+6), the secret bits [8·align, 8·(align+n)).
 */
export function innerBase64(bytes: Uint8Array, align: number): string {
  const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString('base64');
  return encoded.slice(Math.ceil((8 * align) / 6), Math.floor((8 * (align + bytes.length)) / 6));
}

/** Every way one character may be written in URLs, forms, JSON and HTML. */
function charPattern(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const alts = new Set<string>([escapeRegExp(ch)]);
  if (ch === ' ') alts.add('\\+');
  alts.add([...Buffer.from(ch, 'utf8')].map((b) => `%${hexAnyCase(b, 2)}`).join(''));
  const units = ch.length === 2 ? [ch.charCodeAt(0), ch.charCodeAt(1)] : [cp];
  alts.add(units.map((u) => `\\\\u${hexAnyCase(u, 4)}`).join(''));
  const short = JSON_SHORT_ESCAPES[ch];
  if (short) alts.add(escapeRegExp(short));
  alts.add(`&#0*${cp};?`);
  alts.add(`&#[xX]0*${hexAnyCase(cp, 1)};?`);
  for (const name of HTML_NAMES[ch] ?? []) alts.add(`&${name}${LEGACY_WITHOUT_SEMICOLON.has(name) ? ';?' : ';'}`);
  return `(?:${[...alts].join('|')})`;
}

/** HTML parses these few without their semicolon. */
const LEGACY_WITHOUT_SEMICOLON = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT', 'nbsp']);

function hexAnyCase(n: number, width: number): string {
  return n
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function toUrlSafe(b64: string): string {
  return b64.replace(/\+/g, '-').replace(/\//g, '_');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
