import {
  type Clock,
  systemClock,
  type WebhookRejectionInput,
  type WebhookRejectionPage,
  type WebhookRejectionQuery,
  type WebhookRejectionRecord,
  type WebhookRejectionStore,
  type WebhookReplayStore,
} from '@floworch/core';
import { clampWebhookPage, truncateReason } from '@floworch/core/backend';
import { textFilter } from './order.js';
import { compositeKey } from './state.js';

/** Backing data of the in-memory webhook stores (shareable between façades). */
export interface WebhookMemory {
  readonly replayNonces: Map<string, number>;
  rejections: WebhookRejectionRecord[];
  nextRejectionId: number;
}

const copy = (r: WebhookRejectionRecord): WebhookRejectionRecord => ({
  ...r,
  receivedAt: new Date(r.receivedAt.getTime()),
});

/** In-memory {@link WebhookReplayStore}: a nonce map (single process only). */
export class InMemoryWebhookReplayStore implements WebhookReplayStore {
  /** @param memory backing data @param clock time source */
  constructor(
    private readonly memory: Pick<WebhookMemory, 'replayNonces'>,
    private readonly clock: Clock,
  ) {}

  async tryRegister(flowId: string, triggerKey: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const key = compositeKey(flowId.toLowerCase(), triggerKey, nonce);
    if (this.memory.replayNonces.has(key)) return false;
    this.memory.replayNonces.set(key, expiresAt.getTime());
    return true;
  }

  async purgeExpired(now?: Date): Promise<number> {
    const cutoff = (now ?? this.clock.now()).getTime();
    let removed = 0;
    for (const [key, expiresAt] of this.memory.replayNonces) {
      if (expiresAt <= cutoff) {
        this.memory.replayNonces.delete(key);
        removed++;
      }
    }
    return removed;
  }
}

/** In-memory {@link WebhookRejectionStore}: a ring buffer keeping the newest `capacity` rows. */
export class InMemoryWebhookRejectionStore implements WebhookRejectionStore {
  /** @param memory backing data @param clock time source @param capacity ring size */
  constructor(
    private readonly memory: Pick<WebhookMemory, 'rejections' | 'nextRejectionId'>,
    private readonly clock: Clock,
    private readonly capacity: number,
  ) {}

  async write(record: WebhookRejectionInput): Promise<WebhookRejectionRecord> {
    const stored: WebhookRejectionRecord = {
      ...record,
      id: this.memory.nextRejectionId++,
      flowId: record.flowId?.toLowerCase() ?? null,
      reason: truncateReason(record.reason ?? ''),
      receivedAt: new Date(record.receivedAt.getTime()),
    };
    this.memory.rejections.push(stored);
    // Stryker disable all: the ring-buffer bound is this backend's own policy (see inmemory.test.ts).
    if (this.memory.rejections.length > this.capacity) {
      this.memory.rejections.splice(0, this.memory.rejections.length - this.capacity);
    }
    // Stryker restore all
    return copy(stored);
  }

  async queryRecent(
    flowId: string | null,
    reason: string | null,
    includeAccepted: boolean,
    skip: number,
    take: number,
  ): Promise<WebhookRejectionRecord[]> {
    const page = await this.query({ flowId, reason, includeAccepted, includeRejected: true, skip, take });
    return [...page.items];
  }

  async query(query: WebhookRejectionQuery): Promise<WebhookRejectionPage> {
    const { skip, take } = clampWebhookPage(query.skip, query.take);
    const flowId = query.flowId?.toLowerCase();
    const reason = textFilter(query.reason);
    const search = textFilter(query.search);
    const includeAccepted = query.includeAccepted ?? true;
    const includeRejected = query.includeRejected ?? true;
    const has = (v: string | null, needle: string) => v?.toLowerCase().includes(needle);
    const matches = this.memory.rejections
      .filter(
        (r) =>
          (!flowId || r.flowId === flowId) &&
          (!reason || r.reason.toLowerCase() === reason) &&
          (r.isAccepted ? includeAccepted : includeRejected) &&
          (!search || has(r.reason, search) || has(r.triggerKey, search) || has(r.remoteIp, search)),
      )
      .reverse();
    return { items: matches.slice(skip, skip + take).map(copy), total: matches.length };
  }

  async countsByReason(windowMs: number): Promise<Record<string, number>> {
    const since = this.clock.now().getTime() - windowMs;
    const counts: Record<string, number> = {};
    for (const r of this.memory.rejections) {
      if (r.isAccepted || !r.reason || r.receivedAt.getTime() < since) continue;
      const key = r.reason.toLowerCase();
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const before = this.memory.rejections.length;
    this.memory.rejections = this.memory.rejections.filter((r) => r.receivedAt.getTime() >= cutoff.getTime());
    return before - this.memory.rejections.length;
  }
}

/** Options of the standalone webhook stores. */
export interface InMemoryWebhookStoreOptions {
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** DLQ ring size (default 1 000). */
  readonly capacity?: number;
}

// Stryker disable all: standalone factories of this package, outside the storage bundle under test.
/** A standalone in-memory replay store (single-replica deployments and tests). */
export function createInMemoryWebhookReplayStore(
  options: InMemoryWebhookStoreOptions = {},
): WebhookReplayStore {
  return new InMemoryWebhookReplayStore({ replayNonces: new Map() }, options.clock ?? systemClock);
}

/** A standalone in-memory DLQ / recent-deliveries log. */
export function createInMemoryWebhookRejectionStore(
  options: InMemoryWebhookStoreOptions = {},
): WebhookRejectionStore {
  return new InMemoryWebhookRejectionStore(
    { rejections: [], nextRejectionId: 1 },
    options.clock ?? systemClock,
    options.capacity ?? 1000,
  );
}
// Stryker restore all
