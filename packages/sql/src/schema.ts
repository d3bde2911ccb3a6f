import type { ColumnType, Generated } from 'kysely';

/** An instant column: read as `Date` (or driver text), written as `Date` or a dialect expression. */
export type Timestamp = ColumnType<Date, Date, Date>;
/** An identity / `bigint` column: drivers return it as string, number or bigint. */
export type BigIntColumn = ColumnType<string | number | bigint, never, never>;

/** `flowDefinitions`: registered flows. */
export interface FlowDefinitionsTable {
  id: string;
  name: string;
  version: string;
  manifestJson: string | null;
  isEnabled: boolean;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

/** `flowRuns`: one row per run. */
export interface FlowRunsTable {
  id: string;
  flowId: string;
  flowName: string | null;
  status: string;
  triggerKey: string | null;
  triggerDataJson: string | null;
  backgroundJobId: string | null;
  startedAt: Timestamp;
  completedAt: Timestamp | null;
  sourceRunId: string | null;
}

/** Columns shared by `flowSteps` and `flowStepAttempts`. */
export interface StepColumns {
  runId: string;
  stepKey: string;
  stepType: string;
  status: string;
  inputJson: string | null;
  outputJson: string | null;
  errorMessage: string | null;
  jobId: string | null;
  startedAt: Timestamp;
  completedAt: Timestamp | null;
  evaluationTraceJson: string | null;
}

/** `flowSteps`: the latest state of each step. */
export type FlowStepsTable = StepColumns;

/** `flowStepAttempts`: the append-only attempt log. */
export interface FlowStepAttemptsTable extends StepColumns {
  attemptNo: number;
}

/** `flowOutputs`: step outputs, inputs and trigger data by key. */
export interface FlowOutputsTable {
  runId: string;
  key: string;
  valueJson: string | null;
  createdAt: Timestamp;
}

/** `flowStepClaims`: who runs a step, and until when. */
export interface FlowStepClaimsTable {
  runId: string;
  stepKey: string;
  claimedAt: Timestamp;
  owner: string;
  leaseExpiresAt: Timestamp | null;
}

/** `flowStepDispatches`: the dispatch ledger and the step queue. */
export interface FlowStepDispatchesTable {
  runId: string;
  stepKey: string;
  dispatchedAt: Timestamp;
  dispatchJobId: string | null;
  visibleAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  attempt: Generated<number>;
}

/**
 * `flowRunControls`: cancellation and deadlines. Its creation instant is named `controlCreatedAt`
 * because the two databases spell that column differently from the other tables' `createdAt`.
 */
export interface FlowRunControlsTable {
  runId: string;
  flowId: string;
  triggerKey: string;
  idempotencyKey: string | null;
  timeoutAtUtc: Timestamp | null;
  cancelRequested: boolean;
  cancelReason: string | null;
  cancelRequestedAtUtc: Timestamp | null;
  timedOutAtUtc: Timestamp | null;
  controlCreatedAt: Timestamp;
}

/** `flowIdempotencyKeys`: run ids by (flow, trigger, idempotency key). */
export interface FlowIdempotencyKeysTable {
  flowId: string;
  triggerKey: string;
  idempotencyKey: string;
  runId: string;
  createdAtUtc: Timestamp;
}

/** `flowEvents`: the run's event log. */
export interface FlowEventsTable {
  sequence: Generated<BigIntColumn>;
  runId: string;
  timestampUtc: Timestamp;
  type: string;
  stepKey: string | null;
  message: string | null;
}

/** `flowSignalWaiters`: steps waiting for a named signal. */
export interface FlowSignalWaitersTable {
  runId: string;
  stepKey: string;
  signalName: string;
  createdAt: Timestamp;
  expiresAt: Timestamp | null;
  deliveredAt: Timestamp | null;
  payloadJson: string | null;
  registrationSeq: Generated<BigIntColumn>;
}

/** `flowScheduleStates`: pause flags and cron overrides of scheduled triggers. */
export interface FlowScheduleStatesTable {
  jobId: string;
  flowId: string;
  flowName: string;
  triggerKey: string;
  isPaused: boolean;
  cronOverride: string | null;
  updatedAtUtc: Timestamp;
}

/** `webhookReplayNonces`: webhook nonces seen, until they expire. */
export interface WebhookReplayNoncesTable {
  flowId: string;
  triggerKey: string;
  nonce: string;
  expiresAt: Timestamp;
}

/** `webhookRejections`: the webhook audit log. */
export interface WebhookRejectionsTable {
  id: Generated<BigIntColumn>;
  flowId: string | null;
  triggerKey: string | null;
  receivedAt: Timestamp;
  remoteIp: string | null;
  reason: string;
  statusCode: number;
  bodyBytes: number;
  bodyTruncated: string | null;
  headersJson: string | null;
  scheme: string | null;
  processingMs: number | null;
  isAccepted: boolean;
}

/**
 * The logical schema both SQL backends share: camelCase tables and columns. A naming plugin maps
 * every name to its physical spelling (snake_case on PostgreSQL, PascalCase on SQL Server).
 */
export interface LogicalDatabase {
  flowDefinitions: FlowDefinitionsTable;
  flowRuns: FlowRunsTable;
  flowSteps: FlowStepsTable;
  flowStepAttempts: FlowStepAttemptsTable;
  flowOutputs: FlowOutputsTable;
  flowStepClaims: FlowStepClaimsTable;
  flowStepDispatches: FlowStepDispatchesTable;
  flowRunControls: FlowRunControlsTable;
  flowIdempotencyKeys: FlowIdempotencyKeysTable;
  flowEvents: FlowEventsTable;
  flowSignalWaiters: FlowSignalWaitersTable;
  flowScheduleStates: FlowScheduleStatesTable;
  webhookReplayNonces: WebhookReplayNoncesTable;
  webhookRejections: WebhookRejectionsTable;
}

/** A logical table name. */
export type LogicalTable = keyof LogicalDatabase;

/** Every logical column of every table, for the naming plugins (kept in step with the types above). */
export const LOGICAL_COLUMNS: {
  readonly [T in LogicalTable]: readonly (keyof LogicalDatabase[T] & string)[];
} = {
  flowDefinitions: ['id', 'name', 'version', 'manifestJson', 'isEnabled', 'createdAt', 'updatedAt'],
  flowRuns: [
    'id',
    'flowId',
    'flowName',
    'status',
    'triggerKey',
    'triggerDataJson',
    'backgroundJobId',
    'startedAt',
    'completedAt',
    'sourceRunId',
  ],
  flowSteps: [
    'runId',
    'stepKey',
    'stepType',
    'status',
    'inputJson',
    'outputJson',
    'errorMessage',
    'jobId',
    'startedAt',
    'completedAt',
    'evaluationTraceJson',
  ],
  flowStepAttempts: [
    'runId',
    'stepKey',
    'attemptNo',
    'stepType',
    'status',
    'inputJson',
    'outputJson',
    'errorMessage',
    'jobId',
    'startedAt',
    'completedAt',
    'evaluationTraceJson',
  ],
  flowOutputs: ['runId', 'key', 'valueJson', 'createdAt'],
  flowStepClaims: ['runId', 'stepKey', 'claimedAt', 'owner', 'leaseExpiresAt'],
  flowStepDispatches: ['runId', 'stepKey', 'dispatchedAt', 'dispatchJobId', 'visibleAt', 'attempt'],
  flowRunControls: [
    'runId',
    'flowId',
    'triggerKey',
    'idempotencyKey',
    'timeoutAtUtc',
    'cancelRequested',
    'cancelReason',
    'cancelRequestedAtUtc',
    'timedOutAtUtc',
    'controlCreatedAt',
  ],
  flowIdempotencyKeys: ['flowId', 'triggerKey', 'idempotencyKey', 'runId', 'createdAtUtc'],
  flowEvents: ['sequence', 'runId', 'timestampUtc', 'type', 'stepKey', 'message'],
  flowSignalWaiters: [
    'runId',
    'stepKey',
    'signalName',
    'createdAt',
    'expiresAt',
    'deliveredAt',
    'payloadJson',
    'registrationSeq',
  ],
  flowScheduleStates: [
    'jobId',
    'flowId',
    'flowName',
    'triggerKey',
    'isPaused',
    'cronOverride',
    'updatedAtUtc',
  ],
  webhookReplayNonces: ['flowId', 'triggerKey', 'nonce', 'expiresAt'],
  webhookRejections: [
    'id',
    'flowId',
    'triggerKey',
    'receivedAt',
    'remoteIp',
    'reason',
    'statusCode',
    'bodyBytes',
    'bodyTruncated',
    'headersJson',
    'scheme',
    'processingMs',
    'isAccepted',
  ],
};
