import { ManualClock } from '@floworch/core';
import { createInMemoryWebhookRejectionStore, createInMemoryWebhookReplayStore } from '@floworch/inmemory';
import {
  createWebhookPipeline,
  InMemoryWebhookMetrics,
  type WebhookLogEntry,
  type WebhookSecurityOptions,
} from '../src/index.js';

/** 2023-11-14T22:13:20Z = Unix 1 700 000 000. */
export const T0 = 1_700_000_000;

/** A pipeline wired to real in-memory stores, a manual clock, and recording log/metric sinks. */
export function harness(options: Partial<WebhookSecurityOptions> = {}) {
  const clock = new ManualClock(T0 * 1000);
  const replayStore = createInMemoryWebhookReplayStore({ clock });
  const rejectionStore = createInMemoryWebhookRejectionStore({ clock });
  const logs: WebhookLogEntry[] = [];
  const metrics = new InMemoryWebhookMetrics();
  const pipeline = createWebhookPipeline({
    mode: 'enforce',
    clock,
    replayStore,
    rejectionStore,
    logger: { log: (entry) => logs.push(entry) },
    metrics,
    ...options,
  });
  const rows = async () => (await rejectionStore.query({ take: 500 })).items;
  return { clock, replayStore, rejectionStore, logs, metrics, pipeline, rows };
}
