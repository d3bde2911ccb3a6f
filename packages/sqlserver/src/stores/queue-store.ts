import {
  checkEventInput,
  DuplicateRunError,
  type FlowRunControlRecord,
  type FlowStepQueueStore,
  fromJsonText,
  InvalidArgumentError,
  type LeaseRenewal,
  type ListDueRequest,
  lowerCaseHeaders,
  normalizeIdempotencyPart,
  OutputKeys,
  openRunTransaction,
  parseStepStatus,
  type QueuedStep,
  type QueuedStepStart,
  type RunSnapshot,
  type RunStartResult,
  type RunStartWrite,
  type RunTransaction,
  type StepStatus,
  type TakenStep,
  type TakeRequest,
  type TakeStepRequest,
  type TakeStepResult,
  toJsonText,
} from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { isDuplicateKeyError } from '../sql/errors.js';
import { KEY_COLLATION } from '../sql/names.js';
import {
  key,
  stepVars,
  toBool,
  toDate,
  toDateOrNull,
  toNumber,
  toUuid,
  ts,
  tsOrNull,
  uuid,
} from '../sql/values.js';
import {
  batchPieces,
  claimPutPieces,
  eventPieces,
  ledgerPutPieces,
  outputPieces,
  planRunWrites,
  TERMINAL_STEP_STATUSES,
  varNames,
} from './queue-writes.js';

/** SQL Server's limit on parameters of one request. */
const MAX_PARAMETERS = 2100;

/** Control-row columns under `Ctl…` aliases (they share a result row with other tables' columns). */
const CONTROL_COLUMNS = sql.raw(
  'ctl.[RunId] AS [CtlRunId], ctl.[FlowId] AS [CtlFlowId], ctl.[TriggerKey] AS [CtlTriggerKey], ctl.[IdempotencyKey] AS [CtlIdempotencyKey], ctl.[CreatedAt] AS [CtlCreatedAt], ctl.[TimeoutAtUtc] AS [CtlTimeoutAtUtc], ctl.[CancelRequested] AS [CtlCancelRequested], ctl.[CancelReason] AS [CtlCancelReason], ctl.[CancelRequestedAtUtc] AS [CtlCancelRequestedAtUtc], ctl.[TimedOutAtUtc] AS [CtlTimedOutAtUtc]',
);

interface ControlColumns {
  CtlRunId?: string | null;
  CtlFlowId?: string | null;
  CtlTriggerKey?: string | null;
  CtlIdempotencyKey?: string | null;
  CtlCreatedAt?: Date | null;
  CtlTimeoutAtUtc?: Date | null;
  CtlCancelRequested?: boolean | number | null;
  CtlCancelReason?: string | null;
  CtlCancelRequestedAtUtc?: Date | null;
  CtlTimedOutAtUtc?: Date | null;
}

/** The control record of a row carrying {@link CONTROL_COLUMNS}, or null without one. */
function controlFrom(row: ControlColumns): FlowRunControlRecord | null {
  if (row.CtlRunId === null || row.CtlRunId === undefined) return null;
  return {
    runId: toUuid(row.CtlRunId),
    flowId: toUuid(row.CtlFlowId),
    triggerKey: row.CtlTriggerKey ?? '',
    idempotencyKey: row.CtlIdempotencyKey ?? null,
    createdAt: toDate(row.CtlCreatedAt),
    timeoutAt: toDateOrNull(row.CtlTimeoutAtUtc),
    cancelRequested: toBool(row.CtlCancelRequested),
    cancelReason: row.CtlCancelReason ?? null,
    cancelRequestedAt: toDateOrNull(row.CtlCancelRequestedAtUtc),
    timedOutAt: toDateOrNull(row.CtlTimedOutAtUtc),
  };
}

/** One row of the snapshot batch; `Kind` says which table it came from. */
interface SnapshotRow extends ControlColumns {
  Kind: 'run' | 'step' | 'queue' | 'claim' | 'control';
  FlowId?: string;
  Status?: string;
  StepKey?: string;
  Attempt?: number;
  VisibleAt?: Date | null;
  Owner?: string;
  LeaseExpiresAt?: Date | null;
}

/** A taken row as the take batch returns it. */
interface TakenRow extends ControlColumns {
  RunId: string;
  FlowId: string;
  StepKey: string;
  Attempt: number;
  VisibleAt: Date;
}

/** The result row of {@link SqlServerQueueStore.takeStep}. */
interface TakeStepRow extends ControlColumns {
  Won: number;
  FlowId: string | null;
  Attempt: number | null;
  VisibleAt: Date | null;
  RunStatus: string | null;
  NowAttempt: number | null;
  NowVisibleAt: Date | null;
  Owner: string | null;
  LeaseExpiresAt: Date | null;
  Terminal: number | boolean | null;
}

/**
 * SQL Server {@link FlowStepQueueStore}: the dispatch ledger (`FlowStepDispatches`) is the queue,
 * a row is queued while its `VisibleAt` is set, and taking a row is claiming its step
 * (`FlowStepClaims`) with a lease.
 *
 * Locking (the SQL Server shape of PostgreSQL's `FOR UPDATE` / `FOR SHARE … SKIP LOCKED`):
 * - a run transaction ({@link transact}) holds its run row exclusively (`XLOCK, HOLDLOCK,
 *   ROWLOCK`) until it commits, so transactions of one run serialise and takers skip the run;
 * - takers read due ledger rows with `UPDLOCK, ROWLOCK, READPAST` (each row goes to one taker,
 *   rows another taker holds are skipped, never waited for) and their run rows with
 *   `REPEATABLEREAD, ROWLOCK, READPAST`: shared locks held to the commit, which takers of one run
 *   share but a run transaction's exclusive lock excludes (either side skips or waits briefly);
 * - ledger row before claim before step rows and attempts, in every statement.
 *
 * A shared lock rather than an update lock on the run row is what lets many takers drain one
 * run's fan-out at once; an update lock would hand each run to one taker at a time.
 *
 * There is no {@link FlowStepQueueStore.listen}: SQL Server has no LISTEN/NOTIFY, so consumers
 * poll (the orchestrator's `pollIntervalMs`), and steps an instance queues for itself still wake
 * it at once.
 */
export class SqlServerQueueStore implements FlowStepQueueStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async startRun(input: RunStartWrite): Promise<RunStartResult> {
    const { n } = this.ctx;
    const run = input.run;
    const runId = uuid(run.runId, 'run.runId');
    const flowId = uuid(run.flowId, 'run.flowId');
    const triggerKey = run.triggerKey ?? '';
    // Validate everything that can fail before the batch is sent: all or nothing.
    const headersJson =
      input.triggerHeaders === null
        ? null
        : toJsonText(lowerCaseHeaders(input.triggerHeaders), 'trigger headers');
    const dataJson = run.triggerDataJson ?? 'null';
    try {
      fromJsonText(dataJson);
    } catch (error) {
      throw new InvalidArgumentError(
        'run.triggerDataJson',
        `is not valid JSON (${(error as Error).message})`,
      );
    }
    for (const event of input.events) checkEventInput(event);
    const takeFor = input.takeFor;
    const now = this.ctx.clock.now();
    const entry = [...new Set(input.entrySteps.map((k) => key(k, 'entrySteps[]')))];
    const takeCount =
      takeFor && Number.isFinite(takeFor.limit)
        ? Math.max(0, Math.min(entry.length, Math.trunc(takeFor.limit)))
        : 0;
    const expires = takeFor ? new Date(now.getTime() + takeFor.leaseMs) : null;
    const owner = takeFor ? key(takeFor.owner, 'takeFor.owner') : '';
    const storedIdem = input.idempotencyKey?.trim() || null;

    const vars = varNames();
    // Upserts throughout: rows a client wrote for this id before the run existed are overwritten.
    const outputValues = new Map<string, string>([[OutputKeys.triggerData, dataJson]]);
    if (headersJson !== null) outputValues.set(OutputKeys.triggerHeaders, headersJson);
    const pieces = [
      ...outputPieces(n, vars, outputValues),
      ...eventPieces(n, vars, input.events, now),
      ...ledgerPutPieces(
        n,
        vars,
        entry.map((stepKey, i) => ({ stepKey, attempt: 1, visibleAt: i < takeCount ? expires : now })),
      ),
      ...claimPutPieces(
        n,
        vars,
        entry.slice(0, takeCount).map((stepKey) => ({ stepKey, owner, leaseExpiresAt: expires })),
      ),
    ];
    const idemTable = n.table('FlowIdempotencyKeys');
    const controls = n.table('FlowRunControls');
    const trigger = key(normalizeIdempotencyPart(triggerKey), 'run.triggerKey');
    const idem = storedIdem === null ? null : key(normalizeIdempotencyPart(storedIdem), 'idempotencyKey');
    const timeout = tsOrNull(input.timeoutAt);
    const statement = sql<{ Duplicate: number; RunId: string | null }>`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${runId}, @now DATETIMEOFFSET(7) = ${ts(now)}, @flow UNIQUEIDENTIFIER = ${flowId}, @existing UNIQUEIDENTIFIER = NULL, @dup INT = 0;
BEGIN TRANSACTION;
${
  idem === null
    ? sql``
    : sql`SELECT @existing = [RunId] FROM ${idemTable} WITH (UPDLOCK, HOLDLOCK)
  WHERE [FlowId] = @flow AND [TriggerKey] = ${trigger} AND [IdempotencyKey] = ${idem};`
}
IF @existing IS NULL AND EXISTS (SELECT 1 FROM ${n.table('FlowRuns')} WITH (UPDLOCK, HOLDLOCK) WHERE [Id] = @run) SET @dup = 1;
IF @existing IS NULL AND @dup = 0
BEGIN
${
  idem === null
    ? sql``
    : sql`INSERT INTO ${idemTable} ([FlowId], [TriggerKey], [IdempotencyKey], [RunId], [CreatedAtUtc]) VALUES (@flow, ${trigger}, ${idem}, @run, @now);`
}
INSERT INTO ${n.table('FlowRuns')}
  ([Id], [FlowId], [FlowName], [Status], [TriggerKey], [TriggerDataJson], [BackgroundJobId], [StartedAt], [CompletedAt], [SourceRunId])
  VALUES (@run, @flow, ${run.flowName}, N'Running', ${run.triggerKey}, ${run.triggerDataJson ?? null}, ${run.jobId ?? null}, @now, NULL,
    ${run.sourceRunId ? uuid(run.sourceRunId, 'run.sourceRunId') : null});
-- A control row written before the run existed (a cancel requested early) keeps its cancel state.
UPDATE ${controls}
  SET [FlowId] = @flow, [TriggerKey] = ${triggerKey}, [IdempotencyKey] = ${storedIdem}, [TimeoutAtUtc] = ${timeout}
  WHERE [RunId] = @run;
IF @@ROWCOUNT = 0
  INSERT INTO ${controls} ([RunId], [FlowId], [TriggerKey], [IdempotencyKey], [TimeoutAtUtc], [CancelRequested], [CreatedAt])
    VALUES (@run, @flow, ${triggerKey}, ${storedIdem}, ${timeout}, 0, @now);
${sql.join(pieces, sql.raw('\n'))}
END;
COMMIT TRANSACTION;
SELECT @dup AS [Duplicate], @existing AS [RunId];`;
    if (statement.compile(this.ctx.db).parameters.length > MAX_PARAMETERS) {
      throw new InvalidArgumentError(
        'input',
        `has too many entry steps and events to start in one statement (SQL Server allows ${MAX_PARAMETERS} parameters)`,
      );
    }
    let row: { Duplicate: number; RunId: string | null } | undefined;
    try {
      row = await retryOnDeadlock(() => queryFirst(this.ctx, statement));
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DuplicateRunError(runId);
      throw error;
    }
    if (toNumber(row?.Duplicate ?? 0) > 0) throw new DuplicateRunError(runId);
    if (row?.RunId) return { runId: toUuid(row.RunId), duplicate: true, taken: [] };
    const control: FlowRunControlRecord = {
      runId,
      flowId,
      triggerKey,
      idempotencyKey: storedIdem,
      createdAt: now,
      timeoutAt: input.timeoutAt ?? null,
      cancelRequested: false,
      cancelReason: null,
      cancelRequestedAt: null,
      timedOutAt: null,
    };
    const taken: TakenStep[] = entry.slice(0, takeCount).map((stepKey) => ({
      runId,
      flowId,
      stepKey,
      owner: owner as string,
      attempt: 1,
      visibleAt: now,
      leaseExpiresAt: expires as Date,
      control,
    }));
    return { runId, duplicate: false, taken };
  }

  async transact<T>(runId: string, work: (tx: RunTransaction) => Promise<T>): Promise<T> {
    const run = uuid(runId, 'runId');
    const { n, clock } = this.ctx;
    // A controlled transaction: when a statement fails, XACT_ABORT has already rolled back on the
    // server, so the client-side rollback may fail too; the original error is the one to report.
    const trx = await this.ctx.db.startTransaction().execute();
    const inTx: SqlContext = { ...this.ctx, db: trx };
    try {
      const rows = await query(inTx, snapshotStatement(this.ctx, run));
      const snapshot = parseSnapshot(run, rows);
      const { result, writes } = await openRunTransaction(
        snapshot,
        clock,
        async (outputKey) => fromJsonText(await readOutput(inTx, run, outputKey)),
        work,
      );
      const now = clock.now();
      // SET options made inside a parameterised batch (sp_executesql) end with it: every batch sets
      // XACT_ABORT again, so its first error aborts the batch and dooms the transaction.
      const prelude = sql`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${run}, @now DATETIMEOFFSET(7) = ${ts(now)};`;
      const pieces = planRunWrites(n, writes, snapshot.run?.flowId ?? '', now);
      for (const batch of batchPieces(trx, prelude, pieces)) await query(inTx, batch);
      await trx.commit().execute();
      return result;
    } catch (error) {
      await trx
        .rollback()
        .execute()
        .catch(() => {});
      throw error;
    }
  }

  async take(request: TakeRequest): Promise<TakenStep[]> {
    const limit = Number.isFinite(request.limit) ? Math.max(0, Math.trunc(request.limit)) : 0;
    if (limit === 0) return [];
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const expires = new Date(now.getTime() + request.leaseMs);
    const ledger = n.table('FlowStepDispatches');
    const runs = n.table('FlowRuns');
    const claims = n.table('FlowStepClaims');
    const steps = n.table('FlowSteps');
    const bin2 = sql.raw(`COLLATE ${KEY_COLLATION}`);
    const terminal = (alias: string) =>
      sql`EXISTS (SELECT 1 FROM ${steps} AS s WHERE s.[RunId] = ${sql.raw(alias)}.[RunId] AND s.[StepKey] = ${sql.raw(
        alias,
      )}.[StepKey] AND s.[Status] IN ${TERMINAL_STEP_STATUSES})`;
    // Due rows are read in the order of IX_FlowStepDispatches_VisibleAt (VisibleAt, RunId,
    // StepKey), so TOP stops early and only the rows it returns stay update-locked; READPAST skips
    // rows other takers hold. Run rows are share-locked to the commit with READPAST: a run inside
    // a transaction (exclusively locked) is skipped, and concurrent takers of one run coexist.
    const dueFrom = sql`FROM ${ledger} AS d WITH (UPDLOCK, ROWLOCK, READPAST)
  JOIN ${runs} AS r WITH (REPEATABLEREAD, ROWLOCK, READPAST) ON r.[Id] = d.[RunId]`;
    const due = sql`d.[VisibleAt] IS NOT NULL AND d.[VisibleAt] <= @now AND r.[Status] = N'Running'`;
    const statement = sql<TakenRow>`SET XACT_ABORT ON;
DECLARE @now DATETIMEOFFSET(7) = ${ts(now)}, @expires DATETIMEOFFSET(7) = ${ts(expires)}, @owner NVARCHAR(256) = ${key(
      request.owner,
      'owner',
    )};
DECLARE @due TABLE ([Ord] INT IDENTITY(1, 1) NOT NULL PRIMARY KEY, [RunId] UNIQUEIDENTIFIER NOT NULL, [StepKey] NVARCHAR(256) ${bin2} NOT NULL,
  [FlowId] UNIQUEIDENTIFIER NOT NULL, [Attempt] INT NOT NULL, [VisibleAt] DATETIMEOFFSET(7) NOT NULL, [Claimed] BIT NOT NULL);
DECLARE @won TABLE ([RunId] UNIQUEIDENTIFIER NOT NULL, [StepKey] NVARCHAR(256) ${bin2} NOT NULL, PRIMARY KEY ([RunId], [StepKey]));
BEGIN TRANSACTION;
-- Rows somebody holds (or whose step finished under a claim) are looked at again once that
-- lease could have lapsed: now + lease, never NULL.
UPDATE TOP (${limit}) d SET [VisibleAt] = @expires
  ${dueFrom}
  JOIN ${claims} AS c ON c.[RunId] = d.[RunId] AND c.[StepKey] = d.[StepKey]
  WHERE ${due}
    AND (c.[LeaseExpiresAt] IS NULL OR c.[LeaseExpiresAt] > @now OR ${terminal('d')});
INSERT INTO @due ([RunId], [StepKey], [FlowId], [Attempt], [VisibleAt], [Claimed])
  SELECT TOP (${limit}) d.[RunId], d.[StepKey], r.[FlowId], d.[Attempt], d.[VisibleAt], CASE WHEN c.[RunId] IS NULL THEN 0 ELSE 1 END
  ${dueFrom}
  LEFT JOIN ${claims} AS c ON c.[RunId] = d.[RunId] AND c.[StepKey] = d.[StepKey]
  WHERE ${due}
    AND (c.[RunId] IS NULL OR (c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= @now AND NOT ${terminal('d')}))
  ORDER BY d.[VisibleAt], d.[RunId], d.[StepKey];
-- Claims: take over a lapsed lease of a non-terminal step (re-checked under the claim's lock, so a
-- row lost to a concurrent renew is not taken), or insert one. The ledger row's update lock makes
-- this taker the only claimer of the step (a run transaction is excluded by the run lock), so the
-- insert needs no key-range probe: none of the range locks that deadlock concurrent takers.
UPDATE c SET [Owner] = @owner, [ClaimedAt] = @now, [LeaseExpiresAt] = @expires
  OUTPUT inserted.[RunId], inserted.[StepKey] INTO @won ([RunId], [StepKey])
  FROM ${claims} AS c WITH (ROWLOCK) JOIN @due AS t ON t.[RunId] = c.[RunId] AND t.[StepKey] = c.[StepKey]
  WHERE t.[Claimed] = 1 AND c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= @now AND NOT ${terminal('c')};
INSERT INTO ${claims} ([RunId], [StepKey], [ClaimedAt], [Owner], [LeaseExpiresAt])
  OUTPUT inserted.[RunId], inserted.[StepKey] INTO @won ([RunId], [StepKey])
  SELECT t.[RunId], t.[StepKey], @now, @owner, @expires FROM @due AS t WHERE t.[Claimed] = 0;
-- Taken rows reappear only if the lease lapses; so do rows lost to a concurrent claimer.
UPDATE d SET [VisibleAt] = @expires
  FROM ${ledger} AS d WITH (ROWLOCK) JOIN @due AS t ON t.[RunId] = d.[RunId] AND t.[StepKey] = d.[StepKey];
COMMIT TRANSACTION;
SELECT t.[RunId], t.[FlowId], t.[StepKey], t.[Attempt], t.[VisibleAt], ${CONTROL_COLUMNS}
FROM @due AS t
JOIN @won AS w ON w.[RunId] = t.[RunId] AND w.[StepKey] = t.[StepKey]
LEFT JOIN ${n.table('FlowRunControls')} AS ctl ON ctl.[RunId] = t.[RunId]
ORDER BY t.[Ord];`;
    let rows: TakenRow[];
    try {
      rows = await retryOnDeadlock(() => query(this.ctx, statement));
    } catch (error) {
      // A claim inserted between the read and the insert by a writer outside the queue (the
      // runtime store's tryClaimStep): the batch rolled back whole; the next take sorts it out.
      if (isDuplicateKeyError(error)) return [];
      throw error;
    }
    return rows.map((row) => ({
      runId: toUuid(row.RunId),
      flowId: toUuid(row.FlowId),
      stepKey: row.StepKey,
      owner: request.owner,
      attempt: toNumber(row.Attempt),
      visibleAt: toDate(row.VisibleAt),
      leaseExpiresAt: new Date(expires.getTime()),
      control: controlFrom(row),
    }));
  }

  async takeStep(request: TakeStepRequest): Promise<TakeStepResult> {
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const expires = new Date(now.getTime() + request.leaseMs);
    const ledger = n.table('FlowStepDispatches');
    const runs = n.table('FlowRuns');
    const claims = n.table('FlowStepClaims');
    const steps = n.table('FlowSteps');
    const terminal = (alias: string) =>
      sql`EXISTS (SELECT 1 FROM ${steps} AS s WHERE s.[RunId] = ${sql.raw(alias)}.[RunId] AND s.[StepKey] = ${sql.raw(
        alias,
      )}.[StepKey] AND s.[Status] IN ${TERMINAL_STEP_STATUSES})`;
    // As take, for one row: the ledger row with UPDLOCK + READPAST and the run row share-locked
    // with READPAST, so it never waits for a run transaction (or another taker). When nothing was
    // won, a read that takes no locks (READUNCOMMITTED) tells why.
    const statement = sql<TakeStepRow>`SET XACT_ABORT ON;
${stepVars(request.runId, request.stepKey, now)}
DECLARE @expires DATETIMEOFFSET(7) = ${ts(expires)}, @owner NVARCHAR(256) = ${key(request.owner, 'owner')};
DECLARE @flow UNIQUEIDENTIFIER = NULL, @attempt INT = NULL, @visible DATETIMEOFFSET(7) = NULL, @claimed BIT = 0, @won INT = 0;
BEGIN TRANSACTION;
SELECT @flow = r.[FlowId], @attempt = d.[Attempt], @visible = d.[VisibleAt], @claimed = CASE WHEN c.[RunId] IS NULL THEN 0 ELSE 1 END
  FROM ${ledger} AS d WITH (UPDLOCK, ROWLOCK, READPAST)
  JOIN ${runs} AS r WITH (REPEATABLEREAD, ROWLOCK, READPAST) ON r.[Id] = d.[RunId]
  LEFT JOIN ${claims} AS c ON c.[RunId] = d.[RunId] AND c.[StepKey] = d.[StepKey]
  WHERE d.[RunId] = @run AND d.[StepKey] = @key
    AND d.[VisibleAt] IS NOT NULL AND d.[VisibleAt] <= @now AND r.[Status] = N'Running'
    AND (c.[RunId] IS NULL OR (c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= @now AND NOT ${terminal('d')}));
IF @flow IS NOT NULL AND @claimed = 1
BEGIN
  UPDATE c SET [Owner] = @owner, [ClaimedAt] = @now, [LeaseExpiresAt] = @expires
    FROM ${claims} AS c WITH (ROWLOCK)
    WHERE c.[RunId] = @run AND c.[StepKey] = @key
      AND c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= @now AND NOT ${terminal('c')};
  SET @won = @@ROWCOUNT;
END
ELSE IF @flow IS NOT NULL
BEGIN
  INSERT INTO ${claims} ([RunId], [StepKey], [ClaimedAt], [Owner], [LeaseExpiresAt])
    VALUES (@run, @key, @now, @owner, @expires);
  SET @won = @@ROWCOUNT;
END
IF @won > 0
  UPDATE ${ledger} WITH (ROWLOCK) SET [VisibleAt] = @expires WHERE [RunId] = @run AND [StepKey] = @key;
COMMIT TRANSACTION;
SELECT @won AS [Won], @flow AS [FlowId], @attempt AS [Attempt], @visible AS [VisibleAt],
  r.[Status] AS [RunStatus], d.[Attempt] AS [NowAttempt], d.[VisibleAt] AS [NowVisibleAt], c.[Owner], c.[LeaseExpiresAt],
  CASE WHEN ${terminal('d')} THEN 1 ELSE 0 END AS [Terminal], ${CONTROL_COLUMNS}
FROM (SELECT 1 AS [One]) AS x
LEFT JOIN ${runs} AS r WITH (READUNCOMMITTED) ON r.[Id] = @run
LEFT JOIN ${ledger} AS d WITH (READUNCOMMITTED) ON d.[RunId] = @run AND d.[StepKey] = @key
LEFT JOIN ${claims} AS c WITH (READUNCOMMITTED) ON c.[RunId] = @run AND c.[StepKey] = @key
LEFT JOIN ${n.table('FlowRunControls')} AS ctl ON ctl.[RunId] = @run;`;
    let row: TakeStepRow | undefined;
    try {
      row = await retryOnDeadlock(() => queryFirst(this.ctx, statement));
    } catch (error) {
      // A claim inserted between the read and the insert by a writer outside the queue.
      if (isDuplicateKeyError(error)) return { kind: 'locked' };
      throw error;
    }
    if (!row) return { kind: 'gone' };
    if (toNumber(row.Won) > 0 && row.FlowId !== null && row.VisibleAt !== null) {
      return {
        kind: 'taken',
        step: {
          runId: uuid(request.runId, 'runId'),
          flowId: toUuid(row.FlowId),
          stepKey: request.stepKey,
          owner: request.owner,
          attempt: toNumber(row.Attempt ?? 1),
          visibleAt: toDate(row.VisibleAt),
          leaseExpiresAt: new Date(expires.getTime()),
          control: controlFrom(row),
        },
      };
    }
    const visibleAt = toDateOrNull(row.NowVisibleAt ?? null);
    if (row.RunStatus !== 'Running' || visibleAt === null) return { kind: 'gone' };
    const lease = toDateOrNull(row.LeaseExpiresAt ?? null);
    const claimed = row.Owner !== null && row.Owner !== undefined;
    if (claimed && (lease === null || lease.getTime() > now.getTime())) return { kind: 'busy' };
    if (visibleAt.getTime() > now.getTime()) {
      return { kind: 'later', attempt: toNumber(row.NowAttempt ?? 1), visibleAt };
    }
    if (claimed && toBool(row.Terminal)) return { kind: 'busy' };
    return { kind: 'locked' };
  }

  async listDue(request: ListDueRequest): Promise<QueuedStep[]> {
    const limit = Number.isFinite(request.limit) ? Math.max(0, Math.trunc(request.limit)) : 0;
    if (limit === 0) return [];
    const { n } = this.ctx;
    const rows = await query(
      this.ctx,
      sql<{
        RunId: string;
        FlowId: string;
        StepKey: string;
        Attempt: number;
        VisibleAt: Date;
      }>`DECLARE @before DATETIMEOFFSET(7) = ${ts(request.dueBefore)};
SELECT TOP (${limit}) d.[RunId], r.[FlowId], d.[StepKey], d.[Attempt], d.[VisibleAt]
FROM ${n.table('FlowStepDispatches')} AS d
JOIN ${n.table('FlowRuns')} AS r ON r.[Id] = d.[RunId]
WHERE d.[VisibleAt] IS NOT NULL AND d.[VisibleAt] <= @before AND r.[Status] = N'Running'
ORDER BY d.[VisibleAt], d.[RunId], d.[StepKey];`,
    );
    return rows.map((row) => ({
      runId: toUuid(row.RunId),
      flowId: toUuid(row.FlowId),
      stepKey: row.StepKey,
      attempt: toNumber(row.Attempt),
      visibleAt: toDate(row.VisibleAt),
    }));
  }

  async startStep(input: QueuedStepStart): Promise<boolean> {
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const inputJson = input.inputJson ?? null;
    const event = input.event;
    if (event) checkEventInput(event);
    const eventKey = event ? (event.stepKey ?? input.stepKey) : null;
    // The claim probe holds the claim row (a takeover waits for us, and we for it); the
    // UPDLOCK + HOLDLOCK read of the step's attempts keeps attempt numbers gap-free and unique.
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ ok: number }>`SET XACT_ABORT ON;
${stepVars(input.runId, input.stepKey, now)}
DECLARE @owner NVARCHAR(256) = ${key(input.owner, 'owner')}, @job NVARCHAR(128) = ${input.jobId ?? null}, @ok INT = 0, @next INT;
BEGIN TRANSACTION;
IF EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} WITH (UPDLOCK, HOLDLOCK)
    WHERE [RunId] = @run AND [StepKey] = @key AND [Owner] = @owner)
BEGIN
  SET @ok = 1;
  SELECT @next = ISNULL(MAX([AttemptNo]), 0) + 1 FROM ${n.table('FlowStepAttempts')} WITH (UPDLOCK, HOLDLOCK)
    WHERE [RunId] = @run AND [StepKey] = @key;
  INSERT INTO ${n.table('FlowStepAttempts')}
    ([RunId], [StepKey], [AttemptNo], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
    VALUES (@run, @key, @next, ${input.stepType}, N'Running', ${inputJson}, NULL, NULL, @job, @now, NULL, NULL);
  UPDATE ${n.table('FlowSteps')}
    SET [StepType] = ${input.stepType}, [Status] = N'Running', [InputJson] = ${inputJson}, [OutputJson] = NULL,
        [ErrorMessage] = NULL, [JobId] = @job, [StartedAt] = @now, [CompletedAt] = NULL, [EvaluationTraceJson] = NULL
    WHERE [RunId] = @run AND [StepKey] = @key;
  IF @@ROWCOUNT = 0
    INSERT INTO ${n.table('FlowSteps')}
      ([RunId], [StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
      VALUES (@run, @key, ${input.stepType}, N'Running', ${inputJson}, NULL, NULL, @job, @now, NULL, NULL);
${
  event
    ? sql`  INSERT INTO ${n.table('FlowEvents')} ([RunId], [Timestamp], [Type], [StepKey], [Message])
    VALUES (@run, ${ts(event.timestamp ?? now)}, ${event.type}, ${eventKey === null ? null : key(eventKey, 'event.stepKey')}, ${
      event.message ?? null
    });`
    : sql``
}
END;
COMMIT TRANSACTION;
SELECT @ok AS ok;`,
      ),
    );
    return toNumber(row?.ok ?? 0) === 1;
  }

  async renew(runId: string, stepKey: string, owner: string, leaseMs: number): Promise<LeaseRenewal> {
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const expires = new Date(now.getTime() + leaseMs);
    // Ledger row before claim, as takers lock them; the claim probe keeps the owner stable.
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<ControlColumns & { Held: number }>`SET XACT_ABORT ON;
${stepVars(runId, stepKey, now)}
DECLARE @owner NVARCHAR(256) = ${key(owner, 'owner')}, @expires DATETIMEOFFSET(7) = ${ts(expires)}, @held INT = 0;
BEGIN TRANSACTION;
UPDATE d SET [VisibleAt] = @expires
  FROM ${n.table('FlowStepDispatches')} AS d WITH (ROWLOCK)
  WHERE d.[RunId] = @run AND d.[StepKey] = @key AND d.[VisibleAt] IS NOT NULL
    AND EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} AS c WITH (UPDLOCK, ROWLOCK)
      WHERE c.[RunId] = @run AND c.[StepKey] = @key AND c.[Owner] = @owner);
UPDATE ${n.table('FlowStepClaims')} WITH (ROWLOCK) SET [LeaseExpiresAt] = @expires
  WHERE [RunId] = @run AND [StepKey] = @key AND [Owner] = @owner;
SET @held = @@ROWCOUNT;
COMMIT TRANSACTION;
SELECT @held AS [Held], ${CONTROL_COLUMNS}
FROM (SELECT 1 AS [One]) AS x LEFT JOIN ${n.table('FlowRunControls')} AS ctl ON ctl.[RunId] = @run;`,
      ),
    );
    return { held: toNumber(row?.Held ?? 0) > 0, control: row ? controlFrom(row) : null };
  }

  async release(runId: string, stepKey: string, owner: string, visibleAt?: Date): Promise<boolean> {
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ Released: number }>`SET XACT_ABORT ON;
${stepVars(runId, stepKey, now)}
DECLARE @owner NVARCHAR(256) = ${key(owner, 'owner')}, @at DATETIMEOFFSET(7) = ${ts(visibleAt ?? now)}, @released INT = 0;
BEGIN TRANSACTION;
UPDATE d SET [VisibleAt] = @at
  FROM ${n.table('FlowStepDispatches')} AS d WITH (ROWLOCK)
  WHERE d.[RunId] = @run AND d.[StepKey] = @key AND d.[VisibleAt] IS NOT NULL
    AND EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} AS c WITH (UPDLOCK, ROWLOCK)
      WHERE c.[RunId] = @run AND c.[StepKey] = @key AND c.[Owner] = @owner);
IF @@ROWCOUNT > 0
BEGIN
  DELETE FROM ${n.table('FlowStepClaims')} WHERE [RunId] = @run AND [StepKey] = @key AND [Owner] = @owner;
  SET @released = @@ROWCOUNT;
END
COMMIT TRANSACTION;
SELECT @released AS [Released];`,
      ),
    );
    return toNumber(row?.Released ?? 0) > 0;
  }

  async wake(runId: string, stepKey: string): Promise<boolean> {
    const { n } = this.ctx;
    const rows = await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`${stepVars(runId, stepKey, this.ctx.clock.now())}
UPDATE d SET [VisibleAt] = @now
  OUTPUT inserted.[StepKey]
  FROM ${n.table('FlowStepDispatches')} AS d WITH (ROWLOCK)
  WHERE d.[RunId] = @run AND d.[StepKey] = @key AND d.[VisibleAt] IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} AS c
      WHERE c.[RunId] = @run AND c.[StepKey] = @key AND (c.[LeaseExpiresAt] IS NULL OR c.[LeaseExpiresAt] > @now));`,
      ),
    );
    return rows.length > 0;
  }

  async nextVisibleAt(): Promise<Date | null> {
    const { n } = this.ctx;
    const row = await queryFirst(
      this.ctx,
      sql<{ VisibleAt: Date | null }>`SELECT MIN(d.[VisibleAt]) AS [VisibleAt]
FROM ${n.table('FlowStepDispatches')} AS d
JOIN ${n.table('FlowRuns')} AS r ON r.[Id] = d.[RunId]
WHERE d.[VisibleAt] IS NOT NULL AND r.[Status] = N'Running';`,
    );
    return toDateOrNull(row?.VisibleAt ?? null);
  }
}

/**
 * Locks the run row and reads everything a run transaction plans on, in one round trip: run,
 * steps, ledger rows, claims and control row (one result set each, tagged by `Kind`). The run row
 * is locked exclusively (not just `UPDLOCK`): takers share-lock run rows with `READPAST`, and an
 * update lock would let them in. `HOLDLOCK` also covers a run that does not exist yet.
 */
function snapshotStatement(ctx: SqlContext, runId: string): RawBuilder<SnapshotRow> {
  const { n } = ctx;
  return sql<SnapshotRow>`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${runId};
SELECT N'run' AS [Kind], [FlowId], [Status] FROM ${n.table('FlowRuns')} WITH (XLOCK, HOLDLOCK, ROWLOCK) WHERE [Id] = @run;
SELECT N'step' AS [Kind], [StepKey], [Status] FROM ${n.table('FlowSteps')} WHERE [RunId] = @run;
SELECT N'queue' AS [Kind], [StepKey], [Attempt], [VisibleAt] FROM ${n.table('FlowStepDispatches')} WHERE [RunId] = @run;
SELECT N'claim' AS [Kind], [StepKey], [Owner], [LeaseExpiresAt] FROM ${n.table('FlowStepClaims')} WHERE [RunId] = @run;
SELECT N'control' AS [Kind], ${CONTROL_COLUMNS} FROM ${n.table('FlowRunControls')} AS ctl WHERE ctl.[RunId] = @run;`;
}

/** Builds the {@link RunSnapshot} from the rows of {@link snapshotStatement}. */
export function parseSnapshot(runId: string, rows: readonly SnapshotRow[]): RunSnapshot {
  let run: RunSnapshot['run'] = null;
  let control: FlowRunControlRecord | null = null;
  const steps = new Map<string, StepStatus>();
  const queue = new Map<string, { attempt: number; visibleAt: Date | null }>();
  const claims = new Map<string, { owner: string; leaseExpiresAt: Date | null }>();
  for (const row of rows) {
    switch (row.Kind) {
      case 'run':
        run = { flowId: toUuid(row.FlowId), status: String(row.Status) };
        break;
      case 'step':
        steps.set(String(row.StepKey), parseStepStatus(row.Status));
        break;
      case 'queue':
        queue.set(String(row.StepKey), {
          attempt: toNumber(row.Attempt ?? 1),
          visibleAt: toDateOrNull(row.VisibleAt),
        });
        break;
      case 'claim':
        claims.set(String(row.StepKey), {
          owner: row.Owner ?? '',
          leaseExpiresAt: toDateOrNull(row.LeaseExpiresAt),
        });
        break;
      case 'control':
        control = controlFrom(row);
        break;
    }
  }
  return { runId, run, steps, queue, claims, control };
}

async function readOutput(ctx: SqlContext, runId: string, outputKey: string): Promise<string | null> {
  const row = await queryFirst(
    ctx,
    sql<{ ValueJson: string | null }>`SELECT [ValueJson] FROM ${ctx.n.table('FlowOutputs')}
WHERE [RunId] = ${runId} AND [Key] = ${key(outputKey, 'output key')};`,
  );
  return row?.ValueJson ?? null;
}
