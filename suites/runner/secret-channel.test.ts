/**
 * The secret channel: a worker's secrets reach the CLI process before the worker sends the target anything,
 * only with the run's token, and a lost channel stops the worker's requests (an error of ours).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createHttp } from '../harness/http.ts';
import { Recorder, shareSecretsWith } from '../harness/record.ts';
import { connectSecretChannel, serveSecretChannel, type SecretChannelServer } from './secret-channel.ts';

let server: SecretChannelServer | undefined;
afterEach(async () => {
  shareSecretsWith(undefined);
  await server?.close();
  server = undefined;
});

describe('the secret channel', () => {
  test('a shared secret is known to the CLI once flushed resolves', async () => {
    const learnt: Array<[string, string]> = [];
    server = await serveSecretChannel((value, label) => learnt.push([value, label]));
    const sink = connectSecretChannel(server.port, server.token);
    sink.share('rt-one-value', 'refresh_token');
    sink.share('verifier-two', 'code_verifier');
    await sink.flushed();
    expect(learnt).toEqual([
      ['rt-one-value', 'refresh_token'],
      ['verifier-two', 'code_verifier'],
    ]);
    // Nothing outstanding: resolves at once.
    await expect(sink.flushed()).resolves.toBeUndefined();
  });

  test('without the run token nothing is learnt and the connection is closed', async () => {
    const learnt: string[] = [];
    server = await serveSecretChannel((value) => learnt.push(value));
    const sink = connectSecretChannel(server.port, 'not-the-token');
    sink.share('junk-secret-value', 'secret');
    await expect(sink.flushed()).rejects.toMatchObject({ code: 'SECRET_CHANNEL_CLOSED' });
    expect(learnt).toEqual([]);
  });

  test('a malformed line closes the connection; the server sends nothing but acknowledgements', async () => {
    const learnt: string[] = [];
    server = await serveSecretChannel((value) => learnt.push(value));
    const received = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: server!.port });
      let text = '';
      s.setEncoding('utf8').on('data', (d: string) => (text += d));
      s.on('close', () => resolve(text));
      s.write(`${server!.token}\n${JSON.stringify({ value: 'good-secret', label: 'secret' })}\nnot json\n${JSON.stringify({ value: 'after', label: 'x' })}\n`);
    });
    expect(received).toBe('k');
    expect(learnt).toEqual(['good-secret']);
  });

  test('a lost channel rejects flushed with SECRET_CHANNEL_CLOSED, and the HTTP client sends nothing', async () => {
    server = await serveSecretChannel(() => undefined);
    const sink = connectSecretChannel(server.port, server.token);
    sink.share('first-secret', 'secret');
    await sink.flushed();
    await server.close();
    server = undefined;
    sink.share('second-secret', 'secret');
    const err = await sink.flushed().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SECRET_CHANNEL_CLOSED', message: expect.stringMatching(/secret channel .* is gone/) });

    shareSecretsWith(sink);
    let sent = 0;
    const http = createHttp({ requestTimeoutMs: 2_000, fetch: async () => (sent++, new Response('{}')) });
    await expect(http.request('GET', 'http://127.0.0.1:1/never')).rejects.toMatchObject({ code: 'SECRET_CHANNEL_CLOSED' });
    expect(sent).toBe(0);
  });

  test('a request waits until the secrets learnt before it are acknowledged', async () => {
    const learnt: string[] = [];
    server = await serveSecretChannel((value) => learnt.push(value));
    shareSecretsWith(connectSecretChannel(server.port, server.token));
    const seenAtSend: string[][] = [];
    const http = createHttp({ requestTimeoutMs: 5_000, fetch: async () => (seenAtSend.push([...learnt]), new Response('{}')) });
    const recorder = new Recorder();
    recorder.addSecret('a-verifier-just-made-' + Math.random().toString(36).slice(2), 'code_verifier');
    await http.withRecorder(recorder).request('GET', 'http://127.0.0.1:1/token');
    expect(seenAtSend).toHaveLength(1);
    expect(seenAtSend[0]!.some((v) => v.startsWith('a-verifier-just-made-'))).toBe(true);
  });
});
