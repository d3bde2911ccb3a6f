/** How many DLQ rows the pipeline writes and how long they are kept. */
export interface DlqLimits {
  /** Rows written per flow and reason within one window before sampling starts (default 20). */
  readonly maxRowsPerWindow?: number;
  /** Length of that window in ms (default 60 000). */
  readonly windowMs?: number;
  /** Past the cap, every n-th refusal is still written (default 100; 0 writes none). */
  readonly sampleEvery?: number;
  /** Rows older than this are purged (default 7 days; `null` keeps them until purged elsewhere). */
  readonly retentionMs?: number | null;
  /** Purges run at most this often, started by a write (default 1 hour). */
  readonly purgeIntervalMs?: number;
  /** Most (flow, reason) counters held at once (default 10 000). */
  readonly maxTrackedKeys?: number;
}

/** {@link DlqLimits} with every default filled in. */
export type ResolvedDlqLimits = { readonly [K in keyof DlqLimits]-?: Exclude<DlqLimits[K], undefined> };

/** The defaults: enough rows to diagnose a misconfiguration, too few for a flood to matter. */
export const DEFAULT_DLQ_LIMITS: ResolvedDlqLimits = Object.freeze({
  maxRowsPerWindow: 20,
  windowMs: 60_000,
  sampleEvery: 100,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  purgeIntervalMs: 60 * 60 * 1000,
  maxTrackedKeys: 10_000,
});
