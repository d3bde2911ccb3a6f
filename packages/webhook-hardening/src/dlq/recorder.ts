import type { Clock, WebhookRejectionInput, WebhookRejectionStore } from '@floworch/core';
import { emitLog, WebhookLogEvent, type WebhookLogger } from '../observability/log-events.js';
import { WebhookMetricName, type WebhookMetrics } from '../observability/metrics.js';
import { WebhookReason } from '../reasons.js';
import { DEFAULT_DLQ_LIMITS, type ResolvedDlqLimits } from './limits.js';
import { DlqSampler } from './sampler.js';

/** Bytes of body kept in a DLQ row. */
export const DLQ_BODY_EXCERPT_BYTES = 4096;

const lenientUtf8 = new TextDecoder('utf-8');

/** The first {@link DLQ_BODY_EXCERPT_BYTES} bytes as text (`null` for an empty body). */
export function bodyExcerpt(body: Uint8Array): string | null {
  if (body.byteLength === 0) return null;
  return lenientUtf8.decode(body.subarray(0, DLQ_BODY_EXCERPT_BYTES));
}

/** What the pipeline knows about a delivery when it records it. */
export interface DeliveryRow {
  /** Flow id. */
  readonly flowId: string;
  /** Trigger key. */
  readonly triggerKey: string;
  /** Arrival time (pipeline clock). */
  readonly receivedAt: Date;
  /** Client address. */
  readonly remoteIp: string | null;
  /** Body size (declared or streamed size when the body was not read in full). */
  readonly bodyBytes: number;
  /** Body bytes read (empty when the body was refused unread). */
  readonly body: Uint8Array;
  /** Whether the body may be excerpted (not when it carries the signature itself, as Mailgun's). */
  readonly bodyMayBeKept?: boolean;
  /** Filtered, redacted request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Signature scheme name, or `null`. */
  readonly scheme: string | null;
  /** Pipeline time so far. */
  readonly processingMs: number;
}

/** Collaborators of a {@link DeliveryRecorder}. */
export interface DeliveryRecorderOptions {
  /** Where rows go (`null`: record nothing). */
  readonly store: WebhookRejectionStore | null;
  /** Where store failures are reported. */
  readonly logger: WebhookLogger;
  /** Whether accepted deliveries get a row too. */
  readonly recordAccepted: boolean;
  /** Time source for sampling windows and retention (default: the rows' own times). */
  readonly clock?: Clock;
  /** Metrics sink for dropped rows. */
  readonly metrics?: WebhookMetrics;
  /** Caps, sampling and retention. */
  readonly limits?: ResolvedDlqLimits;
}

/**
 * Writes DLQ rows (rejections) and recent-delivery rows (acceptances) to the rejection store,
 * capped and sampled per flow and reason, and purges rows past the retention now and then.
 * Rate-limited refusals never keep a body. A failing store is logged (event 4008) and never fails
 * the delivery: the log is diagnostic.
 */
export class DeliveryRecorder {
  readonly #options: DeliveryRecorderOptions;
  readonly #limits: ResolvedDlqLimits;
  readonly #sampler: DlqSampler;
  #lastPurge = Number.NEGATIVE_INFINITY;

  /** @param options store, logger and limits */
  constructor(options: DeliveryRecorderOptions) {
    this.#options = options;
    this.#limits = options.limits ?? DEFAULT_DLQ_LIMITS;
    this.#sampler = new DlqSampler(this.#limits);
  }

  /** Records a refusal (also used for audit-mode failures that were let through). */
  async rejected(row: DeliveryRow, reason: string, statusCode: number): Promise<void> {
    const keepBody = row.bodyMayBeKept !== false && reason !== WebhookReason.rateLimited;
    await this.#write(row, {
      reason,
      statusCode,
      bodyTruncated: keepBody ? bodyExcerpt(row.body) : null,
      isAccepted: false,
    });
  }

  /** Records an accepted delivery (no body excerpt: the run keeps the payload). */
  async accepted(row: DeliveryRow): Promise<void> {
    if (!this.#options.recordAccepted) return;
    await this.#write(row, { reason: '', statusCode: 200, bodyTruncated: null, isAccepted: true });
  }

  async #write(
    row: DeliveryRow,
    outcome: Pick<WebhookRejectionInput, 'reason' | 'statusCode' | 'bodyTruncated' | 'isAccepted'>,
  ): Promise<void> {
    const { store, logger, metrics, clock } = this.#options;
    if (!store) return;
    const nowMs = (clock?.now() ?? row.receivedAt).getTime();
    const label = outcome.isAccepted ? 'accepted' : outcome.reason;
    if (!this.#sampler.admit(row.flowId, label, nowMs)) {
      metrics?.increment(WebhookMetricName.dlqDropped, { flow: row.flowId, reason: label });
      return;
    }
    this.#maybePurge(store, nowMs);
    const input: WebhookRejectionInput = {
      flowId: row.flowId,
      triggerKey: row.triggerKey,
      receivedAt: row.receivedAt,
      remoteIp: row.remoteIp,
      bodyBytes: row.bodyBytes,
      headersJson: JSON.stringify(row.headers),
      scheme: row.scheme,
      processingMs: row.processingMs,
      ...outcome,
    };
    try {
      await store.write(input);
    } catch (error) {
      emitLog(
        logger,
        WebhookLogEvent.rejectionStoreFailed,
        'Could not record a webhook delivery in the rejection store.',
        { flowId: row.flowId, triggerKey: row.triggerKey, reason: outcome.reason },
        error,
      );
    }
  }

  /** Starts a retention purge when one is due; it runs in the background and only logs failures. */
  #maybePurge(store: WebhookRejectionStore, nowMs: number): void {
    const { retentionMs, purgeIntervalMs } = this.#limits;
    if (retentionMs === null || nowMs - this.#lastPurge < purgeIntervalMs) return;
    // Hand-written stores may implement only `write`; they keep their own retention.
    if (typeof store.purgeOlderThan !== 'function') return;
    this.#lastPurge = nowMs;
    const cutoff = new Date(nowMs - retentionMs);
    Promise.resolve()
      .then(() => store.purgeOlderThan(cutoff))
      .catch((error: unknown) => {
        emitLog(
          this.#options.logger,
          WebhookLogEvent.rejectionStoreFailed,
          'Purging old webhook DLQ rows failed.',
          {},
          error,
        );
      });
  }
}
