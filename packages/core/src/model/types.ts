import type { StepStatus } from '../storage/statuses.js';

/** Any value JSON can represent. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The condition a step places on one predecessor. An empty or missing `statuses` list means
 * "any terminal status". `when` is a boolean expression evaluated once, when the step becomes
 * ready (see the When language).
 */
export interface RunAfterCondition {
  /** Accepted predecessor statuses (default: any terminal status). */
  readonly statuses?: readonly StepStatus[];
  /** Boolean `When` expression, e.g. `@triggerBody().amount > 100`. */
  readonly when?: string;
}

/**
 * Dependencies of a step: predecessor key → accepted statuses (array shorthand) or a full
 * condition. `{}` (or omitted) makes an entry step; a single `""` key makes an entry step whose
 * `when` is still evaluated.
 */
export type RunAfter = Readonly<Record<string, readonly StepStatus[] | RunAfterCondition>>;

/** Automatic retry of a failing step. Each retry is a new attempt of the same step. */
export interface RetryPolicy {
  /** Total attempts including the first (≥ 1). */
  readonly maxAttempts: number;
  /** `fixed` waits `delayMs` each time; `exponential` doubles it per attempt (default `exponential`). */
  readonly backoff?: 'fixed' | 'exponential';
  /** Base delay in ms (default 1 000). */
  readonly delayMs?: number;
  /** Upper bound of one delay in ms (default 5 minutes). */
  readonly maxDelayMs?: number;
  /** Random jitter as a fraction of the delay, 0–1 (default 0.2). */
  readonly jitter?: number;
  /** Retry only errors for which this returns true (not serialised into the manifest). */
  readonly retryOn?: (error: { readonly message: string; readonly cause?: unknown }) => boolean;
}

/** One step of a flow. `type` names a registered handler (matched case-insensitively). */
export interface StepDefinition {
  /** Handler type name. */
  readonly type: string;
  /** Dependencies (default: none ⇒ entry step). */
  readonly runAfter?: RunAfter;
  /** Inputs: JSON values, strings may hold expressions such as `@steps('a').output.id`. */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** Automatic retries on failure. */
  readonly retry?: RetryPolicy;
  /**
   * Time a handler may take (ms). When it has not settled by then its signal is aborted and the
   * attempt fails with a timeout reason (the retry policy applies). Default: the orchestrator's
   * `stepTimeoutMs`, else no limit.
   */
  readonly timeoutMs?: number;
}

/** A ForEach step: runs its child `steps` once per item of `forEach`. */
export interface ForEachStepDefinition extends StepDefinition {
  /** Always `ForEach` (case-insensitive). */
  readonly type: 'ForEach';
  /** A literal array, or an expression string resolving to one. */
  readonly forEach: unknown;
  /** Iterations in flight at once (default 1). */
  readonly concurrencyLimit?: number;
  /** The child template; child keys at run time are `<loop>.<index>.<child>`. */
  readonly steps: Readonly<Record<string, StepDefinition>>;
}

/** A trigger that starts runs of a flow. */
export type TriggerDefinition =
  | { readonly type: 'Manual'; readonly inputs?: Readonly<Record<string, unknown>> }
  | {
      readonly type: 'Webhook';
      /** `webhookSlug` (URL segment), optional `webhookSecret`, hardening fields. */
      readonly inputs?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly type: 'Cron';
      /** `cronExpression` (5 or 6 fields), optional `timezone` (IANA name). */
      readonly inputs: Readonly<{ cronExpression: string; timezone?: string } & Record<string, unknown>>;
    };

/** A flow defined in code. */
export interface FlowDefinition {
  /** Stable UUID; never change it once runs exist. */
  readonly id: string;
  /** Display name (stored on runs and definitions). */
  readonly name: string;
  /** Display/audit label (default `"1.0"`). */
  readonly version?: string;
  /** Triggers by key (default: a single `manual` trigger). */
  readonly triggers?: Readonly<Record<string, TriggerDefinition>>;
  /** Steps by key, in declaration order (entry steps are dispatched in this order). */
  readonly steps: Readonly<Record<string, StepDefinition | ForEachStepDefinition>>;
}

/** The JSON-serialisable manifest stored in the flow store (`manifestJson`). */
export interface FlowManifest {
  /** Triggers by key. */
  readonly triggers: Record<string, { type: string; inputs: Record<string, JsonValue> }>;
  /** Steps by key with runAfter in object form. */
  readonly steps: Record<string, ManifestStep>;
}

/** A step in manifest (JSON) form. */
export interface ManifestStep {
  /** Handler type. */
  readonly type: string;
  /** Always the object form; `statuses` omitted when empty, `when` omitted when blank. */
  readonly runAfter: Record<string, { statuses?: StepStatus[]; when?: string }>;
  /** Inputs. */
  readonly inputs: Record<string, JsonValue>;
  /** Retry policy without its predicate. */
  readonly retry?: Omit<RetryPolicy, 'retryOn'>;
  /** ForEach only. */
  readonly forEach?: JsonValue;
  /** ForEach only. */
  readonly concurrencyLimit?: number;
  /** ForEach only. */
  readonly steps?: Record<string, ManifestStep>;
}

/** Result of planning a run: which steps can start, which can never start, which must wait. */
export interface PlanResult {
  /** Not yet recorded, every dependency satisfied (ordinal order). */
  readonly ready: readonly string[];
  /** Not yet recorded, some dependency ended in a status its condition rejects. */
  readonly blocked: readonly string[];
  /** Not yet recorded, some dependency not final yet. */
  readonly waiting: readonly string[];
}
