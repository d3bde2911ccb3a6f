import type { TriggerRequest, TriggerResult } from '../engine/execution/trigger.js';
import type { Logger } from '../engine/logger.js';
import type { FlowDefinition } from '../model/types.js';
import type { CronTriggerState } from '../services/cron/scheduler.js';
import type { FlowStorage } from '../storage/backend.js';
import type { SignalDeliveryResult } from '../storage/records.js';
import type { RunStatus, StepStatus } from '../storage/statuses.js';

/** Options of {@link createFlowClient}. */
export interface FlowClientOptions {
  /** The backend the orchestrators run on (starting runs needs its `queue` and `control` contracts). */
  readonly storage: FlowStorage;
  /**
   * Flow definitions in code. When omitted, definitions are read from the manifests the
   * orchestrators store in the flow store on `start()`.
   */
  readonly flows?: readonly FlowDefinition[];
  /** Logger (default: warnings and errors to the console). */
  readonly logger?: Logger;
  /** Header carrying an idempotency key; must match the orchestrators' (default `Idempotency-Key`). */
  readonly idempotencyHeader?: string;
}

/** A started (or matched, or refused) run, with a way to wait for its result. */
export interface TriggeredRun extends TriggerResult {
  /**
   * Waits for the run to finish and resolves with it when it `Succeeded` (or ended `Skipped`).
   * Not enumerable, so the trigger result still serialises and compares as plain data.
   * @throws RunFailedError when it ends `Failed`, `Cancelled` or `TimedOut`
   * @throws FlowDisabledError when the flow was disabled (no run started)
   * @throws RunWaitTimeoutError when `timeoutMs` passes first
   */
  result(options?: WaitOptions): Promise<RunView>;
}

/** Outcome of {@link FlowClient.cancelRun}. */
export interface CancelResult {
  /** True when this call requested the cancel (false: a cancel or timeout was requested before). */
  readonly accepted: boolean;
  /** True when the run closed `Cancelled` at once (nothing was in flight). */
  readonly closedImmediately: boolean;
}

/** One attempt of a step, with parsed values. */
export interface AttemptView {
  /** 1-based attempt number. */
  readonly attempt: number;
  /** Status of this attempt. */
  readonly status: StepStatus;
  /** Resolved inputs of this attempt. */
  readonly input: unknown;
  /** Output of this attempt (null when none). */
  readonly output: unknown;
  /** Failure or skip reason. */
  readonly error: string | null;
  /** Start. */
  readonly startedAt: Date;
  /** End (null while running). */
  readonly completedAt: Date | null;
}

/** Latest state of one step of a run, with parsed values. */
export interface StepView {
  /** Runtime step key (`loop.3.child` inside a ForEach). */
  readonly key: string;
  /** Handler type name. */
  readonly type: string;
  /** Current status. */
  readonly status: StepStatus;
  /** Resolved inputs of the latest attempt. */
  readonly input: unknown;
  /** Output of the latest attempt (null when none). */
  readonly output: unknown;
  /** Failure or skip reason. */
  readonly error: string | null;
  /** `When` trace of a When-skip (`{ expression, resolved, result }`), or null. */
  readonly evaluationTrace: unknown;
  /** Start of the latest attempt. */
  readonly startedAt: Date;
  /** End of the latest attempt. */
  readonly completedAt: Date | null;
  /** Every attempt, oldest first. */
  readonly attempts: readonly AttemptView[];
}

/** A run as listed (no steps). */
export interface RunSummary {
  /** Run id. */
  readonly id: string;
  /** Flow id. */
  readonly flowId: string;
  /** Flow name at trigger time. */
  readonly flowName: string | null;
  /** `Running` or a terminal status. */
  readonly status: RunStatus;
  /** Trigger key. */
  readonly triggerKey: string | null;
  /** Trigger payload (parsed). */
  readonly triggerData: unknown;
  /** Runtime job id of the trigger (a cron job id, for example). */
  readonly jobId: string | null;
  /** Start. */
  readonly startedAt: Date;
  /** End (null while running). */
  readonly completedAt: Date | null;
  /** The run this one re-runs, if any. */
  readonly sourceRunId: string | null;
}

/** A persisted run event. */
export interface RunEventView {
  /** Increasing within the run. */
  readonly sequence: number;
  /** When it happened. */
  readonly timestamp: Date;
  /** Event type, e.g. `step.completed`. */
  readonly type: string;
  /** Step key, or null for run-level events. */
  readonly stepKey: string | null;
  /** Description. */
  readonly message: string | null;
}

/** A run with everything about it, values parsed. */
export interface RunView extends RunSummary {
  /** Trigger headers (lower-cased names), or null. */
  readonly triggerHeaders: Readonly<Record<string, string>> | null;
  /** Steps in start order. */
  readonly steps: readonly StepView[];
  /** Output of every `Succeeded` step by key. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Persisted events (empty when not requested or not persisted). */
  readonly events: readonly RunEventView[];
}

/** Filters and paging of {@link FlowClient.listRuns}. All filters are ANDed. */
export interface RunListQuery {
  /** Flow id or slug. */
  readonly flowId?: string;
  /** Run status (case-insensitive). */
  readonly status?: RunStatus | (string & {});
  /** Case-insensitive substring of run id, flow name, trigger key, status, job id, step keys, errors, outputs. */
  readonly search?: string;
  /** Runs started at or after this instant. */
  readonly since?: Date;
  /** Runs started before this instant. */
  readonly until?: Date;
  /** Rows to skip (default 0). */
  readonly skip?: number;
  /** Page size (default 50, at most 500). */
  readonly take?: number;
}

/** A page of runs, newest first. */
export interface RunPage {
  /** The runs of this page. */
  readonly runs: readonly RunSummary[];
  /** Runs matching the filters in total. */
  readonly total: number;
  /** Offset of this page. */
  readonly skip: number;
  /** Page size asked for. */
  readonly take: number;
}

/** Options of {@link FlowClient.getRun}. */
export interface GetRunOptions {
  /** Include the persisted events (default true; at most the first 1 000). */
  readonly events?: boolean;
}

/** Options of {@link FlowClient.waitForRun}. */
export interface WaitOptions {
  /** Give up after this many ms with `RunWaitTimeoutError` (default: wait as long as it takes). */
  readonly timeoutMs?: number;
  /** Stop waiting when aborted (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Longest pause between two looks at the store (default 1 000 ms; the first looks come faster). */
  readonly maxPollIntervalMs?: number;
}

/** A cron trigger with its stored pause / override state. */
export interface ScheduleView extends CronTriggerState {
  /** `flow-<flowId>-<triggerKey>`. */
  readonly jobId: string;
}

/**
 * Operates flows and runs through storage alone: starts, cancels, retries, re-runs and signals
 * runs, enables flows, pauses schedules, lists and reads runs, and waits for results. It executes
 * nothing: whichever orchestrator runs on the same storage (in any process) does the work.
 * `orchestrator.client` is the same interface.
 */
export interface FlowClient {
  /** Starts a run of a flow (id or slug). Disabled flows refuse (`disabled: true`, no run). */
  trigger(flowId: string, request?: TriggerRequest): Promise<TriggeredRun>;
  /**
   * Requests cancellation. Handlers see their signal abort (in other processes at their next
   * lease renewal); the run closes `Cancelled` once nothing is in flight — here and now when
   * nothing is.
   * @throws RunNotFoundError
   */
  cancelRun(runId: string, reason?: string): Promise<CancelResult>;
  /**
   * Runs a step again (normally a failed one): resets it and its cascade-skipped dependents,
   * queues it and reopens the run when it had closed.
   * @throws RunNotFoundError, StepNotFoundError
   */
  retryStep(runId: string, stepKey: string): Promise<void>;
  /**
   * Starts a new run of the same flow with the original trigger key, payload and headers (minus
   * the idempotency header); its `sourceRunId` is the original.
   * @throws RunNotFoundError
   */
  rerun(runId: string): Promise<TriggeredRun>;
  /**
   * Delivers a signal to the run's parked `WaitForSignal` step of that name and wakes it.
   * `NotFound` when no step of the run waits for that name.
   * @throws RunNotFoundError
   */
  signal(runId: string, signalName: string, payload?: unknown): Promise<SignalDeliveryResult>;
  /**
   * Moves a run's deadline; un-latches a timeout so the run can be retried.
   * @throws RunNotFoundError
   */
  extendDeadline(runId: string, deadline: Date): Promise<boolean>;
  /** Enables or disables a flow (disabled flows refuse triggers). @throws FlowNotFoundError */
  setFlowEnabled(flowId: string, enabled: boolean): Promise<void>;
  /** Every cron trigger of the known flows with its stored state. */
  listSchedules(): Promise<ScheduleView[]>;
  /** Pauses a cron trigger (stored; every replica honours it before its next fire). */
  pauseSchedule(flowId: string, triggerKey: string): Promise<void>;
  /** Resumes a paused cron trigger. */
  resumeSchedule(flowId: string, triggerKey: string): Promise<void>;
  /** Overrides a cron trigger's expression (validated first); `null` restores the code's. */
  setScheduleCron(flowId: string, triggerKey: string, cron: string | null): Promise<void>;
  /** A page of runs, newest first. */
  listRuns(query?: RunListQuery): Promise<RunPage>;
  /** A run with steps, attempts, parsed inputs and outputs, and events. @throws RunNotFoundError */
  getRun(runId: string, options?: GetRunOptions): Promise<RunView>;
  /**
   * One step of a run; `null` when the step is part of the flow but has not run.
   * @throws RunNotFoundError, StepNotFoundError
   */
  getStep(runId: string, stepKey: string): Promise<StepView | null>;
  /** A page of a run's persisted events. @throws RunNotFoundError */
  getRunEvents(runId: string, page?: { skip?: number; take?: number }): Promise<RunEventView[]>;
  /**
   * Resolves with the run once it is terminal (any terminal status), wherever it runs: polls the
   * store with backoff and wakes early on the backend's notifications and on local events.
   * @throws RunNotFoundError, RunWaitTimeoutError, or the signal's reason when aborted
   */
  waitForRun(runId: string, options?: WaitOptions): Promise<RunView>;
}
