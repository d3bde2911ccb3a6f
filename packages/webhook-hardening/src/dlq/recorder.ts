import type { WebhookRejectionInput, WebhookRejectionStore } from '@floworch/core';
import { emitLog, WebhookLogEvent, type WebhookLogger } from '../observability/log-events.js';

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
  /** Body size (declared or streamed size for an over-cap body). */
  readonly bodyBytes: number;
  /** Body bytes read (empty for an over-cap body). */
  readonly body: Uint8Array;
  /** Filtered request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Signature scheme name, or `null`. */
  readonly scheme: string | null;
  /** Pipeline time so far. */
  readonly processingMs: number;
}

/**
 * Writes DLQ rows (rejections) and recent-delivery rows (acceptances) to the rejection store.
 * A failing store is logged (event 4008) and never fails the delivery: the log is diagnostic.
 */
export class DeliveryRecorder {
  /**
   * @param store where rows go (`null`: record nothing)
   * @param logger where store failures are reported
   * @param recordAccepted whether accepted deliveries get a row too
   */
  constructor(
    private readonly store: WebhookRejectionStore | null,
    private readonly logger: WebhookLogger,
    private readonly recordAccepted: boolean,
  ) {}

  /** Records a refusal (also used for audit-mode failures that were let through). */
  async rejected(row: DeliveryRow, reason: string, statusCode: number): Promise<void> {
    await this.#write(row, {
      reason,
      statusCode,
      bodyTruncated: bodyExcerpt(row.body),
      isAccepted: false,
    });
  }

  /** Records an accepted delivery (no body excerpt: the run keeps the payload). */
  async accepted(row: DeliveryRow): Promise<void> {
    if (!this.recordAccepted) return;
    await this.#write(row, { reason: '', statusCode: 200, bodyTruncated: null, isAccepted: true });
  }

  async #write(
    row: DeliveryRow,
    outcome: Pick<WebhookRejectionInput, 'reason' | 'statusCode' | 'bodyTruncated' | 'isAccepted'>,
  ): Promise<void> {
    if (!this.store) return;
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
      await this.store.write(input);
    } catch (error) {
      emitLog(
        this.logger,
        WebhookLogEvent.rejectionStoreFailed,
        'Could not record a webhook delivery in the rejection store.',
        { flowId: row.flowId, triggerKey: row.triggerKey, reason: outcome.reason },
        error,
      );
    }
  }
}
