/**
 * Failing a check: every failure states what was expected, what was seen, and the HTTP
 * exchanges that show it (already redacted), so it can be reproduced by hand.
 */
import type { Answer, Exchange } from './types.ts';

export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
  readonly code = 'CHECK_FAILED';
  constructor(
    readonly expected: string,
    readonly seen: string,
    readonly exchanges: Exchange[] = [],
  ) {
    super(`expected ${expected}\nseen: ${seen}`);
  }
}

/** A check that cannot apply after all (e.g. the target lacks what it needs). */
export class CheckSkip extends Error {
  override readonly name = 'CheckSkip';
  readonly code = 'CHECK_SKIPPED';
}

export function fail(expected: string, seen: string, ...answers: (Answer | Exchange | undefined)[]): never {
  const exchanges = answers.filter((a): a is Answer | Exchange => a !== undefined).map((a) => ('exchange' in a ? a.exchange : a));
  throw new CheckFailure(expected, seen, exchanges);
}

export function skip(reason: string): never {
  throw new CheckSkip(reason);
}

/** A short description of an answer for "seen:" lines. */
export function describe(a: Answer): string {
  const b = a.body;
  if (!b) return `HTTP ${a.status} with a non-JSON body`;
  if (typeof b.error === 'string') return `HTTP ${a.status} error=${b.error}${typeof b.error_description === 'string' ? ` (${b.error_description})` : ''}`;
  const fields = Object.keys(b).filter((k) => k !== 'error_description');
  return `HTTP ${a.status} with ${fields.length ? fields.join(', ') : 'an empty object'}`;
}

export function expectSuccess(a: Answer, what: string): void {
  if (a.status !== 200 || !a.body || typeof a.body.access_token !== 'string') {
    fail(`${what} to succeed: HTTP 200 with an access_token (RFC 6749 §5.1)`, describe(a), a);
  }
}

/** RFC 6749 §5.2: HTTP 400 with the given error code. */
export function expectOAuthError(a: Answer, code: string, what: string): void {
  if (a.status !== 400 || a.body?.error !== code) {
    fail(`${what}: HTTP 400 with error=${code} (RFC 6749 §5.2)`, describe(a), a);
  }
}

export function refreshTokenOf(a: Answer, what: string): string {
  const rt = a.body?.refresh_token;
  if (typeof rt !== 'string' || rt === '') fail(`${what}: a refresh_token in the token response`, describe(a), a);
  return rt;
}
