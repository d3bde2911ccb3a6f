import { EMPTY_UUID, type FlowRunControlRecord } from '@floworch/core/backend';
import { SqlControlStore } from '@floworch/sql';
import { sql } from 'kysely';
import { type PgContext, pgLayer, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard } from '../sql/errors.js';

const DEFAULT_TIMEOUT_REASON = 'Run timed out.';

/**
 * PostgreSQL `FlowRunControlStore`: the shared SQL implementation, plus cancel and timeout, each a
 * single guarded upsert, so a run without a control row gets one and racing callers see exactly
 * one `true`.
 */
export class PgControlStore extends SqlControlStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {
    super(pgLayer(ctx));
  }

  override async requestCancel(runId: string, reason?: string | null): Promise<boolean> {
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

  override async markTimedOut(runId: string, reason?: string | null): Promise<boolean> {
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
