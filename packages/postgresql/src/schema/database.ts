import type { ColumnType, Generated } from 'kysely';

/** A `timestamptz` column: read as `Date`, written as `Date`. */
type Timestamp = ColumnType<Date, Date, Date>;
/** A `bigserial` / `bigint` column: pg returns int8 as a string, PGlite may return a number. */
type BigIntColumn = ColumnType<string | number | bigint, never, never>;

/** `flow_definitions`. */
export interface FlowDefinitionsTable {
  id: string;
  name: string;
  version: string;
  manifest_json: string | null;
  is_enabled: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** `flow_runs`. */
export interface FlowRunsTable {
  id: string;
  flow_id: string;
  flow_name: string | null;
  status: string;
  trigger_key: string | null;
  trigger_data_json: string | null;
  background_job_id: string | null;
  started_at: Timestamp;
  completed_at: Timestamp | null;
  source_run_id: string | null;
}

/** Columns shared by `flow_steps` and `flow_step_attempts`. */
interface StepColumns {
  run_id: string;
  step_key: string;
  step_type: string;
  status: string;
  input_json: string | null;
  output_json: string | null;
  error_message: string | null;
  job_id: string | null;
  started_at: Timestamp;
  completed_at: Timestamp | null;
  evaluation_trace_json: string | null;
}

/** `flow_steps` (latest state of each step; `attempt_count` numbers the attempts). */
export interface FlowStepsTable extends StepColumns {
  attempt_count: number;
}

/** `flow_step_attempts` (append-only audit). */
export interface FlowStepAttemptsTable extends StepColumns {
  attempt_no: number;
}

/** `flow_outputs`. */
export interface FlowOutputsTable {
  run_id: string;
  key: string;
  value_json: string | null;
  created_at: Timestamp;
}

/** `flow_step_claims` (with the lease columns this port adds). */
export interface FlowStepClaimsTable {
  run_id: string;
  step_key: string;
  claimed_at: Timestamp;
  owner: string;
  lease_expires_at: Timestamp | null;
}

/** `flow_step_dispatches` (the dispatch ledger). */
export interface FlowStepDispatchesTable {
  run_id: string;
  step_key: string;
  dispatched_at: Timestamp;
  dispatch_job_id: string | null;
  /** When the queued step is due; NULL once the step is done with the queue. */
  visible_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Automatic-retry attempt the row is for. */
  attempt: Generated<number>;
}

/** `flow_run_controls`. */
export interface FlowRunControlsTable {
  run_id: string;
  flow_id: string;
  trigger_key: string;
  idempotency_key: string | null;
  timeout_at_utc: Timestamp | null;
  cancel_requested: boolean;
  cancel_reason: string | null;
  cancel_requested_at_utc: Timestamp | null;
  timed_out_at_utc: Timestamp | null;
  created_at_utc: Timestamp;
}

/** `flow_idempotency_keys`. */
export interface FlowIdempotencyKeysTable {
  flow_id: string;
  trigger_key: string;
  idempotency_key: string;
  run_id: string;
  created_at_utc: Timestamp;
}

/** `flow_events`. */
export interface FlowEventsTable {
  sequence: Generated<BigIntColumn>;
  run_id: string;
  timestamp_utc: Timestamp;
  type: string;
  step_key: string | null;
  message: string | null;
}

/** `flow_signal_waiters` (`registration_seq` breaks ties between waiters created in the same instant). */
export interface FlowSignalWaitersTable {
  run_id: string;
  step_key: string;
  signal_name: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  delivered_at: Timestamp | null;
  payload_json: string | null;
  registration_seq: Generated<BigIntColumn>;
}

/** `flow_schedule_states`. */
export interface FlowScheduleStatesTable {
  job_id: string;
  flow_id: string;
  flow_name: string;
  trigger_key: string;
  is_paused: boolean;
  cron_override: string | null;
  updated_at_utc: Timestamp;
}

/** `webhook_replay_nonces`. */
export interface WebhookReplayNoncesTable {
  flow_id: string;
  trigger_key: string;
  nonce: string;
  expires_at: Timestamp;
}

/** `webhook_rejections`. */
export interface WebhookRejectionsTable {
  id: Generated<BigIntColumn>;
  flow_id: string | null;
  trigger_key: string | null;
  received_at: Timestamp;
  remote_ip: string | null;
  reason: string;
  status_code: number;
  body_bytes: number;
  body_truncated: string | null;
  headers_json: string | null;
  scheme: string | null;
  processing_ms: number | null;
  is_accepted: boolean;
}

/** `floworch_schema_version`: one row per applied schema version. */
export interface SchemaVersionTable {
  version: number;
  description: string;
  applied_at: Timestamp;
}

/** Every table of the backend, as kysely sees it. */
export interface Database {
  flow_definitions: FlowDefinitionsTable;
  flow_runs: FlowRunsTable;
  flow_steps: FlowStepsTable;
  flow_step_attempts: FlowStepAttemptsTable;
  flow_outputs: FlowOutputsTable;
  flow_step_claims: FlowStepClaimsTable;
  flow_step_dispatches: FlowStepDispatchesTable;
  flow_run_controls: FlowRunControlsTable;
  flow_idempotency_keys: FlowIdempotencyKeysTable;
  flow_events: FlowEventsTable;
  flow_signal_waiters: FlowSignalWaitersTable;
  flow_schedule_states: FlowScheduleStatesTable;
  webhook_replay_nonces: WebhookReplayNoncesTable;
  webhook_rejections: WebhookRejectionsTable;
  floworch_schema_version: SchemaVersionTable;
}
