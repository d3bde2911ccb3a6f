import {
  DuplicateRunError,
  type FlowRunRecord,
  type RunStatus,
  SkipReasons,
  type StartRunInput,
  type StepCompleteInput,
  type StepStartInput,
  type TerminalRunStatus,
} from '@floworch/core/backend';
import { runRecord, SqlRunStore } from '@floworch/sql';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext, sqlLayer, tryInsert } from '../sql/context.js';
import { isDuplicateKeyError } from '../sql/errors.js';
import { KEY_COLLATION } from '../sql/names.js';
import { key, stepVars, ts, uuid } from '../sql/values.js';

/** At most this many step keys go into one `IN (…)` list (SQL Server allows 2 100 parameters). */
const KEYS_PER_STATEMENT = 1000;

/**
 * SQL Server `FlowRunStore`: the shared SQL reads, plus the writes as locking batches (gap-free
 * attempt numbers, fenced completion, retry and reset in one transaction, the dispatch ledger).
 */
export class SqlServerRunStore extends SqlRunStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {
    super(sqlLayer(ctx));
  }

  async startRun(input: StartRunInput): Promise<FlowRunRecord> {
    const { db, traits } = this.layer;
    const id = traits.id(input.runId, 'runId');
    try {
      const row = await db
        .insertInto('flowRuns')
        .values({
          id,
          flowId: traits.id(input.flowId, 'flowId'),
          flowName: input.flowName,
          status: 'Running',
          triggerKey: input.triggerKey,
          triggerDataJson: input.triggerDataJson ?? null,
          backgroundJobId: input.jobId ?? null,
          startedAt: traits.instant(this.ctx.clock.now()),
          completedAt: null,
          sourceRunId: input.sourceRunId ? traits.id(input.sourceRunId, 'sourceRunId') : null,
        })
        .outputAll('inserted')
        .executeTakeFirstOrThrow();
      return runRecord(row);
    } catch (error) {
      // A duplicate primary key here is the documented DuplicateRunError, not a race to hide.
      if (isDuplicateKeyError(error)) throw new DuplicateRunError(id);
      throw error;
    }
  }

  async recordStepStart(input: StepStartInput): Promise<boolean> {
    const { n } = this.ctx;
    const owner = input.owner ?? null;
    const inputJson = input.inputJson ?? null;
    const jobId = input.jobId ?? null;
    // One transaction: the fence check holds the claim row (a takeover waits for us), and the
    // UPDLOCK + HOLDLOCK range read of the step's attempts serialises concurrent starters, so
    // attempt numbers stay gap-free and unique.
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ ok: number }>`SET XACT_ABORT ON;
${stepVars(input.runId, input.stepKey, this.ctx.clock.now())}
DECLARE @owner NVARCHAR(256) = ${owner}, @ok INT = 1, @next INT;
BEGIN TRANSACTION;
IF @owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} WITH (UPDLOCK, HOLDLOCK)
    WHERE [RunId] = @run AND [StepKey] = @key AND [Owner] = @owner)
  SET @ok = 0;
IF @ok = 1
BEGIN
  SELECT @next = ISNULL(MAX([AttemptNo]), 0) + 1 FROM ${n.table('FlowStepAttempts')} WITH (UPDLOCK, HOLDLOCK)
    WHERE [RunId] = @run AND [StepKey] = @key;
  INSERT INTO ${n.table('FlowStepAttempts')}
    ([RunId], [StepKey], [AttemptNo], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
    VALUES (@run, @key, @next, ${input.stepType}, N'Running', ${inputJson}, NULL, NULL, ${jobId}, @now, NULL, NULL);
  UPDATE ${n.table('FlowSteps')}
    SET [StepType] = ${input.stepType}, [Status] = N'Running', [InputJson] = ${inputJson}, [OutputJson] = NULL,
        [ErrorMessage] = NULL, [JobId] = ${jobId}, [StartedAt] = @now, [CompletedAt] = NULL, [EvaluationTraceJson] = NULL
    WHERE [RunId] = @run AND [StepKey] = @key;
  IF @@ROWCOUNT = 0
    INSERT INTO ${n.table('FlowSteps')}
      ([RunId], [StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
      VALUES (@run, @key, ${input.stepType}, N'Running', ${inputJson}, NULL, NULL, ${jobId}, @now, NULL, NULL);
END;
COMMIT TRANSACTION;
SELECT @ok AS ok;`,
      ),
    );
    return row?.ok === 1;
  }

  async recordStepComplete(input: StepCompleteInput): Promise<boolean> {
    const { n } = this.ctx;
    const outputJson = input.outputJson ?? null;
    const errorMessage = input.errorMessage ?? null;
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ ok: number }>`SET XACT_ABORT ON;
${stepVars(input.runId, input.stepKey, this.ctx.clock.now())}
DECLARE @owner NVARCHAR(256) = ${input.owner ?? null}, @ok INT = 0;
BEGIN TRANSACTION;
IF @owner IS NULL OR EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} WITH (UPDLOCK, HOLDLOCK)
    WHERE [RunId] = @run AND [StepKey] = @key AND [Owner] = @owner)
BEGIN
  UPDATE ${n.table('FlowSteps')}
    SET [Status] = ${input.status}, [OutputJson] = ${outputJson}, [ErrorMessage] = ${errorMessage}, [CompletedAt] = @now
    WHERE [RunId] = @run AND [StepKey] = @key;
  SET @ok = @@ROWCOUNT;
  IF @ok > 0
    UPDATE ${n.table('FlowStepAttempts')}
      SET [Status] = ${input.status}, [OutputJson] = ${outputJson}, [ErrorMessage] = ${errorMessage}, [CompletedAt] = @now
      WHERE [RunId] = @run AND [StepKey] = @key
        AND [AttemptNo] = (SELECT MAX([AttemptNo]) FROM ${n.table('FlowStepAttempts')} WHERE [RunId] = @run AND [StepKey] = @key);
END;
COMMIT TRANSACTION;
SELECT @ok AS ok;`,
      ),
    );
    return (row?.ok ?? 0) > 0;
  }

  async completeRun(runId: string, status: RunStatus): Promise<void> {
    await query(
      this.ctx,
      sql`UPDATE ${this.ctx.n.table('FlowRuns')} SET [Status] = ${status}, [CompletedAt] = ${ts(this.ctx.clock.now())}
WHERE [Id] = ${uuid(runId, 'runId')};`,
    );
  }

  async completeRunIfActive(runId: string, status: TerminalRunStatus): Promise<boolean> {
    // The status predicate is re-checked under the row's update lock: one caller wins.
    const rows = await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`UPDATE ${this.ctx.n.table('FlowRuns')} SET [Status] = ${status}, [CompletedAt] = ${ts(this.ctx.clock.now())}
OUTPUT inserted.[Id]
WHERE [Id] = ${uuid(runId, 'runId')} AND [Status] = N'Running';`,
      ),
    );
    return rows.length > 0;
  }

  async retryStep(runId: string, stepKey: string): Promise<void> {
    const { n } = this.ctx;
    await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`SET XACT_ABORT ON;
${stepVars(runId, stepKey, this.ctx.clock.now())}
BEGIN TRANSACTION;
UPDATE ${n.table('FlowSteps')}
  SET [Status] = N'Running', [OutputJson] = NULL, [ErrorMessage] = NULL, [CompletedAt] = NULL, [StartedAt] = @now
  WHERE [RunId] = @run AND [StepKey] = @key;
UPDATE ${n.table('FlowRuns')} SET [Status] = N'Running', [CompletedAt] = NULL WHERE [Id] = @run;
DELETE FROM ${n.table('FlowStepClaims')} WHERE [RunId] = @run AND [StepKey] = @key;
DELETE FROM ${n.table('FlowStepDispatches')} WHERE [RunId] = @run AND [StepKey] = @key;
COMMIT TRANSACTION;`,
      ),
    );
  }

  async resetCascadeSkippedDependents(runId: string, stepKeys: readonly string[]): Promise<void> {
    const run = uuid(runId, 'runId');
    const keys = [...new Set(stepKeys.map((k) => key(k, 'stepKeys[]')))];
    const { n } = this.ctx;
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      const chunk = keys.slice(i, i + KEYS_PER_STATEMENT);
      // Gates are cleared only for keys whose step row was actually reset (a Running or
      // Succeeded descendant keeps its claim and ledger row, so it cannot run twice).
      await retryOnDeadlock(() =>
        query(
          this.ctx,
          sql`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${run};
DECLARE @reset TABLE ([StepKey] NVARCHAR(256) COLLATE ${sql.raw(KEY_COLLATION)} NOT NULL PRIMARY KEY);
BEGIN TRANSACTION;
DELETE FROM ${n.table('FlowSteps')}
  OUTPUT deleted.[StepKey] INTO @reset ([StepKey])
  WHERE [RunId] = @run AND [StepKey] IN (${sql.join(chunk)})
    AND [Status] = N'Skipped' AND [ErrorMessage] COLLATE ${sql.raw(KEY_COLLATION)} = ${SkipReasons.prerequisitesUnmet};
DELETE c FROM ${n.table('FlowStepClaims')} AS c JOIN @reset AS k ON k.[StepKey] = c.[StepKey] WHERE c.[RunId] = @run;
DELETE d FROM ${n.table('FlowStepDispatches')} AS d JOIN @reset AS k ON k.[StepKey] = d.[StepKey] WHERE d.[RunId] = @run;
COMMIT TRANSACTION;`,
        ),
      );
    }
  }

  async tryRecordDispatch(runId: string, stepKey: string): Promise<boolean> {
    const { n } = this.ctx;
    const run = uuid(runId, 'runId');
    const k = key(stepKey, 'stepKey');
    // The UPDLOCK + HOLDLOCK probe locks the key (or the gap where it would go) until the insert
    // commits, so of N concurrent callers exactly one inserts and the rest see the row.
    return tryInsert(
      this.ctx,
      sql`INSERT INTO ${n.table('FlowStepDispatches')} ([RunId], [StepKey], [DispatchedAt], [DispatchJobId])
OUTPUT inserted.[StepKey]
SELECT ${run}, ${k}, ${ts(this.ctx.clock.now())}, NULL
WHERE NOT EXISTS (SELECT 1 FROM ${n.table('FlowStepDispatches')} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = ${run} AND [StepKey] = ${k});`,
    );
  }

  async annotateDispatch(runId: string, stepKey: string, jobId: string): Promise<void> {
    // Update-only: a late annotation must never resurrect a released ledger row.
    await query(
      this.ctx,
      sql`UPDATE ${this.ctx.n.table('FlowStepDispatches')} SET [DispatchJobId] = ${jobId}
WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')};`,
    );
  }

  async releaseDispatch(runId: string, stepKey: string): Promise<void> {
    await query(
      this.ctx,
      sql`DELETE FROM ${this.ctx.n.table('FlowStepDispatches')} WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')};`,
    );
  }
}
