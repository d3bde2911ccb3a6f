/**
 * What an expression can see during one evaluation, and a memoising wrapper that guarantees each
 * step's output and record are fetched at most once per evaluation.
 * @module
 */

/** What expressions can see during one evaluation. */
export interface ExpressionScope {
  /** Parsed trigger JSON value (or null). */
  readonly triggerData: unknown;
  /** Trigger headers; names are lower-cased already, but lookups are case-insensitive anyway. */
  readonly triggerHeaders: Readonly<Record<string, string>> | null;
  /** Throws nothing; true if the key names a step of the flow (static `a`, `loop.child`, or runtime `loop.0.child`). */
  hasStep(key: string): boolean;
  /** Stored output of that step in this run (null when absent). Called at most once per key per evaluation. */
  getStepOutput(key: string): Promise<unknown>;
  /** The step record's status string and error message, or null when there is no record. */
  getStepRecord(key: string): Promise<{ status: string; errorMessage: string | null } | null>;
}

/** The record shape `ExpressionScope.getStepRecord` returns. */
export type StepRecordView = Awaited<ReturnType<ExpressionScope['getStepRecord']>>;

const CACHED = Symbol('floworch.expressions.cachedScope');

/**
 * Wraps a scope so `getStepOutput` and `getStepRecord` are called at most once per key for the
 * lifetime of the wrapper (one evaluation). Wrapping an already wrapped scope returns it as is.
 * Concurrent lookups of one key share the same pending promise.
 */
export function withStepCache(scope: ExpressionScope): ExpressionScope {
  if ((scope as { [CACHED]?: true })[CACHED]) return scope;
  const outputs = new Map<string, Promise<unknown>>();
  const records = new Map<string, Promise<StepRecordView>>();
  const cached: ExpressionScope & { [CACHED]: true } = {
    [CACHED]: true,
    triggerData: scope.triggerData,
    triggerHeaders: scope.triggerHeaders,
    hasStep: (key) => scope.hasStep(key),
    getStepOutput(key) {
      let pending = outputs.get(key);
      if (!pending) {
        pending = scope.getStepOutput(key);
        outputs.set(key, pending);
      }
      return pending;
    },
    getStepRecord(key) {
      let pending = records.get(key);
      if (!pending) {
        pending = scope.getStepRecord(key);
        records.set(key, pending);
      }
      return pending;
    },
  };
  return cached;
}
