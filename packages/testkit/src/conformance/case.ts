import type { FlowStorage, ManualClock, StorageCapability } from '@floworch/core';

/** What a conformance case gets to work with. */
export interface CaseContext {
  /** The store under test (empty at the start of the case). */
  readonly storage: FlowStorage;
  /** The fake clock the store stamps from. */
  readonly clock: ManualClock;
  /** Concurrent callers for race cases. */
  readonly raceWidth: number;
  /**
   * The store plus `count` peer instances on the same data, each with independent connections.
   * Only available to cases declared with `needsPeers`.
   */
  instances(count: number): Promise<FlowStorage[]>;
  /**
   * Reports the case as skipped with `reason` and stops it. For cases whose need can only be seen
   * on the store itself (an optional method such as `outputs.recordEvents`), so a missing part is
   * reported rather than silently passed.
   */
  skip(reason: string): never;
}

/** One conformance case. `id` is stable and appears first in the test title. */
export interface ConformanceCase {
  /** Stable id, e.g. `runtime.claim.exclusive-under-contention`. */
  readonly id: string;
  /** What the case checks, in words. */
  readonly title: string;
  /** Optional capabilities the case uses (skipped with a reason when absent). */
  readonly requires?: readonly StorageCapability[];
  /** The case needs peer instances (skipped with a reason when the backend offers none). */
  readonly needsPeers?: boolean;
  /** The check itself; throws (via `expect`) on failure. */
  readonly run: (t: CaseContext) => Promise<void>;
}

/** A named group of cases (one `describe` block). */
export interface CaseGroup {
  /** Group name shown in the report. */
  readonly name: string;
  /** Its cases. */
  readonly cases: readonly ConformanceCase[];
}

/** Narrows an optional contract that a case declared in `requires` (throws if the suite is misused). */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null)
    throw new Error(`conformance case used '${what}' without requiring it`);
  return value;
}
