import type { CleanupOptions, CleanupResult, FlowRetentionStore } from '@floworch/core';
import type { MemoryState } from './state.js';

/** In-memory {@link FlowRetentionStore}: deletes finished runs and everything that hangs off them. */
export class InMemoryRetentionStore implements FlowRetentionStore {
  /** @param state shared data */
  constructor(private readonly state: MemoryState) {}

  async cleanup(cutoff: Date, options: CleanupOptions = {}): Promise<CleanupResult> {
    // The guard has clamped the batch size already.
    const batchSize = options.batchSize ?? 500;
    const limit = cutoff.getTime();
    let runsDeleted = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const batch: string[] = [];
      for (const run of this.state.runs.values()) {
        if (run.status !== 'Running' && run.completedAt !== null && run.completedAt < limit)
          batch.push(run.id);
        if (batch.length >= batchSize) break;
      }
      if (batch.length === 0) return { runsDeleted };
      for (const runId of batch) this.deleteRun(runId);
      runsDeleted += batch.length;
      // Yield between batches, as a database transaction boundary would.
      await Promise.resolve();
    }
  }

  private deleteRun(runId: string): void {
    const data = this.state.peekRunData(runId);
    for (const key of data?.idempotencyKeys ?? []) this.state.idempotency.delete(key);
    this.state.perRun.delete(runId);
    this.state.runs.delete(runId);
    this.state.active.delete(runId);
  }
}
