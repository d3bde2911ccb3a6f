import { type Clock, InvalidArgumentError, systemClock, type WebhookReplayStore } from '@floworch/core';
import {
  emitLog,
  silentWebhookLogger,
  WebhookLogEvent,
  type WebhookLogger,
} from '../observability/log-events.js';

/** Options of {@link startReplayJanitor}. */
export interface ReplayJanitorOptions {
  /** The nonce store to purge. */
  readonly store: WebhookReplayStore;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Period between purges (default 60 s; the first purge happens after one period). */
  readonly intervalMs?: number;
  /** Receives purge failures (event 4009); they are retried next period. */
  readonly logger?: WebhookLogger;
}

/** A running janitor. */
export interface ReplayJanitor {
  /** Purges expired nonces now; returns how many were removed (0 after a logged failure). */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a purge in progress. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Periodically deletes expired replay nonces so the nonce table stays small. The timer is
 * `unref`'d: it never keeps the process alive on its own.
 */
export function startReplayJanitor(options: ReplayJanitorOptions): ReplayJanitor {
  if (!options?.store) throw new InvalidArgumentError('store', 'a WebhookReplayStore is required');
  const intervalMs = options.intervalMs ?? 60_000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new InvalidArgumentError(
      'intervalMs',
      `must be a positive number of milliseconds, got ${intervalMs}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentWebhookLogger;
  let running: Promise<number> | null = null;

  const runOnce = (): Promise<number> => {
    running ??= options.store
      .purgeExpired(clock.now())
      .catch((error: unknown) => {
        emitLog(
          logger,
          WebhookLogEvent.replayStoreFailed,
          'Purging expired webhook nonces failed.',
          {},
          error,
        );
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
