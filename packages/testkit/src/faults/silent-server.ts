import { createServer, type Socket } from 'node:net';

/** A listening socket that never answers; see {@link startSilentServer}. */
export interface SilentServer {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Drops every accepted connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a TCP server on 127.0.0.1 that accepts connections and never sends a byte: the shape of
 * a database host that is up at the network level but hung. A backend's connect timeout must turn
 * it into a clear error instead of a hang.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    // A client that gives up resets the socket; that is expected, not a fault.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
