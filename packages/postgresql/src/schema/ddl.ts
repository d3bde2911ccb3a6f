/**
 * The schema, as ordered DDL steps. Every step is idempotent (`IF NOT EXISTS`), so the same list
 * creates a fresh schema, completes a partial one, and upgrades a database created by the
 * reference system's 1.26 PostgreSQL schema: its tables are created with the reference columns
 * first, and everything this port adds is an additive `ADD COLUMN IF NOT EXISTS` afterwards.
 */

/** One DDL statement with a label for error messages. `{s}` is replaced by the quoted schema. */
export interface DdlStep {
  /** What the step does. */
  readonly label: string;
  /** The statement; `{s}` stands for the quoted schema name. */
  readonly sql: string;
}

const table = (name: string, body: string): DdlStep => ({
  label: `create table ${name}`,
  sql: `CREATE TABLE IF NOT EXISTS {s}.${name} (\n${body}\n)`,
});
const column = (tableName: string, definition: string): DdlStep => ({
  label: `add column ${tableName}.${definition.split(' ')[0]}`,
  sql: `ALTER TABLE {s}.${tableName} ADD COLUMN IF NOT EXISTS ${definition}`,
});
const index = (name: string, on: string): DdlStep => ({
  label: `create index ${name}`,
  sql: `CREATE INDEX IF NOT EXISTS ${name} ON {s}.${on}`,
});

/** The table set of the 1.26 schema this backend upgrades from, in snake_case. */
const REFERENCE_TABLES: readonly DdlStep[] = [
  table(
    'flow_definitions',
    `  id UUID NOT NULL PRIMARY KEY,
  name VARCHAR(256) NOT NULL,
  version VARCHAR(64) NOT NULL DEFAULT '1.0',
  manifest_json TEXT NULL,
  is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()`,
  ),
  table(
    'flow_runs',
    `  id UUID NOT NULL PRIMARY KEY,
  flow_id UUID NOT NULL,
  flow_name VARCHAR(256) NULL,
  status VARCHAR(64) NOT NULL,
  trigger_key VARCHAR(256) NULL,
  trigger_data_json TEXT NULL,
  background_job_id VARCHAR(128) NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  completed_at TIMESTAMPTZ NULL`,
  ),
  table(
    'flow_steps',
    `  run_id UUID NOT NULL,
  step_key VARCHAR(256) NOT NULL,
  step_type VARCHAR(256) NOT NULL,
  status VARCHAR(64) NOT NULL,
  input_json TEXT NULL,
  output_json TEXT NULL,
  error_message TEXT NULL,
  job_id VARCHAR(128) NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  completed_at TIMESTAMPTZ NULL,
  PRIMARY KEY (run_id, step_key)`,
  ),
  table(
    'flow_step_attempts',
    `  run_id UUID NOT NULL,
  step_key VARCHAR(256) NOT NULL,
  attempt_no INT NOT NULL,
  step_type VARCHAR(256) NOT NULL,
  status VARCHAR(64) NOT NULL,
  input_json TEXT NULL,
  output_json TEXT NULL,
  error_message TEXT NULL,
  job_id VARCHAR(128) NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  completed_at TIMESTAMPTZ NULL,
  PRIMARY KEY (run_id, step_key, attempt_no)`,
  ),
  table(
    'flow_outputs',
    `  run_id UUID NOT NULL,
  key VARCHAR(256) NOT NULL,
  value_json TEXT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (run_id, key)`,
  ),
  table(
    'flow_step_claims',
    `  run_id UUID NOT NULL,
  step_key VARCHAR(256) NOT NULL,
  claimed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (run_id, step_key)`,
  ),
  table(
    'flow_run_controls',
    `  run_id UUID NOT NULL PRIMARY KEY,
  flow_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
  trigger_key VARCHAR(256) NOT NULL DEFAULT '',
  idempotency_key VARCHAR(256) NULL,
  timeout_at_utc TIMESTAMPTZ NULL,
  cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
  cancel_reason TEXT NULL,
  cancel_requested_at_utc TIMESTAMPTZ NULL,
  timed_out_at_utc TIMESTAMPTZ NULL`,
  ),
  table(
    'flow_idempotency_keys',
    `  flow_id UUID NOT NULL,
  trigger_key VARCHAR(256) NOT NULL,
  idempotency_key VARCHAR(256) NOT NULL,
  run_id UUID NOT NULL,
  created_at_utc TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (flow_id, trigger_key, idempotency_key)`,
  ),
  table(
    'flow_events',
    `  sequence BIGSERIAL PRIMARY KEY,
  run_id UUID NOT NULL,
  timestamp_utc TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  type VARCHAR(128) NOT NULL,
  step_key VARCHAR(256) NULL,
  message TEXT NULL`,
  ),
  table(
    'flow_step_dispatches',
    `  run_id UUID NOT NULL,
  step_key VARCHAR(256) NOT NULL,
  dispatched_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  dispatch_job_id VARCHAR(128) NULL,
  PRIMARY KEY (run_id, step_key)`,
  ),
  table(
    'flow_signal_waiters',
    `  run_id UUID NOT NULL,
  step_key VARCHAR(256) NOT NULL,
  signal_name VARCHAR(256) NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ NULL,
  delivered_at TIMESTAMPTZ NULL,
  payload_json TEXT NULL,
  PRIMARY KEY (run_id, step_key)`,
  ),
  table(
    'flow_schedule_states',
    `  job_id VARCHAR(256) NOT NULL PRIMARY KEY,
  flow_id UUID NOT NULL,
  flow_name VARCHAR(256) NOT NULL DEFAULT '',
  trigger_key VARCHAR(256) NOT NULL,
  is_paused BOOLEAN NOT NULL DEFAULT FALSE,
  cron_override VARCHAR(128) NULL,
  updated_at_utc TIMESTAMPTZ NOT NULL DEFAULT NOW()`,
  ),
  table(
    'webhook_replay_nonces',
    `  flow_id UUID NOT NULL,
  trigger_key VARCHAR(256) NOT NULL,
  nonce VARCHAR(256) NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (flow_id, trigger_key, nonce)`,
  ),
  table(
    'webhook_rejections',
    `  id BIGSERIAL PRIMARY KEY,
  flow_id UUID NULL,
  trigger_key VARCHAR(256) NULL,
  received_at TIMESTAMPTZ NOT NULL,
  remote_ip VARCHAR(64) NULL,
  reason VARCHAR(64) NOT NULL,
  status_code INT NOT NULL,
  body_bytes INT NOT NULL,
  body_truncated TEXT NULL,
  headers_json TEXT NULL,
  scheme VARCHAR(128) NULL,
  processing_ms DOUBLE PRECISION NULL,
  is_accepted BOOLEAN NOT NULL DEFAULT FALSE`,
  ),
  column('flow_runs', 'source_run_id UUID NULL'),
];

/** What this backend adds on top of the 1.26 schema: traces, the attempt counter, lease owner and expiry, waiter order, the version table. */
const ADDITIONS: readonly DdlStep[] = [
  column('flow_steps', 'evaluation_trace_json TEXT NULL'),
  column('flow_step_attempts', 'evaluation_trace_json TEXT NULL'),
  // Attempt numbers come from this per-step counter, bumped atomically by the step-row upsert.
  column('flow_steps', 'attempt_count INT NOT NULL DEFAULT 0'),
  {
    label: 'backfill flow_steps.attempt_count',
    sql: `UPDATE {s}.flow_steps s SET attempt_count = a.n
  FROM (SELECT run_id, step_key, MAX(attempt_no) AS n FROM {s}.flow_step_attempts GROUP BY run_id, step_key) a
  WHERE s.attempt_count = 0 AND a.run_id = s.run_id AND a.step_key = s.step_key`,
  },
  column('flow_step_claims', "owner VARCHAR(256) NOT NULL DEFAULT ''"),
  column('flow_step_claims', 'lease_expires_at TIMESTAMPTZ NULL'),
  column('flow_run_controls', 'created_at_utc TIMESTAMPTZ NOT NULL DEFAULT NOW()'),
  column('flow_signal_waiters', 'registration_seq BIGSERIAL'),
  // The durable step queue: a ledger row is queued while visible_at is set.
  column('flow_step_dispatches', 'visible_at TIMESTAMPTZ NULL'),
  column('flow_step_dispatches', 'attempt INT NOT NULL DEFAULT 1'),
  {
    // Work dispatched before the queue existed lived in a process's memory: queue what has not
    // finished, so the first consumer picks it up.
    label: 'backfill flow_step_dispatches.visible_at',
    sql: `UPDATE {s}.flow_step_dispatches d SET visible_at = d.dispatched_at
  FROM {s}.flow_runs r
  WHERE d.visible_at IS NULL AND r.id = d.run_id AND r.status = 'Running'
    AND NOT EXISTS (SELECT 1 FROM {s}.flow_steps s WHERE s.run_id = d.run_id AND s.step_key = d.step_key
      AND LOWER(s.status) IN ('succeeded', 'failed', 'skipped'))`,
  },
  {
    label: 'create table floworch_schema_version',
    sql: `CREATE TABLE IF NOT EXISTS {s}.floworch_schema_version (
  version INT NOT NULL PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`,
  },
];

/** Secondary indexes: the 1.26 set plus the ones its sweeps (expired claims, deadlines, retention) lacked. */
const INDEXES: readonly DdlStep[] = [
  index('ix_flow_runs_flow_id', 'flow_runs (flow_id)'),
  index('ix_flow_runs_status', 'flow_runs (status)'),
  index('ix_flow_runs_started_at', 'flow_runs (started_at DESC)'),
  index('ix_flow_runs_flow_id_status_started_at', 'flow_runs (flow_id, status, started_at DESC)'),
  index('ix_flow_runs_source_run_id', 'flow_runs (source_run_id) WHERE source_run_id IS NOT NULL'),
  index('ix_flow_runs_completed_at', "flow_runs (completed_at) WHERE status <> 'Running'"),
  index('ix_flow_steps_run_id_started_at', 'flow_steps (run_id, started_at)'),
  index('ix_flow_steps_step_key_run_id', 'flow_steps (step_key, run_id)'),
  index('ix_flow_step_attempts_run_id_started_at', 'flow_step_attempts (run_id, started_at)'),
  index('ix_flow_idempotency_keys_run_id', 'flow_idempotency_keys (run_id)'),
  index('ix_flow_events_run_id_sequence', 'flow_events (run_id, sequence)'),
  index('ix_flow_signal_waiters_run_id_signal_name', 'flow_signal_waiters (run_id, signal_name)'),
  index(
    'ix_flow_step_claims_lease_expires_at',
    'flow_step_claims (lease_expires_at) WHERE lease_expires_at IS NOT NULL',
  ),
  index(
    'ix_flow_step_dispatches_visible_at',
    'flow_step_dispatches (visible_at) WHERE visible_at IS NOT NULL',
  ),
  index(
    'ix_flow_run_controls_timeout_at_utc',
    'flow_run_controls (timeout_at_utc) WHERE timeout_at_utc IS NOT NULL',
  ),
  index('ix_webhook_replay_nonces_expires_at', 'webhook_replay_nonces (expires_at)'),
  index('ix_webhook_rejections_flow_received', 'webhook_rejections (flow_id, received_at DESC)'),
  index('ix_webhook_rejections_reason', 'webhook_rejections (reason)'),
  index('ix_webhook_rejections_received_at', 'webhook_rejections (received_at DESC)'),
];

/** Every DDL step of schema version {@link SCHEMA_VERSION}, in order. */
export const DDL_STEPS: readonly DdlStep[] = [...REFERENCE_TABLES, ...ADDITIONS, ...INDEXES];

/** The schema version this release writes. */
export const SCHEMA_VERSION = 2;

/** Description stored with {@link SCHEMA_VERSION}. */
export const SCHEMA_DESCRIPTION =
  'reference 1.26 tables + leases, attempt counter, control created_at, traces, durable step queue';
