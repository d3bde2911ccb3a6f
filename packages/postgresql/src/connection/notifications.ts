import pg from 'pg';
import type { NotificationSource } from '../stores/queue-store.js';

/** Waits before reconnecting a dropped listener connection. */
const RECONNECT_MS = [250, 1_000, 5_000];

/**
 * LISTEN on a dedicated connection (never a pooled one: a listener must stay on one session).
 * A dropped connection is logged through `onError` and re-opened with back-off; notifications
 * missed meanwhile are covered by the consumers' polling.
 */
export function pgNotifications(
  config: pg.ClientConfig,
  onError: (error: unknown) => void,
): NotificationSource {
  return async (channel, onPayload) => {
    let closed = false;
    let client: pg.Client | undefined;
    let failures = 0;
    const connect = async (): Promise<void> => {
      if (closed) return;
      const next = new pg.Client(config);
      next.on('error', (error) => {
        onError(error);
        reconnect(next);
      });
      next.on('notification', (message) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        if (closed) {
          await next.end().catch(() => {});
          return;
        }
        client = next;
        failures = 0;
        onPayload(''); // anything queued while we were away: let the consumer look once
      } catch (error) {
        onError(error);
        reconnect(next);
      }
    };
    const reconnect = (broken: pg.Client): void => {
      if (client === broken) client = undefined;
      void broken.end().catch(() => {});
      if (closed) return;
      const delay = RECONNECT_MS[Math.min(failures++, RECONNECT_MS.length - 1)]!;
      setTimeout(() => void connect(), delay).unref();
    };
    await connect();
    return async () => {
      closed = true;
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    };
  };
}
