import type {
  WebhookRejectionInput,
  WebhookRejectionPage,
  WebhookRejectionQuery,
  WebhookRejectionRecord,
  WebhookRejectionStore,
  WebhookReplayStore,
} from '@floworch/core';
import { clampWebhookPage, escapeLikePattern, truncateReason } from '@floworch/core/backend';
import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { WebhookRejectionsTable } from '../schema/database.js';
import { type PgContext, toDate, toNumber } from '../sql/context.js';
import { guard } from '../sql/errors.js';

/** PostgreSQL {@link WebhookReplayStore}: one atomic insert-if-absent per nonce. */
export class PgWebhookReplayStore implements WebhookReplayStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async tryRegister(flowId: string, triggerKey: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const row = await guard('webhookReplay.tryRegister', () =>
      this.ctx.db
        .insertInto('webhook_replay_nonces')
        .values({ flow_id: flowId, trigger_key: triggerKey, nonce, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['flow_id', 'trigger_key', 'nonce']).doNothing())
        .returning('nonce')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }

  async purgeExpired(now?: Date): Promise<number> {
    const cutoff = now ?? this.ctx.clock.now();
    const result = await guard('webhookReplay.purgeExpired', () =>
      this.ctx.db.deleteFrom('webhook_replay_nonces').where('expires_at', '<=', cutoff).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}

function record(row: Selectable<WebhookRejectionsTable>): WebhookRejectionRecord {
  return {
    id: toNumber(row.id),
    flowId: row.flow_id,
    triggerKey: row.trigger_key,
    receivedAt: toDate(row.received_at),
    remoteIp: row.remote_ip,
    reason: row.reason,
    statusCode: row.status_code,
    bodyBytes: row.body_bytes,
    bodyTruncated: row.body_truncated,
    headersJson: row.headers_json,
    scheme: row.scheme,
    processingMs: row.processing_ms,
    isAccepted: row.is_accepted,
  };
}

/** PostgreSQL {@link WebhookRejectionStore}: the webhook DLQ and recent-deliveries log. */
export class PgWebhookRejectionStore implements WebhookRejectionStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async write(input: WebhookRejectionInput): Promise<WebhookRejectionRecord> {
    return guard('webhookRejections.write', async () => {
      const row = await this.ctx.db
        .insertInto('webhook_rejections')
        .values({
          flow_id: input.flowId,
          trigger_key: input.triggerKey,
          received_at: input.receivedAt,
          remote_ip: input.remoteIp,
          reason: truncateReason(input.reason ?? ''),
          status_code: input.statusCode,
          body_bytes: input.bodyBytes,
          body_truncated: input.bodyTruncated,
          headers_json: input.headersJson,
          scheme: input.scheme,
          processing_ms: input.processingMs,
          is_accepted: input.isAccepted,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return record(row);
    });
  }

  async queryRecent(
    flowId: string | null,
    reason: string | null,
    includeAccepted: boolean,
    skip: number,
    take: number,
  ): Promise<WebhookRejectionRecord[]> {
    const page = await this.query({ flowId, reason, includeAccepted, includeRejected: true, skip, take });
    return [...page.items];
  }

  async query(query: WebhookRejectionQuery): Promise<WebhookRejectionPage> {
    const { skip, take } = clampWebhookPage(query.skip, query.take);
    const includeAccepted = query.includeAccepted ?? true;
    const includeRejected = query.includeRejected ?? true;
    if (!includeAccepted && !includeRejected) return { items: [], total: 0 };
    return guard('webhookRejections.query', async () => {
      const filtered = this.ctx.db.selectFrom('webhook_rejections').where((eb) => {
        const all: Expression<SqlBool>[] = [];
        if (query.flowId) all.push(eb('flow_id', '=', query.flowId));
        const reason = query.reason?.trim();
        if (reason) all.push(sql<SqlBool>`LOWER(reason) = LOWER(${reason})`);
        if (!includeAccepted) all.push(eb('is_accepted', '=', false));
        if (!includeRejected) all.push(eb('is_accepted', '=', true));
        const search = query.search?.trim();
        if (search) {
          const pattern = `%${escapeLikePattern(search.toLowerCase())}%`;
          all.push(sql<SqlBool>`(LOWER(reason) LIKE ${pattern} ESCAPE '\\'
            OR LOWER(trigger_key) LIKE ${pattern} ESCAPE '\\' OR LOWER(remote_ip) LIKE ${pattern} ESCAPE '\\')`);
        }
        return eb.and(all);
      });
      const [rows, count] = await Promise.all([
        filtered.selectAll().orderBy('id', 'desc').offset(skip).limit(take).execute(),
        filtered.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(record), total: toNumber(count.n) };
    });
  }

  async countsByReason(windowMs: number): Promise<Record<string, number>> {
    const since = new Date(this.ctx.clock.now().getTime() - windowMs);
    return guard('webhookRejections.countsByReason', async () => {
      const rows = await this.ctx.db
        .selectFrom('webhook_rejections')
        .select([sql<string>`LOWER(reason)`.as('reason'), (eb) => eb.fn.countAll().as('n')])
        .where('is_accepted', '=', false)
        .where('reason', '<>', '')
        .where('received_at', '>=', since)
        .groupBy(sql`LOWER(reason)`)
        .execute();
      return Object.fromEntries(rows.map((r) => [r.reason, toNumber(r.n)]));
    });
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const result = await guard('webhookRejections.purgeOlderThan', () =>
      this.ctx.db.deleteFrom('webhook_rejections').where('received_at', '<', cutoff).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}
