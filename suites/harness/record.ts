/**
 * Recorded HTTP exchanges: the evidence a failure message carries.
 * A Recorder belongs to one check. It redacts when it records, so no exchange it holds contains
 * a secret in the clear (see redact.ts), and it learns every secret-looking value it sees by name
 * (a refresh_token in a token response, a code in a Location header), so later exchanges hide
 * those values wherever they turn up. What it stores is also safe for a terminal: the target's control
 * characters are shown as escapes (safe-text.ts).
 *
 * Text leaves the harness at two boundaries, and both go through here: an exchange when it is recorded
 * (`record`), and a check's result when it is made (`sealResult`: message, expected/seen, timeline).
 */
import { redactHeader, redactText, replaceSecrets, type Secret, type Secrets } from './redact.ts';
import { SecretIndex } from './secret-search.ts';
import { safeText } from './safe-text.ts';

export type HeaderList = Array<[name: string, value: string]>;

export interface Exchange {
  method: string;
  url: string;
  requestHeaders: HeaderList;
  requestBody?: string;
  /** Absent when no response arrived (see `error`). */
  status?: number;
  statusText?: string;
  responseHeaders?: HeaderList;
  responseBody?: string;
  /** ISO 8601 time the request was sent. */
  startedAt: string;
  durationMs: number;
  /** Why the exchange did not complete (an HttpError's code and message). */
  error?: { code: string; message: string };
  /**
   * A step that is no HTTP exchange, recorded so a check's evidence shows its logout and clock steps
   * whatever the transport: `in-process`, a call of the embedded mock's control, as the control API
   * request it stands for; `real-clock`, a wait on the real clock (method WAIT, the seconds and why).
   */
  via?: 'in-process' | 'real-clock';
}

/**
 * Values found by name shorter than this are not learnt as secrets: a 3-letter `code` in an error body
 * would otherwise blank out every match of those letters. Explicit `addSecret` has no minimum.
 */
const MIN_LEARNT_SECRET_LENGTH = 8;

/**
 * The run's secrets: every secret any recorder of this process registered. A target may echo a token one
 * check handled in another check's answer, so each check's output is redacted with all of them.
 */
const RUN_SECRETS = new SecretIndex();

/**
 * Where this process sends each secret it learns, besides its own index: the CLI process, which prints and
 * writes what a run's worker processes found (suites/runner/secret-channel.ts). None in a single process.
 */
export interface SecretSink {
  share(value: string, label: string): void;
  /** Resolves once every secret shared so far is known where the output is sealed. */
  flushed(): Promise<void>;
}

let sink: SecretSink | undefined;

/** Sends this process's secrets, from now on, to `target` (the CLI's secret channel). */
export function shareSecretsWith(target: SecretSink | undefined): void {
  sink = target;
}

/**
 * Resolves when every secret this process learnt is known where the output is sealed. The HTTP client
 * awaits it before it sends the target anything: an echo of a secret then always arrives after it.
 */
export function secretsShared(): Promise<void> {
  return sink ? sink.flushed() : Promise.resolve();
}

export class Recorder {
  /** The secrets this recorder registered: its earlier exchanges are redacted again for each new one. */
  readonly #own = new Set<string>();
  readonly #exchanges: Exchange[] = [];
  /** What `record` returned for each exchange: a check's answers hold these (see indexOf). */
  readonly #returned: Exchange[] = [];

  /** Exchanges in the order they were recorded, redacted. */
  get exchanges(): readonly Exchange[] {
    return this.#exchanges;
  }

  /**
   * Registers a secret (client secret, password, token, admin token): from now on it is hidden
   * in every exchange, including those recorded before. Empty and undefined values are ignored.
   */
  addSecret(value: string | undefined | null, label = 'secret'): void {
    if (!value || this.#own.has(value)) return;
    this.#own.add(value);
    if (RUN_SECRETS.add(value, label)) sink?.share(value, label);
    // Earlier exchanges may hold the value outside any sensitive field: hide it there too.
    const added = [{ value, label: RUN_SECRETS.labelOf(value) ?? label }];
    for (let i = 0; i < this.#exchanges.length; i++) {
      this.#exchanges[i] = mapStrings(this.#exchanges[i]!, (s) => replaceSecrets(s, added));
    }
  }

  /** A recorder that already knows these secrets (e.g. `targetSecrets(target)`). */
  static of(secrets: Iterable<{ value: string; label: string }>): Recorder {
    const rec = new Recorder();
    for (const s of secrets) rec.addSecret(s.value, s.label);
    return rec;
  }

  /** Redacts any text with this recorder's secrets (for messages built outside exchanges). */
  redact(text: string): string {
    return redactText(text, RUN_SECRETS).text;
  }

  /** Redacts, then escapes control characters: text ready to leave the harness. */
  seal(text: string): string {
    return safeText(this.redact(text));
  }

  /** Redacts and stores an exchange; returns the stored copy. */
  record(raw: Exchange): Exchange {
    // First pass learns the values found by name, second pass hides them everywhere in this exchange.
    const learnt = redactExchange(raw, RUN_SECRETS).found;
    for (const s of learnt) {
      if (s.value.length >= MIN_LEARNT_SECRET_LENGTH) this.addSecret(s.value, s.label);
    }
    const stored = mapStrings(redactExchange(raw, RUN_SECRETS).exchange, safeText);
    this.#exchanges.push(stored);
    this.#returned.push(stored);
    return stored;
  }

  /**
   * Where an exchange (as `record` returned it, or as `exchanges` holds it now) stands among this
   * recorder's exchanges; -1 when it is not one of them. A verdict cites exchanges by this index.
   */
  indexOf(ex: Exchange): number {
    const i = this.#returned.indexOf(ex);
    return i >= 0 ? i : this.#exchanges.indexOf(ex);
  }
}

/** Redacts an exchange with the given secrets and the by-name rules. */
export function redactExchange(ex: Exchange, secrets: Secrets = []): { exchange: Exchange; found: Secret[] } {
  const found: Secret[] = [];
  const text = (s: string): string => {
    const r = redactText(s, secrets);
    found.push(...r.found);
    return r.text;
  };
  const headers = (list: HeaderList): HeaderList =>
    list.map(([name, value]) => {
      const r = redactHeader(name, value, secrets);
      found.push(...r.found);
      return [replaceSecrets(name, secrets), r.text];
    });
  const exchange: Exchange = {
    ...ex,
    method: text(ex.method),
    url: text(ex.url),
    ...(ex.statusText !== undefined && { statusText: text(ex.statusText) }),
    requestHeaders: headers(ex.requestHeaders),
    ...(ex.requestBody !== undefined && { requestBody: text(ex.requestBody) }),
    ...(ex.responseHeaders !== undefined && { responseHeaders: headers(ex.responseHeaders) }),
    ...(ex.responseBody !== undefined && { responseBody: text(ex.responseBody) }),
    ...(ex.error !== undefined && { error: { code: ex.error.code, message: text(ex.error.message) } }),
  };
  return { exchange, found };
}

function mapStrings(ex: Exchange, fn: (s: string) => string): Exchange {
  const headers = (list: HeaderList): HeaderList => list.map(([n, v]) => [fn(n), fn(v)]);
  return {
    ...ex,
    method: fn(ex.method),
    url: fn(ex.url),
    ...(ex.statusText !== undefined && { statusText: fn(ex.statusText) }),
    requestHeaders: headers(ex.requestHeaders),
    ...(ex.requestBody !== undefined && { requestBody: fn(ex.requestBody) }),
    ...(ex.responseHeaders !== undefined && { responseHeaders: headers(ex.responseHeaders) }),
    ...(ex.responseBody !== undefined && { responseBody: fn(ex.responseBody) }),
    ...(ex.error !== undefined && { error: { code: ex.error.code, message: fn(ex.error.message) } }),
  };
}

/**
 * A check's result as it leaves the harness: every string in it (message with expected/seen, exchanges,
 * timeline labels and error codes) redacted with the recorder's secrets and made safe for a terminal.
 * Exchanges are redacted again: a secret learnt after an exchange was recorded is hidden there too.
 */
export function sealResult<T extends object>(result: T, recorder: Recorder): T {
  return sealValue(result, recorder) as T;
}

/** Fingerprints and statuses are ours, and a short secret must not turn a fingerprint into a marker. */
const OWN_KEYS = new Set(['id', 'presented', 'status', 'level', 'startedAt']);

function sealValue(value: unknown, recorder: Recorder): unknown {
  if (typeof value === 'string') return recorder.seal(value);
  if (Array.isArray(value)) return value.map((v) => sealValue(v, recorder));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, OWN_KEYS.has(k) ? v : sealValue(v, recorder)]));
  }
  return value;
}

export interface FormatOptions {
  /** Longer bodies are cut, with a note of how much was left out. Default 4000. */
  maxBodyChars?: number;
}

/**
 * Renders an exchange as readable HTTP text, request lines prefixed `> `, response lines `< `:
 *
 *     > POST https://idp.example/token
 *     > content-type: application/x-www-form-urlencoded
 *     >
 *     > grant_type=refresh_token&refresh_token=[redacted:refresh_token#3fa2c1]
 *     < HTTP 400 Bad Request (12 ms)
 *     < content-type: application/json
 *     <
 *     < {"error":"invalid_grant"}
 */
export function formatExchange(ex: Exchange, options: FormatOptions = {}): string {
  const max = options.maxBodyChars ?? 4000;
  const lines: string[] = [`> ${ex.method} ${ex.url}${ex.via === 'in-process' ? " (in-process: the embedded mock's control, no HTTP)" : ex.via === 'real-clock' ? ' (real clock: the harness waited, no HTTP)' : ''}`];
  for (const [n, v] of ex.requestHeaders) lines.push(`> ${n}: ${v}`);
  if (ex.requestBody) lines.push('>', ...prefixLines('> ', cut(ex.requestBody, max)));
  if (ex.status !== undefined) {
    lines.push(`< HTTP ${ex.status}${ex.statusText ? ` ${ex.statusText}` : ''} (${ex.durationMs} ms)`);
    for (const [n, v] of ex.responseHeaders ?? []) lines.push(`< ${n}: ${v}`);
    if (ex.responseBody) lines.push('<', ...prefixLines('< ', cut(ex.responseBody, max)));
  }
  else if (ex.via !== undefined && !ex.error) {
    lines.push(`< ${ex.via === 'real-clock' ? 'waited' : 'done'} (${ex.durationMs} ms)`);
    if (ex.responseBody) lines.push(...prefixLines('< ', cut(ex.responseBody, max)));
  }
  if (ex.error) lines.push(`! ${ex.error.code}: ${ex.error.message} (${ex.durationMs} ms)`);
  return lines.join('\n');
}

/** Several exchanges, numbered, separated by blank lines. */
export function formatExchanges(list: readonly Exchange[], options: FormatOptions = {}): string {
  return list.map((ex, i) => `#${i + 1}\n${formatExchange(ex, options)}`).join('\n\n');
}

function cut(body: string, max: number): string {
  return body.length <= max ? body : `${body.slice(0, max)}\n... (${body.length - max} more characters)`;
}

function prefixLines(prefix: string, text: string): string[] {
  return text.split(/\r?\n/).map((l) => `${prefix}${l}`);
}
