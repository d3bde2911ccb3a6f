import type { FlowEventInput } from '@floworch/core/backend';
import { EMPTY_UUID, type RunWrites, type StepWrite } from '@floworch/core/backend';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { KEY_COLLATION, type SqlNames } from '../sql/names.js';
import { key, ts, tsOrNull, uuid } from '../sql/values.js';

/**
 * Parameters one batch may carry. SQL Server accepts 2 100 per request; the rest is headroom for
 * the batch prelude (`@run`, `@now`).
 */
export const PARAMETER_BUDGET = 2000;

/** Rows of one table-variable `VALUES` list (SQL Server's limit is 1 000). */
const ROWS_PER_VALUES = 1000;

/** Step keys per `IN (…)` list. */
const KEYS_PER_LIST = 1000;

/** Binary key collation for table-variable key columns (they join against BIN2 columns). */
const BIN2 = sql.raw(`COLLATE ${KEY_COLLATION}`);

/** Terminal step statuses as a T-SQL list. */
export const TERMINAL_STEP_STATUSES = sql.raw(`(N'Succeeded', N'Failed', N'Skipped')`);

/**
 * A self-contained piece of a batch: statements that only rely on `@run` and `@now` being
 * declared by the batch prelude. Pieces run in the order they are planned.
 */
export type WritePiece = RawBuilder<unknown>;

/** Names table variables uniquely within one plan, so pieces can share a batch. */
class VarNames {
  private next = 0;
  /** A fresh `@prefixN`. */
  fresh(prefix: string): RawBuilder<unknown> {
    this.next += 1;
    return sql.raw(`@${prefix}${this.next}`);
  }
}

function chunks<T>(items: readonly T[], perItem: number, cap: number): T[][] {
  const size = Math.max(1, Math.min(cap, Math.floor((PARAMETER_BUDGET - 10) / perItem)));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const values = (rows: readonly RawBuilder<unknown>[]) => sql.join(rows, sql`, `);

/** Ledger puts: update the existing row or insert one (dispatched now). */
export function ledgerPutPieces(
  n: SqlNames,
  vars: VarNames,
  rows: ReadonlyArray<{ stepKey: string; attempt: number; visibleAt: Date | null }>,
): WritePiece[] {
  return chunks(rows, 3, ROWS_PER_VALUES).map((chunk) => {
    const q = vars.fresh('q');
    const table = n.table('FlowStepDispatches');
    return sql`DECLARE ${q} TABLE ([StepKey] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [Attempt] INT NOT NULL, [VisibleAt] DATETIMEOFFSET(7) NULL);
INSERT INTO ${q} ([StepKey], [Attempt], [VisibleAt]) VALUES ${values(
      chunk.map(
        (r) => sql`(${key(r.stepKey, 'stepKey')}, ${Math.trunc(r.attempt)}, ${tsOrNull(r.visibleAt)})`,
      ),
    )};
UPDATE d SET [Attempt] = q.[Attempt], [VisibleAt] = q.[VisibleAt]
  FROM ${table} AS d WITH (ROWLOCK) JOIN ${q} AS q ON q.[StepKey] = d.[StepKey] WHERE d.[RunId] = @run;
INSERT INTO ${table} ([RunId], [StepKey], [DispatchedAt], [DispatchJobId], [VisibleAt], [Attempt])
  SELECT @run, q.[StepKey], @now, NULL, q.[VisibleAt], q.[Attempt] FROM ${q} AS q
  WHERE NOT EXISTS (SELECT 1 FROM ${table} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run AND [StepKey] = q.[StepKey]);`;
  });
}

/** Claim puts: replace the claim (owner, lease, claimed now) or insert it. */
export function claimPutPieces(
  n: SqlNames,
  vars: VarNames,
  rows: ReadonlyArray<{ stepKey: string; owner: string; leaseExpiresAt: Date | null }>,
): WritePiece[] {
  return chunks(rows, 3, ROWS_PER_VALUES).map((chunk) => {
    const c = vars.fresh('c');
    const table = n.table('FlowStepClaims');
    return sql`DECLARE ${c} TABLE ([StepKey] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [Owner] NVARCHAR(256) ${BIN2} NOT NULL, [LeaseExpiresAt] DATETIMEOFFSET(7) NULL);
INSERT INTO ${c} ([StepKey], [Owner], [LeaseExpiresAt]) VALUES ${values(
      chunk.map(
        (r) =>
          sql`(${key(r.stepKey, 'stepKey')}, ${key(r.owner, 'claim owner')}, ${tsOrNull(r.leaseExpiresAt)})`,
      ),
    )};
UPDATE x SET [Owner] = c.[Owner], [ClaimedAt] = @now, [LeaseExpiresAt] = c.[LeaseExpiresAt]
  FROM ${table} AS x WITH (ROWLOCK) JOIN ${c} AS c ON c.[StepKey] = x.[StepKey] WHERE x.[RunId] = @run;
INSERT INTO ${table} ([RunId], [StepKey], [ClaimedAt], [Owner], [LeaseExpiresAt])
  SELECT @run, c.[StepKey], @now, c.[Owner], c.[LeaseExpiresAt] FROM ${c} AS c
  WHERE NOT EXISTS (SELECT 1 FROM ${table} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run AND [StepKey] = c.[StepKey]);`;
  });
}

/** Deletes rows of a run's step-keyed table. */
function deleteKeysPieces(
  n: SqlNames,
  table: 'FlowStepDispatches' | 'FlowStepClaims' | 'FlowSteps',
  keys: readonly string[],
): WritePiece[] {
  return chunks(keys, 1, KEYS_PER_LIST).map(
    (chunk) =>
      sql`DELETE FROM ${n.table(table)} WHERE [RunId] = @run AND [StepKey] IN (${sql.join(
        chunk.map((k) => key(k, 'stepKey')),
      )});`,
  );
}

/** Events in order: identity values follow the `ORDER BY` of an `INSERT … SELECT`. */
export function eventPieces(
  n: SqlNames,
  vars: VarNames,
  events: readonly FlowEventInput[],
  now: Date,
): WritePiece[] {
  const numbered = events.map((event, index) => ({ event, index }));
  return chunks(numbered, 4, ROWS_PER_VALUES).map((chunk) => {
    const e = vars.fresh('e');
    return sql`DECLARE ${e} TABLE ([Ord] INT NOT NULL PRIMARY KEY, [Timestamp] DATETIMEOFFSET(7) NOT NULL, [Type] NVARCHAR(128) NOT NULL, [StepKey] NVARCHAR(256) ${BIN2} NULL, [Message] NVARCHAR(MAX) NULL);
INSERT INTO ${e} ([Ord], [Timestamp], [Type], [StepKey], [Message]) VALUES ${values(
      chunk.map(({ event, index }) => {
        const stepKey = event.stepKey ?? null;
        // The ordinal is this function's own loop counter, never caller text.
        return sql`(${sql.raw(String(index))}, ${ts(event.timestamp ?? now)}, ${event.type}, ${
          stepKey === null ? null : key(stepKey, 'event.stepKey')
        }, ${event.message ?? null})`;
      }),
    )};
INSERT INTO ${n.table('FlowEvents')} ([RunId], [Timestamp], [Type], [StepKey], [Message])
  SELECT @run, [Timestamp], [Type], [StepKey], [Message] FROM ${e} ORDER BY [Ord];`;
  });
}

/** Outputs upsert (JSON text). */
export function outputPieces(
  n: SqlNames,
  vars: VarNames,
  outputs: ReadonlyMap<string, string>,
): WritePiece[] {
  return chunks([...outputs], 2, ROWS_PER_VALUES).map((chunk) => {
    const o = vars.fresh('o');
    const table = n.table('FlowOutputs');
    return sql`DECLARE ${o} TABLE ([Key] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [ValueJson] NVARCHAR(MAX) NULL);
INSERT INTO ${o} ([Key], [ValueJson]) VALUES ${values(
      chunk.map(([k, text]) => sql`(${key(k, 'output key')}, ${text})`),
    )};
UPDATE x SET [ValueJson] = o.[ValueJson]
  FROM ${table} AS x WITH (ROWLOCK) JOIN ${o} AS o ON o.[Key] = x.[Key] WHERE x.[RunId] = @run;
INSERT INTO ${table} ([RunId], [Key], [ValueJson], [CreatedAt])
  SELECT @run, o.[Key], o.[ValueJson], @now FROM ${o} AS o
  WHERE NOT EXISTS (SELECT 1 FROM ${table} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run AND [Key] = o.[Key]);`;
  });
}

type Finish = Extract<StepWrite, { kind: 'finish' }>;
type Skip = Extract<StepWrite, { kind: 'skip' }>;
type Start = Extract<StepWrite, { kind: 'start' }>;

/** `finish`: the step row and its latest attempt take the outcome, completed now. */
function finishPieces(n: SqlNames, vars: VarNames, rows: ReadonlyArray<[string, Finish]>): WritePiece[] {
  return chunks(rows, 4, ROWS_PER_VALUES).map((chunk) => {
    const f = vars.fresh('f');
    const steps = n.table('FlowSteps');
    const attempts = n.table('FlowStepAttempts');
    return sql`DECLARE ${f} TABLE ([StepKey] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [Status] NVARCHAR(64) NOT NULL, [OutputJson] NVARCHAR(MAX) NULL, [ErrorMessage] NVARCHAR(MAX) NULL);
INSERT INTO ${f} ([StepKey], [Status], [OutputJson], [ErrorMessage]) VALUES ${values(
      chunk.map(([k, w]) => sql`(${key(k, 'stepKey')}, ${w.status}, ${w.outputJson}, ${w.errorMessage})`),
    )};
UPDATE a SET [Status] = f.[Status], [OutputJson] = f.[OutputJson], [ErrorMessage] = f.[ErrorMessage], [CompletedAt] = @now
  FROM ${attempts} AS a WITH (ROWLOCK) JOIN ${f} AS f ON f.[StepKey] = a.[StepKey]
  WHERE a.[RunId] = @run
    AND EXISTS (SELECT 1 FROM ${steps} AS s WHERE s.[RunId] = @run AND s.[StepKey] = f.[StepKey])
    AND a.[AttemptNo] = (SELECT MAX(m.[AttemptNo]) FROM ${attempts} AS m WHERE m.[RunId] = @run AND m.[StepKey] = f.[StepKey]);
UPDATE s SET [Status] = f.[Status], [OutputJson] = f.[OutputJson], [ErrorMessage] = f.[ErrorMessage], [CompletedAt] = @now
  FROM ${steps} AS s WITH (ROWLOCK) JOIN ${f} AS f ON f.[StepKey] = s.[StepKey] WHERE s.[RunId] = @run;`;
  });
}

/**
 * `skip`: appends a `Skipped` attempt numbered after the step's last one (read under
 * `UPDLOCK, HOLDLOCK`, so numbers stay gap-free against a concurrent start) and upserts the step
 * row to it, as `recordSkippedStep` does.
 */
function skipPieces(n: SqlNames, vars: VarNames, rows: ReadonlyArray<[string, Skip]>): WritePiece[] {
  return chunks(rows, 4, ROWS_PER_VALUES).map((chunk) => {
    const s = vars.fresh('s');
    const steps = n.table('FlowSteps');
    const attempts = n.table('FlowStepAttempts');
    return sql`DECLARE ${s} TABLE ([StepKey] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [StepType] NVARCHAR(256) NOT NULL, [Reason] NVARCHAR(MAX) NULL, [TraceJson] NVARCHAR(MAX) NULL);
INSERT INTO ${s} ([StepKey], [StepType], [Reason], [TraceJson]) VALUES ${values(
      chunk.map(([k, w]) => sql`(${key(k, 'stepKey')}, ${w.stepType}, ${w.reason}, ${w.traceJson})`),
    )};
INSERT INTO ${attempts}
  ([RunId], [StepKey], [AttemptNo], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
  SELECT @run, s.[StepKey],
    ISNULL((SELECT MAX(a.[AttemptNo]) FROM ${attempts} AS a WITH (UPDLOCK, HOLDLOCK) WHERE a.[RunId] = @run AND a.[StepKey] = s.[StepKey]), 0) + 1,
    s.[StepType], N'Skipped', NULL, NULL, s.[Reason], NULL, @now, @now, s.[TraceJson]
  FROM ${s} AS s;
UPDATE x SET [StepType] = s.[StepType], [Status] = N'Skipped', [InputJson] = NULL, [OutputJson] = NULL, [ErrorMessage] = s.[Reason],
    [JobId] = NULL, [StartedAt] = @now, [CompletedAt] = @now, [EvaluationTraceJson] = s.[TraceJson]
  FROM ${steps} AS x WITH (ROWLOCK) JOIN ${s} AS s ON s.[StepKey] = x.[StepKey] WHERE x.[RunId] = @run;
INSERT INTO ${steps}
  ([RunId], [StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
  SELECT @run, s.[StepKey], s.[StepType], N'Skipped', NULL, NULL, s.[Reason], NULL, @now, @now, s.[TraceJson] FROM ${s} AS s
  WHERE NOT EXISTS (SELECT 1 FROM ${steps} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run AND [StepKey] = s.[StepKey]);`;
  });
}

/** `start`: a step taken and started in the transaction — attempt N+1 `Running`, step row reset to it. */
function startPieces(n: SqlNames, vars: VarNames, rows: ReadonlyArray<[string, Start]>): WritePiece[] {
  return chunks(rows, 3, ROWS_PER_VALUES).map((chunk) => {
    const s = vars.fresh('s');
    const steps = n.table('FlowSteps');
    const attempts = n.table('FlowStepAttempts');
    return sql`DECLARE ${s} TABLE ([StepKey] NVARCHAR(256) ${BIN2} NOT NULL PRIMARY KEY, [StepType] NVARCHAR(256) NOT NULL, [InputJson] NVARCHAR(MAX) NULL);
INSERT INTO ${s} ([StepKey], [StepType], [InputJson]) VALUES ${values(
      chunk.map(([k, w]) => sql`(${key(k, 'stepKey')}, ${w.stepType}, ${w.inputJson})`),
    )};
INSERT INTO ${attempts}
  ([RunId], [StepKey], [AttemptNo], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
  SELECT @run, s.[StepKey],
    ISNULL((SELECT MAX(a.[AttemptNo]) FROM ${attempts} AS a WITH (UPDLOCK, HOLDLOCK) WHERE a.[RunId] = @run AND a.[StepKey] = s.[StepKey]), 0) + 1,
    s.[StepType], N'Running', s.[InputJson], NULL, NULL, NULL, @now, NULL, NULL
  FROM ${s} AS s;
UPDATE x SET [StepType] = s.[StepType], [Status] = N'Running', [InputJson] = s.[InputJson], [OutputJson] = NULL, [ErrorMessage] = NULL,
    [JobId] = NULL, [StartedAt] = @now, [CompletedAt] = NULL, [EvaluationTraceJson] = NULL
  FROM ${steps} AS x WITH (ROWLOCK) JOIN ${s} AS s ON s.[StepKey] = x.[StepKey] WHERE x.[RunId] = @run;
INSERT INTO ${steps}
  ([RunId], [StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
  SELECT @run, s.[StepKey], s.[StepType], N'Running', s.[InputJson], NULL, NULL, NULL, @now, NULL, NULL FROM ${s} AS s
  WHERE NOT EXISTS (SELECT 1 FROM ${steps} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run AND [StepKey] = s.[StepKey]);`;
  });
}

/** `reset` (manual retry): back to `Running`, outcome and completion cleared, started now. */
function resetPieces(n: SqlNames, keys: readonly string[]): WritePiece[] {
  return chunks(keys, 1, KEYS_PER_LIST).map(
    (chunk) => sql`UPDATE ${n.table('FlowSteps')}
  SET [Status] = N'Running', [OutputJson] = NULL, [ErrorMessage] = NULL, [CompletedAt] = NULL, [StartedAt] = @now
  WHERE [RunId] = @run AND [StepKey] IN (${sql.join(chunk.map((k) => key(k, 'stepKey')))});`,
  );
}

/**
 * The statements that apply a run transaction's buffered writes, in the order the contract asks:
 * run status, timeout latch, ledger rows, claims, step rows, outputs, events. Each piece expects
 * `@run` and `@now` to be declared by its batch.
 *
 * @param flowId the run's flow id from the snapshot (`""` for an unknown run), used when the
 *   timeout latch has to create the control row
 */
export function planRunWrites(n: SqlNames, writes: RunWrites, flowId: string, now: Date): WritePiece[] {
  const vars = new VarNames();
  const pieces: WritePiece[] = [];
  const runs = n.table('FlowRuns');
  if (writes.run) {
    if ('reopen' in writes.run) {
      pieces.push(sql`UPDATE ${runs} SET [Status] = N'Running', [CompletedAt] = NULL WHERE [Id] = @run;`);
    } else {
      // First terminal status wins: only a Running run is closed.
      pieces.push(
        sql`UPDATE ${runs} SET [Status] = ${writes.run.close}, [CompletedAt] = @now WHERE [Id] = @run AND [Status] = N'Running';`,
      );
    }
  }
  if (writes.timedOut !== null) {
    const controls = n.table('FlowRunControls');
    const flow = flowId ? uuid(flowId, 'flowId') : EMPTY_UUID;
    pieces.push(sql`IF NOT EXISTS (SELECT 1 FROM ${controls} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run)
  INSERT INTO ${controls} ([RunId], [FlowId], [TriggerKey], [CancelRequested], [CreatedAt]) VALUES (@run, ${flow}, N'', 0, @now);
UPDATE ${controls}
  SET [TimedOutAtUtc] = @now, [CancelRequested] = 1, [CancelRequestedAtUtc] = ISNULL([CancelRequestedAtUtc], @now), [CancelReason] = ${writes.timedOut}
  WHERE [RunId] = @run AND [TimedOutAtUtc] IS NULL;`);
  }

  const ledgerPuts: Array<{ stepKey: string; attempt: number; visibleAt: Date | null }> = [];
  for (const [stepKey, write] of writes.queue)
    ledgerPuts.push({ stepKey, attempt: write.attempt, visibleAt: write.visibleAt });
  pieces.push(...ledgerPutPieces(n, vars, ledgerPuts));

  const claimPuts: Array<{ stepKey: string; owner: string; leaseExpiresAt: Date | null }> = [];
  const claimDeletes: string[] = [];
  for (const [stepKey, write] of writes.claims) {
    if (write.kind === 'delete') claimDeletes.push(stepKey);
    else claimPuts.push({ stepKey, owner: write.owner, leaseExpiresAt: write.leaseExpiresAt });
  }
  pieces.push(...claimPutPieces(n, vars, claimPuts), ...deleteKeysPieces(n, 'FlowStepClaims', claimDeletes));

  const finishes: Array<[string, Finish]> = [];
  const skips: Array<[string, Skip]> = [];
  const starts: Array<[string, Start]> = [];
  const resets: string[] = [];
  for (const [stepKey, write] of writes.steps) {
    if (write.kind === 'finish') finishes.push([stepKey, write]);
    else if (write.kind === 'skip') skips.push([stepKey, write]);
    else if (write.kind === 'start') starts.push([stepKey, write]);
    else resets.push(stepKey);
  }
  // Each step key carries one write, so grouping by kind keeps every key's effect.
  pieces.push(
    ...finishPieces(n, vars, finishes),
    ...skipPieces(n, vars, skips),
    ...startPieces(n, vars, starts),
    ...resetPieces(n, resets),
    ...outputPieces(n, vars, writes.outputs),
    ...eventPieces(n, vars, writes.events, now),
  );
  return pieces;
}

/** A fresh name generator for pieces planned outside {@link planRunWrites}. */
export function varNames(): VarNames {
  return new VarNames();
}

/**
 * Groups pieces into as few batches as the parameter budget allows, each prefixed by `prelude`
 * (which declares `@run` and `@now`).
 */
export function batchPieces(
  db: Kysely<unknown>,
  prelude: RawBuilder<unknown>,
  pieces: readonly WritePiece[],
): RawBuilder<unknown>[] {
  const preludeParams = prelude.compile(db).parameters.length;
  const batches: RawBuilder<unknown>[] = [];
  let current: WritePiece[] = [];
  let used = preludeParams;
  const flush = () => {
    if (current.length === 0) return;
    batches.push(sql`${prelude}\n${sql.join(current, sql.raw('\n'))}`);
    current = [];
    used = preludeParams;
  };
  for (const piece of pieces) {
    const count = piece.compile(db).parameters.length;
    if (current.length > 0 && used + count > PARAMETER_BUDGET) flush();
    current.push(piece);
    used += count;
  }
  flush();
  return batches;
}
