/**
 * A server under test in its own child process (server.ts, forked with an IPC channel): its port,
 * minting of single-use material in the server's own process, and its CPU usage.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MintedMessage, MintWhat, ReadyMessage, ServerKind, UsageMessage } from './server.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface StartOptions {
  alg?: 'ES256' | 'RS256';
  /** Another checkout whose mock is measured (npm run bench -- --mock-root DIR). */
  mockRoot?: string | undefined;
  /** More arguments for the kind (mock-redis: the store URL and the issuer). */
  extra?: readonly string[];
}

export class ServerProcess {
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (m: MintedMessage | UsageMessage) => void; reject: (e: Error) => void }>();
  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
    readonly ready: ReadyMessage,
  ) {
    child.on('message', (m: MintedMessage | UsageMessage) => {
      this.#waiting.get(m.id)?.resolve(m);
      this.#waiting.delete(m.id);
    });
    child.on('exit', (code) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`${label} server exited with ${code}`));
      this.#waiting.clear();
    });
  }

  static async start(label: string, kind: ServerKind, options: StartOptions = {}): Promise<ServerProcess> {
    const child = fork(`${HERE}server.ts`, [kind, options.alg ?? 'ES256', ...(options.extra ?? [])], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...(options.mockRoot && { BENCH_MOCK_ROOT: options.mockRoot }) },
    });
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      child.once('message', (m: ReadyMessage) => resolve(m));
      child.once('exit', (code) => reject(new Error(`${label} server exited with ${code} before it was ready`)));
    });
    return new ServerProcess(label, child, ready);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.ready.port}`;
  }

  #ask<T extends MintedMessage | UsageMessage>(message: Record<string, unknown>): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (m: MintedMessage | UsageMessage) => void, reject });
      this.child.send({ ...message, id });
    });
  }

  mint(what: MintWhat, n: number): Promise<MintedMessage> {
    return this.#ask({ type: 'mint', what, n });
  }

  usage(): Promise<UsageMessage> {
    return this.#ask({ type: 'usage' });
  }

  profile(on: boolean, file?: string): Promise<UsageMessage> {
    return this.#ask({ type: 'profile', on, file });
  }

  close(): void {
    this.child.disconnect();
  }
}
