import type { TriggerRequest, TriggerResult } from '../engine/execution/trigger.js';
import type { Logger } from '../logging/index.js';
import type { FlowDefinition, FlowManifest } from '../model/types.js';
import type { CronTriggerState } from '../services/cron/scheduler.js';
import type { StorageHealth } from '../services/health/storage-health.js';
import type { MermaidOptions } from '../services/mermaid/to-mermaid.js';
import type { FlowStorage, SchemaStatus } from '../storage/backend.js';
import type { DashboardStatistics, RunTimeseriesBucket, SignalDeliveryResult } from '../storage/records.js';
import type { RunStatus, StepStatus, TimeseriesGranularity } from '../storage/statuses.js';

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
  /** Id of the job that delivered this attempt, when a job system did (`@floworch/bullmq`). */
  readonly jobId: string | null;
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
  /** Id of the job that delivered the latest attempt, when a job system did (`@floworch/bullmq`). */
  readonly jobId: string | null;
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

/** A flow definition with its stored state. */
export interface FlowView {
  /** Stored flow id (a slug is mapped to its UUID). */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** Version label. */
  readonly version: string;
  /** Disabled flows refuse triggers (a flow not stored yet counts as enabled). */
  readonly isEnabled: boolean;
  /** When the definition was first stored (null when not stored yet). */
  readonly createdAt: Date | null;
  /** When the stored definition last changed (null when not stored yet). */
  readonly updatedAt: Date | null;
  /**
   * The definition in manifest form: triggers with their inputs (webhook keys and secrets
   * included: redact before showing it to anyone) and steps.
   */
  readonly manifest: FlowManifest;
}

/** A step type used by the known flows. */
export interface StepTypeView {
  /** Handler type name as the flows write it. */
  readonly type: string;
  /** Flows with a step (or ForEach child) of this type. */
  readonly flowIds: readonly string[];
  /** Whether this process has a handler for it; null for a client that executes nothing. */
  readonly registered: boolean | null;
}

/** Window of {@link FlowClient.getRunTimeseries}. */
export interface RunTimeseriesOptions {
  /** Bucket size (default `Hour`). */
  readonly granularity?: TimeseriesGranularity;
  /** Inclusive start (default: `until` minus 24 hours, or 30 days for `Day`). */
  readonly since?: Date;
  /** Exclusive end (default now). */
  readonly until?: Date;
  /** Only runs of this flow (id or slug). */
  readonly flowId?: string;
}

/** Cancellation, deadline and idempotency state of a run. */
export interface RunControlView {
  /** Run id. */
  readonly runId: string;
  /** Absolute deadline, or null. */
  readonly timeoutAt: Date | null;
  /** Whether a cancel (or a timeout) was requested. */
  readonly cancelRequested: boolean;
  /** Reason of the first cancel request, or the timeout reason. */
  readonly cancelReason: string | null;
  /** When the cancel was requested. */
  readonly cancelRequestedAt: Date | null;
  /** When the run timed out. */
  readonly timedOutAt: Date | null;
  /** The idempotency key the run was started with. */
  readonly idempotencyKey: string | null;
}

/** Where a run comes from and what was re-run from it. */
export interface RunLineage {
  /** The run itself. */
  readonly run: RunSummary;
  /** The run it re-runs, that run's source, and so on (nearest first, at most 50). */
  readonly ancestors: readonly RunSummary[];
  /** Runs re-run from this one, newest first. */
  readonly derived: readonly RunSummary[];
}

/** Filters and paging of {@link FlowClient.listWebhookDeliveries}. */
export interface WebhookDeliveryQuery {
  /** Only deliveries to this flow (id or slug). */
  readonly flowId?: string;
  /** Only rejections with this reason code (case-insensitive). */
  readonly reason?: string;
  /** Case-insensitive substring of reason, trigger key or remote address. */
  readonly search?: string;
  /** Include accepted deliveries (default true). */
  readonly accepted?: boolean;
  /** Include rejected deliveries (default true). */
  readonly rejected?: boolean;
  /** Rows to skip (default 0). */
  readonly skip?: number;
  /** Page size (default 50, at most 500). */
  readonly take?: number;
}

/** One recorded webhook delivery (accepted, or a dead letter with its reason). */
export interface WebhookDeliveryView {
  /** Row id. */
  readonly id: number;
  /** Flow, when the route matched one. */
  readonly flowId: string | null;
  /** Trigger key, when known. */
  readonly triggerKey: string | null;
  /** Arrival. */
  readonly receivedAt: Date;
  /** Client address. */
  readonly remoteIp: string | null;
  /** Reason code (`''` for accepted deliveries). */
  readonly reason: string;
  /** HTTP status answered. */
  readonly statusCode: number;
  /** Body size in bytes. */
  readonly bodyBytes: number;
  /** First bytes of a rejected body as text. */
  readonly bodyExcerpt: string | null;
  /** Request headers as recorded (the sensitive ones were never stored). */
  readonly headers: Readonly<Record<string, string>> | null;
  /** Signature scheme. */
  readonly scheme: string | null;
  /** Processing time in ms. */
  readonly processingMs: number | null;
  /** True for accepted deliveries. */
  readonly accepted: boolean;
}

/** A page of webhook deliveries, newest first. */
export interface WebhookDeliveryPage {
  /** The deliveries of this page. */
  readonly items: readonly WebhookDeliveryView[];
  /** Matches before paging. */
  readonly total: number;
  /** Offset of this page. */
  readonly skip: number;
  /** Page size. */
  readonly take: number;
}

/** Webhook counters. */
export interface WebhookStatsView {
  /** The window of `rejectedByReason`. */
  readonly windowMs: number;
  /** Rejections within the window by reason code. */
  readonly rejectedByReason: Readonly<Record<string, number>>;
  /** Sum of `rejectedByReason`. */
  readonly rejectedInWindow: number;
  /** Accepted deliveries recorded (all time, within retention). */
  readonly acceptedTotal: number;
  /** Rejected deliveries recorded (all time, within retention). */
  readonly rejectedTotal: number;
}

/** An event of the global event log. */
export interface StoredEventView extends RunEventView {
  /** The run it belongs to. */
  readonly runId: string;
}

/** Outcome of {@link FlowClient.checkHealth}. */
export interface HealthReport {
  /** `healthy` when storage answers and its schema is current. */
  readonly status: 'healthy' | 'unhealthy';
  /** The storage probe. */
  readonly storage: StorageHealth;
  /** Schema versions, for backends that report them (null otherwise or when unreachable). */
  readonly schema: SchemaStatus | null;
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
  /** Every known flow (code flows, else the stored manifests) with its stored state, by name. */
  listFlows(): Promise<FlowView[]>;
  /** One flow by id or slug. @throws FlowNotFoundError */
  getFlow(flowId: string): Promise<FlowView>;
  /** The flow as a Mermaid flowchart. @throws FlowNotFoundError */
  getFlowMermaid(flowId: string, options?: MermaidOptions): Promise<string>;
  /** Step types the known flows use, and whether this process has handlers for them. */
  listStepTypes(): Promise<StepTypeView[]>;
  /**
   * Fires a cron trigger now (outside its schedule, paused or not): a run with the trigger's key
   * and job id. @throws FlowNotFoundError, InvalidArgumentError for an unknown trigger
   */
  triggerSchedule(flowId: string, triggerKey: string): Promise<TriggeredRun>;
  /** Counters: flows, active runs, runs that succeeded and failed today (UTC). */
  getRunStatistics(): Promise<DashboardStatistics>;
  /** Zero-filled buckets of runs started in a window (at most 10 000 buckets). */
  getRunTimeseries(options?: RunTimeseriesOptions): Promise<RunTimeseriesBucket[]>;
  /** Runs still `Running`, newest first (at most `limit`, default 100, at most 1 000). */
  listActiveRuns(limit?: number): Promise<RunSummary[]>;
  /** A run's cancel, deadline and idempotency state; null when it has none. @throws RunNotFoundError */
  getRunControl(runId: string): Promise<RunControlView | null>;
  /** The run's re-run ancestry and the runs re-run from it. @throws RunNotFoundError */
  getRunLineage(runId: string): Promise<RunLineage>;
  /**
   * Recorded webhook deliveries (accepted ones and dead letters), newest first.
   * @throws CapabilityMissingError without the `webhookRejections` contract
   */
  listWebhookDeliveries(query?: WebhookDeliveryQuery): Promise<WebhookDeliveryPage>;
  /**
   * Webhook counters; `windowMs` (default 24 h) bounds the by-reason counts.
   * @throws CapabilityMissingError without the `webhookRejections` contract
   */
  getWebhookStats(options?: { windowMs?: number }): Promise<WebhookStatsView>;
  /**
   * The event log of every run, ascending by sequence, after a cursor (see
   * `FlowEventReader.readEventLog` about sequences that commit out of order).
   * @throws CapabilityMissingError when the backend has no global event log
   */
  readEventLog(query?: { after?: number; take?: number }): Promise<StoredEventView[]>;
  /** The highest event sequence stored (0 when none). @throws CapabilityMissingError */
  lastEventSequence(): Promise<number>;
  /**
   * Calls `listener` when events may have been appended: at once for this process's own engine
   * events, and on the backend's notifications (PostgreSQL: LISTEN) for other processes'. A
   * hint to read the log again; returns the unsubscribe function.
   */
  onEventsAppended(listener: () => void): () => void;
  /** Storage reachability and schema version, for liveness and readiness probes. */
  checkHealth(options?: { timeoutMs?: number }): Promise<HealthReport>;
}
