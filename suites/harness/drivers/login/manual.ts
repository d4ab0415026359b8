/**
 * Login by a person, for a staging IdP behind MFA that no script can pass: the driver prints the
 * authorization URL, the person signs in with a browser of their own and pastes back the address the
 * browser was sent to (the redirect_uri with `code` and `state`; for a private-use scheme or an app that
 * does not run, the browser shows an error page, and the address bar still has it).
 *
 * It needs a terminal: without one (CI, stdin not a TTY) it fails at once with LOGIN_NOT_INTERACTIVE
 * instead of waiting for input that will never come. One prompt at a time, however many checks log in.
 * The person's browser session is not available to the harness: the cookie jar of the result is empty.
 */
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReadStream, WriteStream } from 'node:tty';
import { CookieJar } from 'tough-cookie';
import { LoginError } from '../../errors.ts';
import type { Http } from '../../http.ts';
import { sameEndpoint, type Arrival } from '../browse.ts';
import { readAuthorizationResponse, type LoginDriver, type LoginInput, type LoginResult } from './types.ts';

/** The terminal streams; injectable for tests. */
export interface ManualLoginOptions {
  /** Where the person types; must be a TTY (`isTTY`). Default: stdin if it is one, else /dev/tty. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the instructions go. Default: stderr (with stdin), or /dev/tty. */
  output?: NodeJS.WritableStream;
  /** Pastes that are not the redirect_uri allowed before giving up. Default 3. */
  attempts?: number;
}

export function createManualLogin(options: ManualLoginOptions = {}): LoginDriver {
  return { kind: 'manual', login: (http, input) => manualLogin(http, input, options) };
}

let turn: Promise<unknown> = Promise.resolve();

export async function manualLogin(http: Http, input: LoginInput, options: ManualLoginOptions = {}): Promise<LoginResult> {
  // One person, one prompt at a time.
  const mine = turn.then(() => prompt(http, input, options));
  turn = mine.catch(() => undefined);
  return mine;
}

async function prompt(http: Http, input: LoginInput, options: ManualLoginOptions): Promise<LoginResult> {
  const term = openTerminal(options);
  const rl = createInterface({ input: term.input, terminal: false });
  const write = (text: string) => term.output.write(text);
  const lines = rl[Symbol.asyncIterator]();
  const onAbort = () => rl.close();
  input.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    write(
      [
        '',
        '── manual login ─────────────────────────────────────────────────────',
        'Open this URL in a browser and sign in:',
        '',
        `  ${input.authorizationUrl}`,
        '',
        `The IdP then sends the browser to ${input.redirectUri}?code=…`,
        'The page there may not load; that is expected. Copy the whole address from the',
        'address bar and paste it here.',
        '',
      ].join('\n'),
    );
    let attempts = options.attempts ?? 3;
    for (;;) {
      write('redirect URL> ');
      const next = await lines.next();
      input.signal?.throwIfAborted();
      if (next.done) {
        throw new LoginError('LOGIN_NOT_INTERACTIVE', 'manual login: the terminal closed before the redirect URL was pasted');
      }
      const pasted = next.value.trim();
      if (pasted === '') continue;
      const problem = checkPaste(pasted, input);
      if (problem === undefined) {
        write('Thank you.\n');
        return readAuthorizationResponse(http, toArrival(pasted), input, new CookieJar(), 0);
      }
      if (--attempts <= 0) throw new LoginError('LOGIN_UNEXPECTED_RESPONSE', `manual login: ${problem}, and no attempts are left`);
      write(`${problem}; try again (${attempts} left).\n`);
    }
  } finally {
    input.signal?.removeEventListener('abort', onAbort);
    rl.close();
    term.close();
  }
}

/** Why a paste is not this login's authorization response; undefined when it is. */
function checkPaste(pasted: string, input: LoginInput): string | undefined {
  let url: URL;
  try {
    url = new URL(pasted);
  } catch {
    return 'that is not a URL';
  }
  if (!sameEndpoint(url, input.redirectUri)) return `that is not an address at ${input.redirectUri}`;
  const params = toArrival(pasted).params;
  // An authorization error is an answer: readAuthorizationResponse reports it.
  if (params.has('error')) return undefined;
  if (params.get('state') !== input.state) return 'that address belongs to another login (its state differs); sign in with the URL above';
  if (!params.get('code')) return 'that address has no code';
  return undefined;
}

function toArrival(url: string): Arrival {
  const u = new URL(url);
  const params = new URLSearchParams(u.search);
  for (const [k, v] of new URLSearchParams(u.hash.slice(1))) if (!params.has(k)) params.append(k, v);
  return { url: u.href, params, via: 'redirect' };
}

interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
  close(): void;
}

const NOT_INTERACTIVE = 'login driver "manual" needs a person at a terminal, but stdin is not a TTY (in CI use the form or browser driver)';

/** The given streams, or the process's terminal: stdin if it is a TTY, else the controlling terminal (/dev/tty). */
function openTerminal(options: ManualLoginOptions): Terminal {
  if (options.input) {
    if (!options.input.isTTY) throw new LoginError('LOGIN_NOT_INTERACTIVE', NOT_INTERACTIVE);
    return { input: options.input, output: options.output ?? process.stderr, close: () => undefined };
  }
  if (process.stdin.isTTY) return { input: process.stdin, output: options.output ?? process.stderr, close: () => process.stdin.pause() };
  // A test worker's stdin is a pipe, but the run may still have a terminal.
  let fds: [number, number];
  try {
    fds = [openSync('/dev/tty', 'r'), openSync('/dev/tty', 'w')];
  } catch {
    throw new LoginError('LOGIN_NOT_INTERACTIVE', NOT_INTERACTIVE);
  }
  const ttyIn = new ReadStream(fds[0]);
  const ttyOut = new WriteStream(fds[1]);
  return {
    input: ttyIn,
    output: options.output ?? ttyOut,
    close: () => {
      ttyIn.destroy();
      ttyOut.destroy();
    },
  };
}
