import type { FlowRunControlRecord, FlowRunControlStore, OverdueRun } from '@floworch/core';
import type { ConfigureRunInput } from '@floworch/core/backend';
import { clampLimit, EMPTY_UUID, normalizeIdempotencyPart } from '@floworch/core/backend';
import { sql } from 'kysely';
import { type PgContext, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard } from '../sql/errors.js';

const DEFAULT_TIMEOUT_REASON = 'Run timed out.';

/**
 * PostgreSQL {@link FlowRunControlStore}. Every transition is a single guarded upsert, so a
 * cancel or timeout on a run without a control row creates it, and racing callers see exactly
 * one `true`.
 */
export class PgControlStore implements FlowRunControlStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async configureRun(input: ConfigureRunInput): Promise<void> {
    const now = this.ctx.clock.now();
    // Cancel and timeout state survive re-configuration.
    await guard('control.configureRun', () =>
      this.ctx.db
        .insertInto('flow_run_controls')
        .values({
          run_id: input.runId,
          flow_id: input.flowId,
          trigger_key: input.triggerKey,
          idempotency_key: input.idempotencyKey?.trim() || null,
          timeout_at_utc: input.timeoutAt ?? null,
          cancel_requested: false,
          created_at_utc: now,
        })
        .onConflict((oc) =>
          oc.column('run_id').doUpdateSet((eb) => ({
            flow_id: eb.ref('excluded.flow_id'),
            trigger_key: eb.ref('excluded.trigger_key'),
            idempotency_key: eb.ref('excluded.idempotency_key'),
            timeout_at_utc: eb.ref('excluded.timeout_at_utc'),
          })),
        )
        .execute(),
    );
  }

  async getRunControl(runId: string): Promise<FlowRunControlRecord | null> {
    return guard('control.getRunControl', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_run_controls')
        .selectAll()
        .where('run_id', '=', runId)
        .executeTakeFirst();
      return row ? controlRecord(row) : null;
    });
  }

  async requestCancel(runId: string, reason?: string | null): Promise<boolean> {
    const now = this.ctx.clock.now();
    const result = await guard('control.requestCancel', () =>
      sql`
        INSERT INTO ${table(this.ctx, 'flow_run_controls')} AS c
          (run_id, flow_id, trigger_key, cancel_requested, cancel_reason, cancel_requested_at_utc, created_at_utc)
        VALUES (${runId}, ${EMPTY_UUID}, '', TRUE, ${reason ?? null}, ${now}, ${now})
        ON CONFLICT (run_id) DO UPDATE SET
          cancel_requested = TRUE,
          cancel_reason = EXCLUDED.cancel_reason,
          cancel_requested_at_utc = COALESCE(c.cancel_requested_at_utc, EXCLUDED.cancel_requested_at_utc)
        WHERE c.cancel_requested = FALSE
        RETURNING 1`.execute(this.ctx.db),
    );
    return result.rows.length > 0;
  }

  async markTimedOut(runId: string, reason?: string | null): Promise<boolean> {
    const now = this.ctx.clock.now();
    const result = await guard('control.markTimedOut', () =>
      sql`
        INSERT INTO ${table(this.ctx, 'flow_run_controls')} AS c
          (run_id, flow_id, trigger_key, cancel_requested, cancel_reason, cancel_requested_at_utc, timed_out_at_utc, created_at_utc)
        VALUES (${runId}, ${EMPTY_UUID}, '', TRUE, ${reason ?? DEFAULT_TIMEOUT_REASON}, ${now}, ${now}, ${now})
        ON CONFLICT (run_id) DO UPDATE SET
          timed_out_at_utc = EXCLUDED.timed_out_at_utc,
          cancel_requested = TRUE,
          cancel_requested_at_utc = COALESCE(c.cancel_requested_at_utc, EXCLUDED.timed_out_at_utc),
          cancel_reason = COALESCE(${reason ?? null}::text, c.cancel_reason, ${DEFAULT_TIMEOUT_REASON}::text)
        WHERE c.timed_out_at_utc IS NULL
        RETURNING 1`.execute(this.ctx.db),
    );
    return result.rows.length > 0;
  }

  async extendDeadline(runId: string, newTimeoutAt: Date): Promise<boolean> {
    // A cancel stamped at the same instant as the timeout came from the timeout, so it is undone
    // with it; a user's earlier cancel stays.
    const result = await guard('control.extendDeadline', () =>
      sql`
        UPDATE ${table(this.ctx, 'flow_run_controls')} SET
          timeout_at_utc = ${newTimeoutAt},
          cancel_requested = CASE WHEN timed_out_at_utc IS NOT NULL AND cancel_requested_at_utc = timed_out_at_utc
            THEN FALSE ELSE cancel_requested END,
          cancel_reason = CASE WHEN timed_out_at_utc IS NOT NULL AND cancel_requested_at_utc = timed_out_at_utc
            THEN NULL ELSE cancel_reason END,
          cancel_requested_at_utc = CASE WHEN timed_out_at_utc IS NOT NULL AND cancel_requested_at_utc = timed_out_at_utc
            THEN NULL ELSE cancel_requested_at_utc END,
          timed_out_at_utc = NULL
        WHERE run_id = ${runId}
        RETURNING 1`.execute(this.ctx.db),
    );
    return result.rows.length > 0;
  }

  async getRunsPastDeadline(limit: number): Promise<OverdueRun[]> {
    return guard('control.getRunsPastDeadline', async () => {
      const rows = await sql<{ run_id: string; flow_id: string; timeout_at_utc: Date }>`
        SELECT c.run_id, r.flow_id, c.timeout_at_utc
        FROM ${table(this.ctx, 'flow_run_controls')} c
        JOIN ${table(this.ctx, 'flow_runs')} r ON r.id = c.run_id AND r.status = 'Running'
        WHERE c.timeout_at_utc IS NOT NULL AND c.timeout_at_utc <= ${this.ctx.clock.now()}
        ORDER BY c.timeout_at_utc, c.run_id
        LIMIT ${clampLimit(limit, 1, 1000, 100)}`.execute(this.ctx.db);
      return rows.rows.map((r) => ({
        runId: r.run_id,
        flowId: r.flow_id,
        timeoutAt: toDate(r.timeout_at_utc),
      }));
    });
  }

  async findRunIdByIdempotencyKey(flowId: string, triggerKey: string, key: string): Promise<string | null> {
    return guard('control.findRunIdByIdempotencyKey', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_idempotency_keys')
        .select('run_id')
        .where('flow_id', '=', flowId)
        .where('trigger_key', '=', normalizeIdempotencyPart(triggerKey))
        .where('idempotency_key', '=', normalizeIdempotencyPart(key))
        .executeTakeFirst();
      return row?.run_id ?? null;
    });
  }

  async tryRegisterIdempotencyKey(
    flowId: string,
    triggerKey: string,
    key: string,
    runId: string,
  ): Promise<boolean> {
    const row = await guard('control.tryRegisterIdempotencyKey', () =>
      this.ctx.db
        .insertInto('flow_idempotency_keys')
        .values({
          flow_id: flowId,
          trigger_key: normalizeIdempotencyPart(triggerKey),
          idempotency_key: normalizeIdempotencyPart(key),
          run_id: runId,
          created_at_utc: this.ctx.clock.now(),
        })
        .onConflict((oc) => oc.columns(['flow_id', 'trigger_key', 'idempotency_key']).doNothing())
        .returning('run_id')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }
}

/** A control row (as selected, or as `row_to_json` renders it) as the public record. */
export function controlRecord(row: {
  run_id: string;
  flow_id: string;
  trigger_key: string;
  idempotency_key: string | null;
  created_at_utc: Date | string;
  timeout_at_utc: Date | string | null;
  cancel_requested: boolean;
  cancel_reason: string | null;
  cancel_requested_at_utc: Date | string | null;
  timed_out_at_utc: Date | string | null;
}): FlowRunControlRecord {
  return {
    runId: row.run_id,
    flowId: row.flow_id,
    triggerKey: row.trigger_key,
    idempotencyKey: row.idempotency_key,
    createdAt: toDate(row.created_at_utc),
    timeoutAt: toDateOrNull(row.timeout_at_utc),
    cancelRequested: row.cancel_requested,
    cancelReason: row.cancel_reason,
    cancelRequestedAt: toDateOrNull(row.cancel_requested_at_utc),
    timedOutAt: toDateOrNull(row.timed_out_at_utc),
  };
}
