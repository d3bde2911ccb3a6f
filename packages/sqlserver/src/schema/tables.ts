import { KEY_COLLATION, type SqlNames, type TableName } from '../sql/names.js';

/** A key column that must carry the binary collation (case-sensitive, ordinal). */
export interface KeyColumn {
  /** Table. */
  readonly table: TableName;
  /** Column. */
  readonly column: string;
  /** Full type with nullability, without the collation, e.g. `NVARCHAR(256) NOT NULL`. */
  readonly type: string;
}

/** Primary key columns per table (used to re-create a PK dropped by a collation upgrade). */
export const PRIMARY_KEYS: Readonly<Partial<Record<TableName, readonly string[]>>> = {
  FlowDefinitions: ['Id'],
  FlowRuns: ['Id'],
  FlowSteps: ['RunId', 'StepKey'],
  FlowStepAttempts: ['RunId', 'StepKey', 'AttemptNo'],
  FlowOutputs: ['RunId', 'Key'],
  FlowStepDispatches: ['RunId', 'StepKey'],
  FlowStepClaims: ['RunId', 'StepKey'],
  FlowRunControls: ['RunId'],
  FlowIdempotencyKeys: ['FlowId', 'TriggerKey', 'IdempotencyKey'],
  FlowEvents: ['Sequence'],
  FlowSignalWaiters: ['RunId', 'StepKey'],
  FlowScheduleStates: ['JobId'],
  WebhookReplayNonces: ['FlowId', 'TriggerKey', 'Nonce'],
  WebhookRejections: ['Id'],
  FlowSchemaVersion: ['Version'],
};

/** Columns compared case-sensitively: step keys, output keys, signal names, nonces, job ids. */
export const KEY_COLUMNS: readonly KeyColumn[] = [
  { table: 'FlowSteps', column: 'StepKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowStepAttempts', column: 'StepKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowOutputs', column: 'Key', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowStepDispatches', column: 'StepKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowStepClaims', column: 'StepKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowIdempotencyKeys', column: 'TriggerKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowIdempotencyKeys', column: 'IdempotencyKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowEvents', column: 'StepKey', type: 'NVARCHAR(256) NULL' },
  { table: 'FlowSignalWaiters', column: 'StepKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowSignalWaiters', column: 'SignalName', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'FlowScheduleStates', column: 'JobId', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'WebhookReplayNonces', column: 'TriggerKey', type: 'NVARCHAR(256) NOT NULL' },
  { table: 'WebhookReplayNonces', column: 'Nonce', type: 'NVARCHAR(256) NOT NULL' },
];

const K = `COLLATE ${KEY_COLLATION}`;

/** `CREATE TABLE` bodies (column list and PK) of the current schema, fresh-database shape. */
export function tableDefinitions(n: SqlNames): ReadonlyArray<{ table: TableName; ddl: string }> {
  const pk = (table: TableName) =>
    `CONSTRAINT [PK_${table}] PRIMARY KEY (${PRIMARY_KEYS[table]!.map((c) => `[${c}]`).join(', ')})`;
  const t = (table: TableName, body: string) => ({
    table,
    ddl: `CREATE TABLE ${n.text(table)} (\n${body},\n  ${pk(table)}\n)`,
  });
  return [
    t(
      'FlowDefinitions',
      `  [Id] UNIQUEIDENTIFIER NOT NULL,
  [Name] NVARCHAR(256) NOT NULL,
  [Version] NVARCHAR(64) NOT NULL CONSTRAINT [DF_FlowDefinitions_Version] DEFAULT (N'1.0'),
  [ManifestJson] NVARCHAR(MAX) NULL,
  [IsEnabled] BIT NOT NULL CONSTRAINT [DF_FlowDefinitions_IsEnabled] DEFAULT (1),
  [CreatedAt] DATETIMEOFFSET(7) NOT NULL,
  [UpdatedAt] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'FlowRuns',
      `  [Id] UNIQUEIDENTIFIER NOT NULL,
  [FlowId] UNIQUEIDENTIFIER NOT NULL,
  [FlowName] NVARCHAR(256) NULL,
  [Status] NVARCHAR(64) NOT NULL,
  [TriggerKey] NVARCHAR(256) NULL,
  [TriggerDataJson] NVARCHAR(MAX) NULL,
  [BackgroundJobId] NVARCHAR(128) NULL,
  [StartedAt] DATETIMEOFFSET(7) NOT NULL,
  [CompletedAt] DATETIMEOFFSET(7) NULL,
  [SourceRunId] UNIQUEIDENTIFIER NULL`,
    ),
    t(
      'FlowSteps',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NOT NULL,
  [StepType] NVARCHAR(256) NOT NULL,
  [Status] NVARCHAR(64) NOT NULL,
  [InputJson] NVARCHAR(MAX) NULL,
  [OutputJson] NVARCHAR(MAX) NULL,
  [ErrorMessage] NVARCHAR(MAX) NULL,
  [JobId] NVARCHAR(128) NULL,
  [StartedAt] DATETIMEOFFSET(7) NOT NULL,
  [CompletedAt] DATETIMEOFFSET(7) NULL,
  [EvaluationTraceJson] NVARCHAR(MAX) NULL`,
    ),
    t(
      'FlowStepAttempts',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NOT NULL,
  [AttemptNo] INT NOT NULL,
  [StepType] NVARCHAR(256) NOT NULL,
  [Status] NVARCHAR(64) NOT NULL,
  [InputJson] NVARCHAR(MAX) NULL,
  [OutputJson] NVARCHAR(MAX) NULL,
  [ErrorMessage] NVARCHAR(MAX) NULL,
  [JobId] NVARCHAR(128) NULL,
  [StartedAt] DATETIMEOFFSET(7) NOT NULL,
  [CompletedAt] DATETIMEOFFSET(7) NULL,
  [EvaluationTraceJson] NVARCHAR(MAX) NULL`,
    ),
    t(
      'FlowOutputs',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [Key] NVARCHAR(256) ${K} NOT NULL,
  [ValueJson] NVARCHAR(MAX) NULL,
  [CreatedAt] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'FlowStepDispatches',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NOT NULL,
  [DispatchedAt] DATETIMEOFFSET(7) NOT NULL,
  [DispatchJobId] NVARCHAR(128) NULL,
  [VisibleAt] DATETIMEOFFSET(7) NULL,
  [Attempt] INT NOT NULL CONSTRAINT [DF_FlowStepDispatches_Attempt] DEFAULT (1)`,
    ),
    t(
      'FlowStepClaims',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NOT NULL,
  [ClaimedAt] DATETIMEOFFSET(7) NOT NULL,
  [Owner] NVARCHAR(256) ${K} NOT NULL CONSTRAINT [DF_FlowStepClaims_Owner] DEFAULT (N''),
  [LeaseExpiresAt] DATETIMEOFFSET(7) NULL`,
    ),
    t(
      'FlowRunControls',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [FlowId] UNIQUEIDENTIFIER NOT NULL CONSTRAINT [DF_FlowRunControls_FlowId] DEFAULT ('00000000-0000-0000-0000-000000000000'),
  [TriggerKey] NVARCHAR(256) NOT NULL CONSTRAINT [DF_FlowRunControls_TriggerKey] DEFAULT (N''),
  [IdempotencyKey] NVARCHAR(256) NULL,
  [TimeoutAtUtc] DATETIMEOFFSET(7) NULL,
  [CancelRequested] BIT NOT NULL CONSTRAINT [DF_FlowRunControls_CancelRequested] DEFAULT (0),
  [CancelReason] NVARCHAR(MAX) NULL,
  [CancelRequestedAtUtc] DATETIMEOFFSET(7) NULL,
  [TimedOutAtUtc] DATETIMEOFFSET(7) NULL,
  [CreatedAt] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'FlowIdempotencyKeys',
      `  [FlowId] UNIQUEIDENTIFIER NOT NULL,
  [TriggerKey] NVARCHAR(256) ${K} NOT NULL,
  [IdempotencyKey] NVARCHAR(256) ${K} NOT NULL,
  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [CreatedAtUtc] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'FlowEvents',
      `  [Sequence] BIGINT IDENTITY(1,1) NOT NULL,
  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [Timestamp] DATETIMEOFFSET(7) NOT NULL,
  [Type] NVARCHAR(128) NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NULL,
  [Message] NVARCHAR(MAX) NULL`,
    ),
    t(
      'FlowSignalWaiters',
      `  [RunId] UNIQUEIDENTIFIER NOT NULL,
  [StepKey] NVARCHAR(256) ${K} NOT NULL,
  [SignalName] NVARCHAR(256) ${K} NOT NULL,
  [CreatedAt] DATETIMEOFFSET(7) NOT NULL,
  [ExpiresAt] DATETIMEOFFSET(7) NULL,
  [DeliveredAt] DATETIMEOFFSET(7) NULL,
  [PayloadJson] NVARCHAR(MAX) NULL,
  [RegisteredSeq] BIGINT IDENTITY(1,1) NOT NULL`,
    ),
    t(
      'FlowScheduleStates',
      `  [JobId] NVARCHAR(256) ${K} NOT NULL,
  [FlowId] UNIQUEIDENTIFIER NOT NULL,
  [FlowName] NVARCHAR(256) NOT NULL CONSTRAINT [DF_FlowScheduleStates_FlowName] DEFAULT (N''),
  [TriggerKey] NVARCHAR(256) NOT NULL,
  [IsPaused] BIT NOT NULL CONSTRAINT [DF_FlowScheduleStates_IsPaused] DEFAULT (0),
  [CronOverride] NVARCHAR(128) NULL,
  [UpdatedAtUtc] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'WebhookReplayNonces',
      `  [FlowId] UNIQUEIDENTIFIER NOT NULL,
  [TriggerKey] NVARCHAR(256) ${K} NOT NULL,
  [Nonce] NVARCHAR(256) ${K} NOT NULL,
  [ExpiresAt] DATETIMEOFFSET(7) NOT NULL`,
    ),
    t(
      'WebhookRejections',
      `  [Id] BIGINT IDENTITY(1,1) NOT NULL,
  [FlowId] UNIQUEIDENTIFIER NULL,
  [TriggerKey] NVARCHAR(256) NULL,
  [ReceivedAt] DATETIMEOFFSET(7) NOT NULL,
  [RemoteIp] NVARCHAR(64) NULL,
  [Reason] NVARCHAR(64) NOT NULL,
  [StatusCode] INT NOT NULL,
  [BodyBytes] INT NOT NULL,
  [BodyTruncated] NVARCHAR(MAX) NULL,
  [HeadersJson] NVARCHAR(MAX) NULL,
  [Scheme] NVARCHAR(128) NULL,
  [ProcessingMs] FLOAT NULL,
  [IsAccepted] BIT NOT NULL CONSTRAINT [DF_WebhookRejections_IsAccepted] DEFAULT (0)`,
    ),
    t(
      'FlowSchemaVersion',
      `  [Version] INT NOT NULL,
  [Description] NVARCHAR(256) NOT NULL,
  [AppliedAt] DATETIMEOFFSET(7) NOT NULL`,
    ),
  ];
}

/** Columns added after a table's first release (upgrade path), with their full definition. */
export const ADDED_COLUMNS: ReadonlyArray<{ table: TableName; column: string; definition: string }> = [
  { table: 'FlowRuns', column: 'SourceRunId', definition: 'UNIQUEIDENTIFIER NULL' },
  { table: 'FlowSteps', column: 'EvaluationTraceJson', definition: 'NVARCHAR(MAX) NULL' },
  { table: 'FlowStepAttempts', column: 'EvaluationTraceJson', definition: 'NVARCHAR(MAX) NULL' },
  {
    table: 'FlowStepClaims',
    column: 'Owner',
    definition: `NVARCHAR(256) ${K} NOT NULL CONSTRAINT [DF_FlowStepClaims_Owner] DEFAULT (N'')`,
  },
  { table: 'FlowStepClaims', column: 'LeaseExpiresAt', definition: 'DATETIMEOFFSET(7) NULL' },
  // Registration order breaks ties between waiters registered at the same instant.
  { table: 'FlowSignalWaiters', column: 'RegisteredSeq', definition: 'BIGINT IDENTITY(1,1) NOT NULL' },
  {
    // Backfills rows of an upgraded database once; new rows always get the injected clock's time.
    table: 'FlowRunControls',
    column: 'CreatedAt',
    definition:
      'DATETIMEOFFSET(7) NOT NULL CONSTRAINT [DF_FlowRunControls_CreatedAt] DEFAULT (SYSUTCDATETIME())',
  },
  // The step queue (schema version 2): a ledger row is queued while VisibleAt is set; Attempt is
  // the automatic-retry attempt the row is for. Existing rows are backfilled by QUEUE_BACKFILL.
  { table: 'FlowStepDispatches', column: 'VisibleAt', definition: 'DATETIMEOFFSET(7) NULL' },
  {
    table: 'FlowStepDispatches',
    column: 'Attempt',
    definition: 'INT NOT NULL CONSTRAINT [DF_FlowStepDispatches_Attempt] DEFAULT (1)',
  },
];

/** Secondary indexes: name, table, and the text after `ON [schema].[Table]`. */
export const INDEXES: ReadonlyArray<{ name: string; table: TableName; body: string }> = [
  { name: 'IX_FlowRuns_FlowId', table: 'FlowRuns', body: '([FlowId])' },
  { name: 'IX_FlowRuns_Status', table: 'FlowRuns', body: '([Status])' },
  {
    name: 'IX_FlowRuns_StartedAt',
    table: 'FlowRuns',
    body: '([StartedAt] DESC) INCLUDE ([FlowId], [FlowName], [Status], [TriggerKey], [BackgroundJobId], [CompletedAt])',
  },
  {
    name: 'IX_FlowRuns_FlowId_Status_StartedAt',
    table: 'FlowRuns',
    body: '([FlowId], [Status], [StartedAt] DESC) INCLUDE ([FlowName], [TriggerKey], [BackgroundJobId], [CompletedAt])',
  },
  {
    name: 'IX_FlowRuns_SourceRunId',
    table: 'FlowRuns',
    body: '([SourceRunId]) WHERE [SourceRunId] IS NOT NULL',
  },
  // Retention scans finished runs by completion time.
  {
    name: 'IX_FlowRuns_CompletedAt',
    table: 'FlowRuns',
    body: '([CompletedAt]) WHERE [CompletedAt] IS NOT NULL',
  },
  {
    name: 'IX_FlowSteps_RunId_StartedAt',
    table: 'FlowSteps',
    body: '([RunId], [StartedAt]) INCLUDE ([StepKey], [StepType], [Status], [JobId], [CompletedAt])',
  },
  { name: 'IX_FlowSteps_StepKey_RunId', table: 'FlowSteps', body: '([StepKey], [RunId])' },
  {
    name: 'IX_FlowStepAttempts_RunId_StartedAt',
    table: 'FlowStepAttempts',
    body: '([RunId], [StartedAt]) INCLUDE ([StepKey], [AttemptNo], [StepType], [Status], [JobId], [CompletedAt])',
  },
  { name: 'IX_FlowIdempotencyKeys_RunId', table: 'FlowIdempotencyKeys', body: '([RunId])' },
  { name: 'IX_FlowEvents_RunId_Sequence', table: 'FlowEvents', body: '([RunId], [Sequence])' },
  {
    name: 'IX_FlowSignalWaiters_RunId_SignalName',
    table: 'FlowSignalWaiters',
    body: '([RunId], [SignalName])',
  },
  // The timeout sweeper scans deadlines; the recovery scan looks for lapsed leases.
  {
    name: 'IX_FlowRunControls_TimeoutAtUtc',
    table: 'FlowRunControls',
    body: '([TimeoutAtUtc]) WHERE [TimeoutAtUtc] IS NOT NULL',
  },
  {
    name: 'IX_FlowStepClaims_LeaseExpiresAt',
    table: 'FlowStepClaims',
    body: '([LeaseExpiresAt]) WHERE [LeaseExpiresAt] IS NOT NULL',
  },
  // Takers read due rows in this order (VisibleAt, then run and step), so TOP stops after the rows
  // it returns; only queued rows (a small share of the ledger) are indexed.
  {
    name: 'IX_FlowStepDispatches_VisibleAt',
    table: 'FlowStepDispatches',
    body: '([VisibleAt], [RunId], [StepKey]) INCLUDE ([Attempt]) WHERE [VisibleAt] IS NOT NULL',
  },
  { name: 'IX_WebhookReplayNonces_ExpiresAt', table: 'WebhookReplayNonces', body: '([ExpiresAt])' },
  {
    name: 'IX_WebhookRejections_FlowId_ReceivedAt',
    table: 'WebhookRejections',
    body: '([FlowId], [ReceivedAt])',
  },
  { name: 'IX_WebhookRejections_Reason', table: 'WebhookRejections', body: '([Reason])' },
  { name: 'IX_WebhookRejections_ReceivedAt', table: 'WebhookRejections', body: '([ReceivedAt])' },
];
