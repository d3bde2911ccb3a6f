import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dashboard } from './dashboard.js';

/** Options of {@link serveDashboard}. */
export interface ServeOptions {
  /** Port (default 3000; 0 picks a free one). */
  readonly port?: number;
  /** Interface (default `127.0.0.1`). */
  readonly host?: string;
}

/** A running dashboard server. */
export interface ServedDashboard {
  /** The dashboard's URL, e.g. `http://127.0.0.1:3000/flows/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The `node:http` server. */
  readonly server: Server;
  /** Ends event streams, closes connections and the server. */
  close(): Promise<void>;
}

/**
 * Serves a dashboard on its own `node:http` server (for a separate admin port, the demo and
 * tests); to share your app's server use `dashboard.nodeListener` instead.
 */
export async function serveDashboard(
  dashboard: Dashboard,
  options: ServeOptions = {},
): Promise<ServedDashboard> {
  const server = createServer(dashboard.nodeListener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? 'localhost' : host;
  return {
    url: `http://${shown}:${port}${dashboard.basePath}/`,
    port,
    server,
    async close() {
      await dashboard.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
