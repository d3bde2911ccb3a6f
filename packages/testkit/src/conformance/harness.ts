import type { FlowStorage, ManualClock, StorageCapability } from '@floworch/core';

/** What the suite hands to a backend's `setup` for each test. */
export interface ConformanceContext {
  /** The fake clock the backend must stamp "now" from (for the store and its peers). */
  readonly clock: ManualClock;
  /** A short unique id for this test (usable as a schema or database name suffix). */
  readonly testId: string;
}

/** What a backend's `setup` returns: an isolated, empty, migrated store for one test. */
export interface ConformanceFixture {
  /** The store under test, using `context.clock`. */
  readonly storage: FlowStorage;
  /**
   * Opens another independent instance on the same namespace (its own pool / connection, the
   * same clock): a stand-in for another process. Race cases spread their callers over the store
   * and several peers. Without it those cases are reported skipped.
   */
  readonly openPeer?: () => Promise<FlowStorage>;
  /** Releases everything `setup` and `openPeer` created (drop schema, close pools). */
  readonly teardown?: () => Promise<void>;
}

/** Options of `defineStorageConformance`. */
export interface StorageConformanceOptions {
  /** Backend name shown in the test titles. */
  readonly name: string;
  /** Optional contracts the backend claims; checked against what `setup` returns, both ways. */
  readonly capabilities: readonly StorageCapability[];
  /** Called once per test. */
  readonly setup: (context: ConformanceContext) => Promise<ConformanceFixture>;
  /**
   * Cases this backend cannot run, by case id or id prefix ending in `*`, with the reason shown
   * in the report (e.g. `{ 'race.*': 'PGlite has a single connection' }`).
   */
  readonly skip?: Readonly<Record<string, string>>;
  /**
   * Whether `setup` returns `openPeer` (default `true`). When `false`, cases that need several
   * independent instances are reported skipped with that reason.
   */
  readonly peers?: boolean;
  /** Concurrent callers in race cases (default 64). */
  readonly raceWidth?: number;
  /** Per-test timeout in ms (default 30 000). */
  readonly timeoutMs?: number;
}
