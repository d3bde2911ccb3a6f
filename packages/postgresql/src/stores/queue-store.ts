import {
  DuplicateRunError,
  EMPTY_UUID,
  type FlowRunControlRecord,
  type FlowStepQueueStore,
  fromJsonText,
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
  type RunWrites,
  type TakenStep,
  type TakeRequest,
  type TakeStepRequest,
  type TakeStepResult,
  toJsonText,
} from '@floworch/core/backend';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../schema/database.js';
import { type PgContext, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard, sqlState, translatePgError } from '../sql/errors.js';
import { controlRecord } from './control-store.js';
import { appendAttempt, completeAttempt } from './step-writes.js';

/** The channel every backend of a database notifies on; the payload is the schema name. */
export const QUEUE_CHANNEL = 'floworch_queue';

/**
 * The channel a transition notifies when it closes a run (the payload is the schema name), so
 * event-log readers (the dashboard's live feed) see `run.completed` at once. Other events are
 * announced by the queue channel, which fires whenever a transition queues work.
 */
export const EVENTS_CHANNEL = 'floworch_events';

/** Subscribes to NOTIFY payloads of one channel (a pg client or PGlite). */
export type NotificationSource = (
  channel: string,
  onPayload: (payload: string) => void,
) => Promise<() => Promise<void>>;

const TERMINAL = ['succeeded', 'failed', 'skipped'];

/** A control row as `row_to_json` renders it. */
interface ControlJson {
  run_id: string;
  flow_id: string;
  trigger_key: string;
  idempotency_key: string | null;
  created_at_utc: string;
  timeout_at_utc: string | null;
  cancel_requested: boolean;
  cancel_reason: string | null;
  cancel_requested_at_utc: string | null;
  timed_out_at_utc: string | null;
}

function controlFromJson(row: ControlJson | null): FlowRunControlRecord | null {
  return row ? controlRecord(row) : null;
}

/**
 * PostgreSQL {@link FlowStepQueueStore}. The queue is the dispatch ledger with a `visible_at`
 * column; takers lock due rows `FOR UPDATE SKIP LOCKED` (and skip runs another transaction holds),
 * transitions lock the run row first, and every write of a transition goes out in one database
 * transaction. Due work is announced with `pg_notify` after commit.
 */
export class PgQueueStore implements FlowStepQueueStore {
  /**
   * @param ctx shared connection, schema and clock
   * @param notifications how to LISTEN (a dedicated connection), when the driver allows it
   */
  constructor(
    private readonly ctx: PgContext,
    private readonly notifications?: NotificationSource,
  ) {}

  async startRun(input: RunStartWrite): Promise<RunStartResult> {
    const run = input.run;
    const runId = run.runId.toLowerCase();
    const flowId = run.flowId.toLowerCase();
    const now = this.ctx.clock.now();
    const headersJson =
      input.triggerHeaders === null
        ? null
        : toJsonText(lowerCaseHeaders(input.triggerHeaders), 'trigger headers');
    const dataJson = run.triggerDataJson ?? 'null';
    fromJsonText(dataJson);
    const key = input.idempotencyKey?.trim() || null;
    const takeFor = input.takeFor;
    const lease = takeFor ? new Date(now.getTime() + takeFor.leaseMs) : null;
    const entries = input.entrySteps.map((stepKey, i) => ({
      step_key: stepKey,
      taken: takeFor !== undefined && i < takeFor.limit,
    }));
    const outputs: Array<{ key: string; value: string }> = [{ key: OutputKeys.triggerData, value: dataJson }];
    if (headersJson !== null) outputs.push({ key: OutputKeys.triggerHeaders, value: headersJson });
    const events = input.events.map((e) => ({
      timestamp: (e.timestamp ?? now).toISOString(),
      type: e.type,
      step_key: e.stepKey ?? null,
      message: e.message ?? null,
    }));
    const t = (name: keyof Database) => table(this.ctx, name);
    // One statement: every insert depends on the idempotency key's insert (when there is a key),
    // so a duplicate writes nothing and a failure anywhere rolls everything back.
    const statement = sql<{ ok: number }>`
      WITH key AS (
        INSERT INTO ${t('flow_idempotency_keys')} (flow_id, trigger_key, idempotency_key, run_id, created_at_utc)
        SELECT ${flowId}::uuid, ${normalizeIdempotencyPart(run.triggerKey ?? '')}, ${normalizeIdempotencyPart(key ?? '')}, ${runId}::uuid, ${now}::timestamptz
        WHERE ${key !== null}::boolean
        ON CONFLICT (flow_id, trigger_key, idempotency_key) DO NOTHING
        RETURNING 1
      ),
      go AS (SELECT 1 AS ok WHERE ${key === null}::boolean OR EXISTS (SELECT 1 FROM key)),
      run AS (
        INSERT INTO ${t('flow_runs')} (id, flow_id, flow_name, status, trigger_key, trigger_data_json,
          background_job_id, started_at, completed_at, source_run_id)
        SELECT ${runId}::uuid, ${flowId}::uuid, ${run.flowName}, 'Running', ${run.triggerKey}, ${run.triggerDataJson ?? null},
          ${run.jobId ?? null}, ${now}::timestamptz, NULL, ${run.sourceRunId?.toLowerCase() ?? null}::uuid
        FROM go
        RETURNING 1
      ),
      control AS (
        INSERT INTO ${t('flow_run_controls')} (run_id, flow_id, trigger_key, idempotency_key, timeout_at_utc, created_at_utc)
        SELECT ${runId}::uuid, ${flowId}::uuid, ${run.triggerKey ?? ''}, ${key}, ${input.timeoutAt}::timestamptz, ${now}::timestamptz
        FROM go
        ON CONFLICT (run_id) DO UPDATE SET flow_id = EXCLUDED.flow_id, trigger_key = EXCLUDED.trigger_key,
          idempotency_key = EXCLUDED.idempotency_key, timeout_at_utc = EXCLUDED.timeout_at_utc
      ),
      outputs AS (
        INSERT INTO ${t('flow_outputs')} (run_id, key, value_json, created_at)
        SELECT ${runId}::uuid, o.key, o.value, ${now}::timestamptz
        FROM go, json_to_recordset(${JSON.stringify(outputs)}::json) AS o(key text, value text)
        ON CONFLICT (run_id, key) DO UPDATE SET value_json = EXCLUDED.value_json
      ),
      events AS (
        INSERT INTO ${t('flow_events')} (run_id, timestamp_utc, type, step_key, message)
        SELECT ${runId}::uuid, e.timestamp, e.type, e.step_key, e.message
        FROM go, ROWS FROM (json_to_recordset(${JSON.stringify(events)}::json)
          AS (timestamp timestamptz, type text, step_key text, message text)) WITH ORDINALITY
          AS e(timestamp, type, step_key, message, ord)
        ORDER BY e.ord
      ),
      queue AS (
        INSERT INTO ${t('flow_step_dispatches')} (run_id, step_key, dispatched_at, attempt, visible_at)
        SELECT ${runId}::uuid, q.step_key, ${now}::timestamptz, 1,
          CASE WHEN q.taken THEN ${lease}::timestamptz ELSE ${now}::timestamptz END
        FROM go, json_to_recordset(${JSON.stringify(entries)}::json) AS q(step_key text, taken boolean)
      ),
      claims AS (
        INSERT INTO ${t('flow_step_claims')} (run_id, step_key, claimed_at, owner, lease_expires_at)
        SELECT ${runId}::uuid, q.step_key, ${now}::timestamptz, ${takeFor?.owner ?? ''}, ${lease}::timestamptz
        FROM go, json_to_recordset(${JSON.stringify(entries)}::json) AS q(step_key text, taken boolean)
        WHERE q.taken
      ),
      wake AS (
        SELECT pg_notify(${QUEUE_CHANNEL}, ${this.ctx.schema}) FROM go
        WHERE ${entries.some((e) => !e.taken)}::boolean
      )
      SELECT (SELECT COUNT(*) FROM run)::int AS ok, (SELECT COUNT(*) FROM wake)::int AS woke`;
    let ok: number;
    try {
      const result = await statement.execute(this.ctx.db);
      ok = Number(result.rows[0]?.ok ?? 0);
    } catch (error) {
      if (sqlState(error) === '23505' && /flow_runs/.test((error as Error).message ?? '')) {
        throw new DuplicateRunError(runId);
      }
      throw translatePgError(error, 'queue.startRun');
    }
    if (ok === 0) {
      const existing = await guard('queue.startRun', () =>
        this.ctx.db
          .selectFrom('flow_idempotency_keys')
          .select('run_id')
          .where('flow_id', '=', flowId)
          .where('trigger_key', '=', normalizeIdempotencyPart(run.triggerKey ?? ''))
          .where('idempotency_key', '=', normalizeIdempotencyPart(key ?? ''))
          .executeTakeFirst(),
      );
      if (!existing) throw new Error('idempotency key vanished while starting a run');
      return { runId: existing.run_id, duplicate: true, taken: [] };
    }
    const control: FlowRunControlRecord = {
      runId,
      flowId,
      triggerKey: run.triggerKey ?? '',
      idempotencyKey: key,
      createdAt: now,
      timeoutAt: input.timeoutAt,
      cancelRequested: false,
      cancelReason: null,
      cancelRequestedAt: null,
      timedOutAt: null,
    };
    const taken: TakenStep[] = entries
      .filter((e) => e.taken)
      .map((e) => ({
        runId,
        flowId,
        stepKey: e.step_key,
        owner: takeFor!.owner,
        attempt: 1,
        visibleAt: now,
        leaseExpiresAt: lease!,
        control,
      }));
    return { runId, duplicate: false, taken };
  }

  async transact<T>(runId: string, work: (tx: RunTransaction) => Promise<T>): Promise<T> {
    const id = runId.toLowerCase();
    return guard('queue.transact', () =>
      this.ctx.db.transaction().execute(async (trx) => {
        const snapshot = await this.readSnapshot(trx, id);
        const { result, writes } = await openRunTransaction(
          snapshot,
          this.ctx.clock,
          async (key) => {
            const row = await trx
              .selectFrom('flow_outputs')
              .select('value_json')
              .where('run_id', '=', id)
              .where('key', '=', key)
              .executeTakeFirst();
            return fromJsonText(row?.value_json ?? null);
          },
          work,
        );
        await this.apply(trx, id, writes);
        return result;
      }),
    );
  }

  /** Locks the run row, then reads what the transaction plans on (fresh: after the lock). */
  private async readSnapshot(trx: Kysely<Database>, runId: string): Promise<RunSnapshot> {
    const t = (name: keyof Database) => table(this.ctx, name);
    const locked = await sql<{ flow_id: string; status: string }>`
      SELECT flow_id, status FROM ${t('flow_runs')} WHERE id = ${runId}::uuid FOR UPDATE`.execute(trx);
    const run = locked.rows[0];
    if (!run) {
      return { runId, run: null, steps: new Map(), queue: new Map(), claims: new Map(), control: null };
    }
    // A separate statement: in READ COMMITTED it sees everything committed before the lock.
    const state = await sql<{
      steps: Array<[string, string]>;
      queue: Array<[string, number, string | null]>;
      claims: Array<[string, string, string | null]>;
      control: ControlJson | null;
    }>`
      SELECT
        (SELECT COALESCE(json_agg(json_build_array(step_key, status)), '[]'::json)
           FROM ${t('flow_steps')} WHERE run_id = ${runId}::uuid) AS steps,
        (SELECT COALESCE(json_agg(json_build_array(step_key, attempt, visible_at)), '[]'::json)
           FROM ${t('flow_step_dispatches')} WHERE run_id = ${runId}::uuid) AS queue,
        (SELECT COALESCE(json_agg(json_build_array(step_key, owner, lease_expires_at)), '[]'::json)
           FROM ${t('flow_step_claims')} WHERE run_id = ${runId}::uuid) AS claims,
        (SELECT row_to_json(c) FROM ${t('flow_run_controls')} c WHERE c.run_id = ${runId}::uuid) AS control`.execute(
      trx,
    );
    const row = state.rows[0]!;
    return {
      runId,
      run: { flowId: run.flow_id, status: run.status },
      steps: new Map(row.steps.map(([key, status]) => [key, parseStepStatus(status)])),
      queue: new Map(
        row.queue.map(([key, attempt, visibleAt]) => [
          key,
          { attempt: Number(attempt), visibleAt: toDateOrNull(visibleAt) },
        ]),
      ),
      claims: new Map(
        row.claims.map(([key, owner, lease]) => [key, { owner, leaseExpiresAt: toDateOrNull(lease) }]),
      ),
      control: controlFromJson(row.control),
    };
  }

  /** Applies a transaction's writes: ledger before claims (the order takers lock them in). */
  private async apply(trx: Kysely<Database>, runId: string, writes: RunWrites): Promise<void> {
    const now = this.ctx.clock.now();
    const t = (name: keyof Database) => table(this.ctx, name);
    const queuePuts: Array<{ step_key: string; attempt: number; visible_at: string | null }> = [];
    for (const [key, w] of writes.queue)
      queuePuts.push({ step_key: key, attempt: w.attempt, visible_at: w.visibleAt?.toISOString() ?? null });
    const claimPuts: Array<{ step_key: string; owner: string; lease: string | null }> = [];
    const claimDeletes: string[] = [];
    for (const [key, w] of writes.claims) {
      if (w.kind === 'delete') claimDeletes.push(key);
      else claimPuts.push({ step_key: key, owner: w.owner, lease: w.leaseExpiresAt?.toISOString() ?? null });
    }
    const outputs = [...writes.outputs].map(([key, value]) => ({ key, value }));
    const events = writes.events.map((e) => ({
      timestamp: (e.timestamp ?? now).toISOString(),
      type: e.type,
      step_key: e.stepKey ?? null,
      message: e.message ?? null,
    }));
    const close = writes.run && 'close' in writes.run ? writes.run.close : null;
    const reopen = writes.run !== null && 'reopen' in writes.run;
    const anything =
      writes.run !== null ||
      writes.timedOut !== null ||
      writes.notify ||
      queuePuts.length + claimPuts.length + claimDeletes.length > 0 ||
      outputs.length + events.length > 0;
    // Everything but step rows in one statement; each part touches its own table and rows.
    if (anything)
      await sql`
      WITH run AS (
        UPDATE ${t('flow_runs')} SET
          status = CASE WHEN ${reopen}::boolean THEN 'Running' ELSE ${close}::text END,
          completed_at = CASE WHEN ${reopen}::boolean THEN NULL ELSE ${now}::timestamptz END
        WHERE id = ${runId}::uuid AND (${reopen}::boolean OR (${close}::text IS NOT NULL AND status = 'Running'))
      ),
      timed_out AS (
        INSERT INTO ${t('flow_run_controls')} AS c
          (run_id, flow_id, trigger_key, cancel_requested, cancel_reason, cancel_requested_at_utc, timed_out_at_utc, created_at_utc)
        SELECT ${runId}::uuid,
          COALESCE((SELECT flow_id FROM ${t('flow_runs')} WHERE id = ${runId}::uuid), ${EMPTY_UUID}::uuid),
          '', TRUE, ${writes.timedOut}, ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz
        WHERE ${writes.timedOut}::text IS NOT NULL
        ON CONFLICT (run_id) DO UPDATE SET
          timed_out_at_utc = EXCLUDED.timed_out_at_utc,
          cancel_requested = TRUE,
          cancel_requested_at_utc = COALESCE(c.cancel_requested_at_utc, EXCLUDED.timed_out_at_utc),
          cancel_reason = EXCLUDED.cancel_reason
        WHERE c.timed_out_at_utc IS NULL
      ),
      queue_put AS (
        INSERT INTO ${t('flow_step_dispatches')} (run_id, step_key, dispatched_at, attempt, visible_at)
        SELECT ${runId}::uuid, q.step_key, ${now}::timestamptz, q.attempt, q.visible_at
        FROM json_to_recordset(${JSON.stringify(queuePuts)}::json) AS q(step_key text, attempt int, visible_at timestamptz)
        ON CONFLICT (run_id, step_key) DO UPDATE SET attempt = EXCLUDED.attempt, visible_at = EXCLUDED.visible_at
      ),
      claim_put AS (
        INSERT INTO ${t('flow_step_claims')} (run_id, step_key, claimed_at, owner, lease_expires_at)
        SELECT ${runId}::uuid, c.step_key, ${now}::timestamptz, c.owner, c.lease
        FROM json_to_recordset(${JSON.stringify(claimPuts)}::json) AS c(step_key text, owner text, lease timestamptz)
        ON CONFLICT (run_id, step_key) DO UPDATE SET
          claimed_at = EXCLUDED.claimed_at, owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at
      ),
      claim_delete AS (
        DELETE FROM ${t('flow_step_claims')}
        WHERE run_id = ${runId}::uuid AND step_key = ANY(${claimDeletes}::text[])
      ),
      outputs AS (
        INSERT INTO ${t('flow_outputs')} (run_id, key, value_json, created_at)
        SELECT ${runId}::uuid, o.key, o.value, ${now}::timestamptz
        FROM json_to_recordset(${JSON.stringify(outputs)}::json) AS o(key text, value text)
        ON CONFLICT (run_id, key) DO UPDATE SET value_json = EXCLUDED.value_json
      ),
      events AS (
        INSERT INTO ${t('flow_events')} (run_id, timestamp_utc, type, step_key, message)
        SELECT ${runId}::uuid, e.timestamp, e.type, e.step_key, e.message
        FROM ROWS FROM (json_to_recordset(${JSON.stringify(events)}::json)
          AS (timestamp timestamptz, type text, step_key text, message text)) WITH ORDINALITY
          AS e(timestamp, type, step_key, message, ord)
        ORDER BY e.ord
      )
      SELECT pg_notify(${QUEUE_CHANNEL}, ${this.ctx.schema}) WHERE ${writes.notify}::boolean
      UNION ALL
      SELECT pg_notify(${EVENTS_CHANNEL}, ${this.ctx.schema}) WHERE ${close !== null && events.length > 0}::boolean`.execute(
        trx,
      );
    const scoped: PgContext = { ...this.ctx, db: trx };
    for (const [stepKey, w] of writes.steps) {
      if (w.kind === 'finish') {
        await completeAttempt(scoped, {
          runId,
          stepKey,
          status: w.status,
          outputJson: w.outputJson,
          errorMessage: w.errorMessage,
        });
      } else if (w.kind === 'skip') {
        await appendAttempt(scoped, {
          runId,
          stepKey,
          stepType: w.stepType,
          status: 'Skipped',
          inputJson: null,
          jobId: null,
          errorMessage: w.reason,
          completed: true,
          evaluationTraceJson: w.traceJson,
        });
      } else if (w.kind === 'start') {
        await appendAttempt(scoped, {
          runId,
          stepKey,
          stepType: w.stepType,
          status: 'Running',
          inputJson: w.inputJson,
          jobId: null,
          errorMessage: null,
          completed: false,
          evaluationTraceJson: null,
        });
      } else if (w.kind === 'reset') {
        await sql`UPDATE ${t('flow_steps')} SET status = 'Running', output_json = NULL, error_message = NULL,
            completed_at = NULL, started_at = ${now}::timestamptz
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey}`.execute(trx);
      } else {
        await sql`DELETE FROM ${t('flow_steps')} WHERE run_id = ${runId}::uuid AND step_key = ${stepKey}`.execute(
          trx,
        );
      }
    }
  }

  async take(request: TakeRequest): Promise<TakenStep[]> {
    const limit = Math.max(0, Math.trunc(request.limit));
    if (limit === 0) return [];
    const now = this.ctx.clock.now();
    const expires = new Date(now.getTime() + request.leaseMs);
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.take', () =>
      sql<{
        run_id: string;
        step_key: string;
        flow_id: string;
        attempt: number;
        visible_at: Date;
        control: ControlJson | null;
      }>`
        WITH picked AS (
          SELECT d.run_id, d.step_key, d.attempt, d.visible_at, r.flow_id
          FROM ${t('flow_step_dispatches')} d
          JOIN ${t('flow_runs')} r ON r.id = d.run_id AND r.status = 'Running'
          WHERE d.visible_at IS NOT NULL AND d.visible_at <= ${now}::timestamptz
          ORDER BY d.visible_at, d.run_id, d.step_key COLLATE "C"
          LIMIT ${limit}
          FOR UPDATE OF d SKIP LOCKED
          FOR SHARE OF r SKIP LOCKED
        ),
        claimed AS (${claimPicked(t, request.owner, now, expires)}),
        moved AS (
          -- Taken rows reappear when the lease lapses; rows someone else holds are looked at
          -- again once that lease could have lapsed.
          UPDATE ${t('flow_step_dispatches')} d SET visible_at = ${expires}::timestamptz
          FROM picked p
          WHERE d.run_id = p.run_id AND d.step_key = p.step_key
        )
        SELECT p.run_id, p.step_key, p.flow_id, p.attempt, p.visible_at,
          (SELECT row_to_json(ctl) FROM ${t('flow_run_controls')} ctl WHERE ctl.run_id = p.run_id) AS control
        FROM picked p JOIN claimed c ON c.run_id = p.run_id AND c.step_key = p.step_key
        ORDER BY p.visible_at, p.run_id, p.step_key COLLATE "C"`.execute(this.ctx.db),
    );
    return result.rows.map((r) => ({
      runId: r.run_id,
      flowId: r.flow_id,
      stepKey: r.step_key,
      owner: request.owner,
      attempt: Number(r.attempt),
      visibleAt: toDate(r.visible_at),
      leaseExpiresAt: expires,
      control: controlFromJson(r.control),
    }));
  }

  async takeStep(request: TakeStepRequest): Promise<TakeStepResult> {
    const runId = request.runId.toLowerCase();
    const now = this.ctx.clock.now();
    const expires = new Date(now.getTime() + request.leaseMs);
    const t = (name: keyof Database) => table(this.ctx, name);
    // As take, for one row: never waits (SKIP LOCKED on the ledger row and the run row), so it
    // cannot deadlock with a run transaction; when nothing was taken, the state read by the same
    // statement tells why.
    const result = await guard('queue.takeStep', () =>
      sql<{
        taken: number;
        flow_id: string | null;
        run_status: string | null;
        attempt: number | null;
        visible_at: Date | null;
        owner: string | null;
        lease_expires_at: Date | null;
        terminal: boolean;
        control: ControlJson | null;
      }>`
        WITH picked AS (
          SELECT d.run_id, d.step_key, d.attempt, d.visible_at, r.flow_id
          FROM ${t('flow_step_dispatches')} d
          JOIN ${t('flow_runs')} r ON r.id = d.run_id AND r.status = 'Running'
          WHERE d.run_id = ${runId}::uuid AND d.step_key = ${request.stepKey}
            AND d.visible_at IS NOT NULL AND d.visible_at <= ${now}::timestamptz
          FOR UPDATE OF d SKIP LOCKED
          FOR SHARE OF r SKIP LOCKED
        ),
        claimed AS (${claimPicked(t, request.owner, now, expires)}),
        moved AS (
          UPDATE ${t('flow_step_dispatches')} d SET visible_at = ${expires}::timestamptz
          FROM claimed c
          WHERE d.run_id = c.run_id AND d.step_key = c.step_key
        )
        SELECT
          (SELECT COUNT(*) FROM claimed)::int AS taken,
          r.flow_id, r.status AS run_status, d.attempt, d.visible_at, cl.owner, cl.lease_expires_at,
          EXISTS (SELECT 1 FROM ${t('flow_steps')} s WHERE s.run_id = ${runId}::uuid AND s.step_key = ${request.stepKey}
            AND LOWER(s.status) = ANY(${TERMINAL}::text[])) AS terminal,
          (SELECT row_to_json(ctl) FROM ${t('flow_run_controls')} ctl WHERE ctl.run_id = ${runId}::uuid) AS control
        FROM (SELECT 1) AS one
        LEFT JOIN ${t('flow_runs')} r ON r.id = ${runId}::uuid
        LEFT JOIN ${t('flow_step_dispatches')} d ON d.run_id = ${runId}::uuid AND d.step_key = ${request.stepKey}
        LEFT JOIN ${t('flow_step_claims')} cl ON cl.run_id = ${runId}::uuid AND cl.step_key = ${request.stepKey}`.execute(
        this.ctx.db,
      ),
    );
    const row = result.rows[0]!;
    // The state columns come from the statement's snapshot (before its own writes).
    if (row.run_status !== 'Running' || row.visible_at === null || row.attempt === null)
      return { kind: 'gone' };
    const visibleAt = toDate(row.visible_at);
    if (Number(row.taken) > 0) {
      return {
        kind: 'taken',
        step: {
          runId,
          flowId: row.flow_id!,
          stepKey: request.stepKey,
          owner: request.owner,
          attempt: Number(row.attempt),
          visibleAt,
          leaseExpiresAt: expires,
          control: controlFromJson(row.control),
        },
      };
    }
    const lease = toDateOrNull(row.lease_expires_at);
    const claimed = row.owner !== null;
    if (claimed && (lease === null || lease.getTime() > now.getTime())) return { kind: 'busy' };
    if (visibleAt.getTime() > now.getTime()) {
      return { kind: 'later', attempt: Number(row.attempt), visibleAt };
    }
    if (claimed && row.terminal) return { kind: 'busy' };
    // Due and free, yet not taken: the run or the row was locked by someone else.
    return { kind: 'locked' };
  }

  async listDue(request: ListDueRequest): Promise<QueuedStep[]> {
    const limit = Math.max(0, Math.trunc(request.limit));
    if (limit === 0) return [];
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.listDue', () =>
      sql<{ run_id: string; flow_id: string; step_key: string; attempt: number; visible_at: Date }>`
        SELECT d.run_id, r.flow_id, d.step_key, d.attempt, d.visible_at
        FROM ${t('flow_step_dispatches')} d
        JOIN ${t('flow_runs')} r ON r.id = d.run_id AND r.status = 'Running'
        WHERE d.visible_at IS NOT NULL AND d.visible_at <= ${request.dueBefore}::timestamptz
        ORDER BY d.visible_at, d.run_id, d.step_key COLLATE "C"
        LIMIT ${limit}`.execute(this.ctx.db),
    );
    return result.rows.map((r) => ({
      runId: r.run_id,
      flowId: r.flow_id,
      stepKey: r.step_key,
      attempt: Number(r.attempt),
      visibleAt: toDate(r.visible_at),
    }));
  }

  async startStep(input: QueuedStepStart): Promise<boolean> {
    return guard('queue.startStep', () =>
      appendAttempt(this.ctx, {
        runId: input.runId,
        stepKey: input.stepKey,
        stepType: input.stepType,
        status: 'Running',
        inputJson: input.inputJson,
        jobId: input.jobId ?? null,
        errorMessage: null,
        completed: false,
        evaluationTraceJson: null,
        owner: input.owner,
        ...(input.event
          ? {
              event: {
                type: input.event.type,
                message: input.event.message ?? null,
                timestamp: input.event.timestamp ?? this.ctx.clock.now(),
              },
            }
          : {}),
      }),
    );
  }

  async renew(runId: string, stepKey: string, owner: string, leaseMs: number): Promise<LeaseRenewal> {
    const expires = new Date(this.ctx.clock.now().getTime() + leaseMs);
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.renew', () =>
      sql<{ held: number; control: ControlJson | null }>`
        WITH row AS (
          UPDATE ${t('flow_step_dispatches')} SET visible_at = ${expires}::timestamptz
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND visible_at IS NOT NULL
            AND EXISTS (SELECT 1 FROM ${t('flow_step_claims')}
              WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND owner = ${owner})
        ),
        claim AS (
          UPDATE ${t('flow_step_claims')} SET lease_expires_at = ${expires}::timestamptz
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND owner = ${owner}
          RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM claim)::int AS held,
          (SELECT row_to_json(c) FROM ${t('flow_run_controls')} c WHERE c.run_id = ${runId}::uuid) AS control`.execute(
        this.ctx.db,
      ),
    );
    const row = result.rows[0];
    return { held: Number(row?.held ?? 0) > 0, control: controlFromJson(row?.control ?? null) };
  }

  async release(runId: string, stepKey: string, owner: string, visibleAt?: Date): Promise<boolean> {
    const at = visibleAt ?? this.ctx.clock.now();
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.release', () =>
      sql<{ released: number }>`
        WITH queued AS (
          -- Only a step still in the queue is handed back: a finished one keeps its claim.
          SELECT 1 FROM ${t('flow_step_dispatches')}
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND visible_at IS NOT NULL
          FOR UPDATE
        ),
        gone AS (
          DELETE FROM ${t('flow_step_claims')}
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND owner = ${owner}
            AND EXISTS (SELECT 1 FROM queued)
          RETURNING 1
        ),
        row AS (
          UPDATE ${t('flow_step_dispatches')} SET visible_at = ${at}::timestamptz
          WHERE run_id = ${runId}::uuid AND step_key = ${stepKey} AND EXISTS (SELECT 1 FROM gone)
          RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM gone)::int AS released,
          (SELECT COUNT(pg_notify(${QUEUE_CHANNEL}, ${this.ctx.schema})) FROM row) AS woke`.execute(
        this.ctx.db,
      ),
    );
    return Number(result.rows[0]?.released ?? 0) > 0;
  }

  async wake(runId: string, stepKey: string): Promise<boolean> {
    const now = this.ctx.clock.now();
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.wake', () =>
      sql<{ woke: number }>`
        WITH row AS (
          UPDATE ${t('flow_step_dispatches')} d SET visible_at = ${now}::timestamptz
          WHERE d.run_id = ${runId}::uuid AND d.step_key = ${stepKey} AND d.visible_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ${t('flow_step_claims')} c
              WHERE c.run_id = d.run_id AND c.step_key = d.step_key
                AND (c.lease_expires_at IS NULL OR c.lease_expires_at > ${now}::timestamptz))
          RETURNING 1
        )
        SELECT (SELECT COUNT(pg_notify(${QUEUE_CHANNEL}, ${this.ctx.schema})) FROM row)::int AS woke`.execute(
        this.ctx.db,
      ),
    );
    return Number(result.rows[0]?.woke ?? 0) > 0;
  }

  async nextVisibleAt(): Promise<Date | null> {
    const t = (name: keyof Database) => table(this.ctx, name);
    const result = await guard('queue.nextVisibleAt', () =>
      sql<{ at: Date | null }>`
        SELECT MIN(d.visible_at) AS at FROM ${t('flow_step_dispatches')} d
        JOIN ${t('flow_runs')} r ON r.id = d.run_id AND r.status = 'Running'
        WHERE d.visible_at IS NOT NULL`.execute(this.ctx.db),
    );
    const at = result.rows[0]?.at ?? null;
    return at === null ? null : toDate(at);
  }

  get listen(): FlowStepQueueStore['listen'] {
    const source = this.notifications;
    if (!source) return undefined;
    return (onReady) =>
      source(QUEUE_CHANNEL, (payload) => {
        // An empty payload comes after a reconnect: notifications may have been missed.
        if (payload === this.ctx.schema || payload === '') onReady();
      });
  }
}

/**
 * The body of a `claimed` CTE: claims every row of `picked` for `owner` — inserted, or taken over
 * when the previous lease lapsed and the step is not terminal — returning the rows won.
 */
function claimPicked(
  t: (name: keyof Database) => RawBuilder<unknown>,
  owner: string,
  now: Date,
  expires: Date,
): RawBuilder<unknown> {
  return sql`
          INSERT INTO ${t('flow_step_claims')} AS c (run_id, step_key, claimed_at, owner, lease_expires_at)
          SELECT run_id, step_key, ${now}::timestamptz, ${owner}, ${expires}::timestamptz FROM picked
          ON CONFLICT (run_id, step_key) DO UPDATE SET
            claimed_at = EXCLUDED.claimed_at, owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at
          WHERE c.lease_expires_at IS NOT NULL AND c.lease_expires_at <= ${now}::timestamptz
            AND NOT EXISTS (
              SELECT 1 FROM ${t('flow_steps')} s
              WHERE s.run_id = c.run_id AND s.step_key = c.step_key AND LOWER(s.status) = ANY(${TERMINAL}::text[]))
          RETURNING c.run_id, c.step_key`;
}
