import type { CleanupOptions, CleanupResult, FlowRetentionStore } from '@floworch/core/backend';

/** Batch size when the caller names none (the storage guard fills it in and clamps it). */
const DEFAULT_BATCH_SIZE = 500;

/**
 * The retention sweep's loop, written once: batch after batch until the backend says the sweep is
 * done, checking the caller's abort signal between batches (never inside one, so a deleted run is
 * always deleted whole). Each backend deletes a batch its own way, with the locking its database
 * needs for concurrent sweepers to split the work.
 */
export abstract class SqlRetentionSweep implements FlowRetentionStore {
  /** Deletes up to `batchSize` runs finished before `cutoff`, with their rows; answers how many. */
  protected abstract deleteBatch(cutoff: Date, batchSize: number): Promise<number>;

  /** True when a batch that deleted `deleted` runs was the last one. */
  protected abstract isLastBatch(deleted: number, batchSize: number): boolean;

  async cleanup(cutoff: Date, options: CleanupOptions = {}): Promise<CleanupResult> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    let runsDeleted = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const deleted = await this.deleteBatch(cutoff, batchSize);
      runsDeleted += deleted;
      if (this.isLastBatch(deleted, batchSize)) return { runsDeleted };
    }
  }
}
