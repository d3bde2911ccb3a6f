/** Options of {@link FlowRetentionStore.cleanup}. */
export interface CleanupOptions {
  /** Runs deleted per transaction (default 500). */
  readonly batchSize?: number;
  /** Stops between batches when aborted. */
  readonly signal?: AbortSignal;
}

/** Result of a retention sweep. */
export interface CleanupResult {
  /** Runs deleted (with all their rows). */
  readonly runsDeleted: number;
}

/** Deletes old finished runs. */
export interface FlowRetentionStore {
  /**
   * Deletes every run with `completedAt < cutoff` (strict) together with its steps, attempts,
   * outputs, events, claims, dispatch-ledger rows, control row, idempotency keys and signal
   * waiters, in batches of `batchSize` runs per transaction. `Running` runs are never deleted.
   * Safe to run concurrently from several replicas.
   */
  cleanup(cutoff: Date, options?: CleanupOptions): Promise<CleanupResult>;
}
