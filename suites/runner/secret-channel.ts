/**
 * The run's secrets, across its processes.
 *
 * The CLI runs each group file in its own vitest worker process, and each process learns its own secrets
 * (the tokens, codes and code_verifiers its checks handle: record.ts). A target may echo a value one
 * worker handled in an answer another worker judges, and only the CLI process prints and writes. So every
 * worker sends each secret it learns to the CLI process, which seals every result again with all of them
 * before it prints or writes it (vitest-reporter.ts).
 *
 * Ordering is what makes that enough: a worker waits for the CLI to acknowledge its secrets before it sends
 * the target anything (http.ts awaits `secretsShared()`), so any echo of a secret the harness sent reaches
 * the CLI after the secret did. The channel is one connection per worker to 127.0.0.1: newline-delimited
 * JSON, the first line the run's token (given to the workers through vitest's provide, in memory), then one
 * `{ value, label }` per secret, each acknowledged with `k`. Secrets flow only towards the CLI: the server
 * never sends one, so a stranger connecting can learn nothing (and without the token can add nothing).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { serveLoopback, type LoopbackServer } from './loopback-server.ts';
import type { SecretSink } from '../harness/record.ts';
import { HarnessError } from '../harness/errors.ts';

export interface SecretChannelServer extends LoopbackServer {
  /** What a worker presents first; anything else closes its connection. */
  token: string;
}

/** Longest line accepted (a secret with its label, JSON-encoded): a DPoP private key fits many times over. */
const MAX_LINE = 1 << 20;

/** The CLI's end: calls `learn` for every secret a worker sends, before acknowledging it. */
export async function serveSecretChannel(learn: (value: string, label: string) => void): Promise<SecretChannelServer> {
  const token = randomBytes(32).toString('base64url');
  const server = await serveLoopback('secret channel', (socket) => {
    let buffer = '';
    let authenticated = false;
    let refused = false;
    const refuse = (acks = '') => {
      refused = true;
      socket.end(acks);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (refused) return;
      buffer += chunk;
      if (buffer.length > MAX_LINE && !buffer.includes('\n')) return refuse();
      let acks = '';
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!authenticated) {
          if (line !== token) return refuse();
          authenticated = true;
          continue;
        }
        const secret = parseLine(line);
        // What was learnt before a bad line is acknowledged; nothing after it is read.
        if (!secret) return refuse(acks);
        learn(secret.value, secret.label);
        acks += 'k';
      }
      if (acks) socket.write(acks);
    });
  });
  return { ...server, token };
}

function parseLine(line: string): { value: string; label: string } | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string' && typeof (v as { label?: unknown }).label === 'string') {
      return v as { value: string; label: string };
    }
  } catch {
    // not JSON: the connection is closed below
  }
  return undefined;
}

/**
 * A worker's end. `share` queues a secret; `flushed` resolves once the CLI acknowledged every secret shared
 * so far, and rejects (an error of ours, so the check errors) once the channel is gone: a secret the CLI
 * does not know could reach its output unsealed.
 */
export function connectSecretChannel(port: number, token: string): SecretSink {
  let socket: Socket | undefined;
  let failure: HarnessError | undefined;
  let unacknowledged = 0;
  const waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const settle = () => {
    if (failure) for (const w of waiting.splice(0)) w.reject(failure);
    else if (unacknowledged === 0) for (const w of waiting.splice(0)) w.resolve();
  };
  const open = (): Socket => {
    if (socket) return socket;
    const s = connect({ host: '127.0.0.1', port });
    s.setEncoding('utf8');
    // The connection alone must not keep a finished worker alive.
    s.unref();
    s.on('data', (chunk: string) => {
      for (const c of chunk) if (c === 'k' && unacknowledged > 0) unacknowledged--;
      settle();
    });
    const fail = (e?: Error) => {
      failure ??= new HarnessError('SECRET_CHANNEL_CLOSED', `the run's secret channel to the CLI process (127.0.0.1:${port}) is gone${e ? `: ${e.message}` : ''}; nothing more is sent to the target, so nothing unsealed can come back`);
      settle();
    };
    s.on('error', fail);
    s.on('close', () => fail());
    s.write(`${token}\n`);
    socket = s;
    return s;
  };
  return {
    share(value, label) {
      if (failure) return;
      unacknowledged++;
      open().write(`${JSON.stringify({ value, label })}\n`);
    },
    flushed() {
      if (failure) return Promise.reject(failure);
      if (unacknowledged === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
      });
    },
  };
}
