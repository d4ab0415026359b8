/**
 * A TCP server of the CLI process on 127.0.0.1 (a free port) for its worker processes: the slot server
 * (limiter.ts) and the secret channel (secret-channel.ts). Closing it drops every connection.
 */
import { createServer, type Socket } from 'node:net';

export interface LoopbackServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `onConnection` for each connection; `what` names the server in an error. */
export async function serveLoopback(what: string, onConnection: (socket: Socket) => void): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`${what}: no TCP address`);
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
