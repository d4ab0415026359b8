/**
 * Failing a check: every failure states what was expected, what was seen, and the HTTP
 * exchanges that show it (already redacted), so it can be reproduced by hand.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tokenResponseProblem } from '../harness/oauth.ts';
import type { Answer, Exchange } from './types.ts';

/**
 * What a check asserted while it ran. A check that returns having asserted nothing is
 * inconclusive, never passed (a vacuous pass is the worst verdict a conformance tool can give).
 * Every expect* helper records what it asserted; the runner reads the list (collectAssertions).
 */
const assertions = new AsyncLocalStorage<string[]>();

/** Records that the running check asserted `what` (and it held). */
export function asserted(what: string): void {
  assertions.getStore()?.push(what);
}

/** Runs `fn` with its own assertion list; returns the list whatever `fn` did (thrown errors pass through). */
export async function collectAssertions(fn: () => Promise<void>, into: string[] = []): Promise<string[]> {
  await assertions.run(into, fn);
  return into;
}

/** A verdict on the IdP: what was expected, what was seen, and the exchanges that show it. */
abstract class CheckVerdict extends Error {
  constructor(
    readonly expected: string,
    readonly seen: string,
    readonly exchanges: Exchange[] = [],
  ) {
    super(`expected ${expected}\nseen: ${seen}`);
  }
}

export class CheckFailure extends CheckVerdict {
  override readonly name = 'CheckFailure';
  readonly code = 'CHECK_FAILED';
}

/** A check that cannot apply after all (e.g. the target lacks what it needs). */
export class CheckSkip extends Error {
  override readonly name = 'CheckSkip';
  readonly code = 'CHECK_SKIPPED';
}

/**
 * Applicable, but nothing could be observed (no id_token to compare, a real-clock window too
 * narrow to probe): the reason says what was missing, with the numbers.
 */
export class CheckInconclusive extends Error {
  override readonly name = 'CheckInconclusive';
  readonly code = 'CHECK_INCONCLUSIVE';
}

/** A SHOULD-level rule broken, or a MAY the IdP did not take: reported, fails the run only with --strict. */
export class CheckWarning extends CheckVerdict {
  override readonly name = 'CheckWarning';
  readonly code = 'CHECK_WARNING';
}

export function fail(expected: string, seen: string, ...answers: (Answer | Exchange | undefined)[]): never {
  // An answer the harness could not judge (real clock: it may have crossed the end of the SSO session) proves no failure.
  for (const a of answers) if (a && 'unjudgeable' in a && typeof a.unjudgeable === 'string') inconclusive(`expected ${expected}, seen ${seen}; but ${a.unjudgeable}`);
  throw new CheckFailure(expected, seen, exchangesOf(answers));
}

export function skip(reason: string): never {
  throw new CheckSkip(reason);
}

export function inconclusive(reason: string): never {
  throw new CheckInconclusive(reason);
}

function exchangesOf(answers: (Answer | Exchange | undefined)[]): Exchange[] {
  return answers.filter((a): a is Answer | Exchange => a !== undefined).map((a) => ('exchange' in a ? a.exchange : a));
}

export function warn(expected: string, seen: string, ...answers: (Answer | Exchange | undefined)[]): never {
  throw new CheckWarning(expected, seen, exchangesOf(answers));
}

/** Asserts `ok` (recording `expected` as asserted), else fails with what was seen. */
export function expectThat(ok: boolean, expected: string, seen: () => string, ...answers: (Answer | Exchange | undefined)[]): void {
  if (!ok) fail(expected, seen(), ...answers);
  asserted(expected);
}

/** Members that carry credentials: shown as present, never as values (the report redacts too, but a seen line needs no token). */
const TOKEN_MEMBERS = new Set(['access_token', 'refresh_token', 'id_token', 'device_code', 'client_secret']);

function member(name: string, v: unknown): string {
  if (TOKEN_MEMBERS.has(name)) return typeof v === 'string' && v !== '' ? `${name}=<present>` : `${name}=${JSON.stringify(v) ?? String(v)}`;
  const text = JSON.stringify(v) ?? String(v);
  return `${name}=${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

/**
 * A short description of an answer for "seen:" lines, with the values of its members
 * (`HTTP 200 active=false`, `HTTP 200 access_token=<present>, expires_in="300"`): what differed
 * shows. Token members are shown as present only.
 */
export function describe(a: Answer): string {
  const b = a.body;
  if (!b) return `HTTP ${a.status} with a non-JSON body`;
  if (typeof b.error === 'string') return `HTTP ${a.status} error=${b.error}${typeof b.error_description === 'string' ? ` (${b.error_description})` : ''}`;
  const fields = Object.entries(b)
    .filter(([k]) => k !== 'error_description')
    .map(([k, v]) => member(k, v));
  return `HTTP ${a.status} ${fields.length ? fields.join(', ') : 'with an empty JSON object'}`;
}

/**
 * The token response worked: HTTP 200 and a well-formed body (the strict parse of
 * harness/oauth.ts, as a client would process it); else fails naming the member.
 */
export function expectSuccess(a: Answer, what: string): void {
  if (a.status !== 200 || !a.body || typeof a.body.error === 'string') {
    fail(`${what} to succeed: HTTP 200 with an access_token (RFC 6749 §5.1)`, describe(a), a);
  }
  const problem = tokenResponseProblem(a.body, { ...(a.tokenType && { tokenType: a.tokenType }) });
  if (problem) fail(`${what} to succeed with a well-formed token response (RFC 6749 §5.1)`, `HTTP 200 but ${problem}`, a);
  asserted(`${what} succeeds`);
}

/** A token "works" when the endpoint answered 2xx with an access token. */
function works(a: Answer): boolean {
  return a.status >= 200 && a.status < 300 && typeof a.body?.access_token === 'string';
}

/**
 * The token was refused: fails only when it still works. The error code of a refusal is judged
 * once, by the error checks (token-endpoint.error-shape, token-endpoint.refused-token-error).
 */
export function expectRefused(a: Answer, what: string, ...context: (Answer | undefined)[]): void {
  if (works(a)) fail(`${what} to be refused`, describe(a), ...context, a);
  asserted(`${what} refused`);
}

/** RFC 6749 §5.2: HTTP 400 with the given error code. */
export function expectOAuthError(a: Answer, code: string, what: string): void {
  if (a.status !== 400 || a.body?.error !== code) {
    fail(`${what}: HTTP 400 with error=${code} (RFC 6749 §5.2)`, describe(a), a);
  }
  asserted(`${what}: error=${code}`);
}

/** The refresh token of a response the check judges: a well-formed success carrying one. */
export function refreshTokenOf(a: Answer, what: string): string {
  expectSuccess(a, what);
  const rt = a.body?.refresh_token;
  if (typeof rt !== 'string' || rt === '') fail(`${what}: a refresh_token in the token response`, describe(a), a);
  asserted(`${what}: a refresh_token`);
  return rt;
}

/**
 * The refresh token a check needs to start from (its precondition, not its condition): without
 * one the check observed nothing and is inconclusive; offline-access.issued-with-offline-access
 * and the strict parse in the checks that judge the code exchange fail for it.
 */
export function givenRefreshToken(a: Answer, what: string): string {
  const problem = a.status !== 200 || !a.body ? describe(a) : tokenResponseProblem(a.body, { ...(a.tokenType && { tokenType: a.tokenType }) });
  if (problem) inconclusive(`${what} did not succeed (${problem}): no refresh token to start from`);
  const rt = a.body?.refresh_token;
  if (typeof rt !== 'string' || rt === '') inconclusive(`${what} returned no refresh_token (${describe(a)}): nothing to start from`);
  return rt;
}
