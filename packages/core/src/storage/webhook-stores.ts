import type {
  Uuid,
  WebhookRejectionInput,
  WebhookRejectionPage,
  WebhookRejectionQuery,
  WebhookRejectionRecord,
} from './records.js';

/** Nonce ledger for webhook replay protection. */
export interface WebhookReplayStore {
  /**
   * Atomic insert-if-absent of `(flowId, triggerKey, nonce)`. `true` = first sighting; `false` =
   * replay, including an expired entry not yet purged. Exactly one of N concurrent callers wins.
   */
  tryRegister(flowId: Uuid, triggerKey: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /** Deletes entries with `expiresAt <= now` (default: the store's clock); returns the count. */
  purgeExpired(now?: Date): Promise<number>;
}

/** Webhook dead-letter queue and recent-deliveries log. */
export interface WebhookRejectionStore {
  /** Appends a row (reason truncated to 64 characters); returns it with its assigned id. */
  write(record: WebhookRejectionInput): Promise<WebhookRejectionRecord>;
  /**
   * Legacy query: newest first; `skip < 0 ⇒ 0`, `take ≤ 0 ⇒ 50`, `take > 500 ⇒ 500`; reason
   * compared case-insensitively; `includeAccepted = false` ⇒ rejections only.
   */
  queryRecent(
    flowId: Uuid | null,
    reason: string | null,
    includeAccepted: boolean,
    skip: number,
    take: number,
  ): Promise<WebhookRejectionRecord[]>;
  /** Filtered, paged query with the total before paging. */
  query(query: WebhookRejectionQuery): Promise<WebhookRejectionPage>;
  /**
   * Counts rejected rows with a non-empty reason received within `windowMs` of now, keyed by
   * lower-cased reason.
   */
  countsByReason(windowMs: number): Promise<Record<string, number>>;
  /** Deletes rows received before `cutoff`; returns the count. */
  purgeOlderThan(cutoff: Date): Promise<number>;
}
