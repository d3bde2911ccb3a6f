import type {
  WebhookRejectionInput,
  WebhookRejectionPage,
  WebhookRejectionQuery,
  WebhookRejectionRecord,
  WebhookRejectionStore,
  WebhookReplayStore,
} from '@floworch/core';
import { clampWebhookPage, truncateReason } from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';
import { query, queryFirst, type SqlContext, tryInsert } from '../sql/context.js';
import { containsPattern } from '../sql/like.js';
import { CI_COLLATION } from '../sql/names.js';
import { key, toBool, toDate, toNumber, toUuidOrNull, ts, uuid } from '../sql/values.js';

/** SQL Server {@link WebhookReplayStore} over `WebhookReplayNonces` (nonces compare in binary). */
export class SqlServerWebhookReplayStore implements WebhookReplayStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async tryRegister(flowId: string, triggerKey: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const table = this.ctx.n.table('WebhookReplayNonces');
    const flow = uuid(flowId, 'flowId');
    const trigger = key(triggerKey, 'triggerKey');
    const n = key(nonce, 'nonce');
    // An expired row not purged yet still counts as a replay: existence alone decides.
    return tryInsert(
      this.ctx,
      sql`INSERT INTO ${table} ([FlowId], [TriggerKey], [Nonce], [ExpiresAt])
OUTPUT inserted.[Nonce]
SELECT ${flow}, ${trigger}, ${n}, ${ts(expiresAt)}
WHERE NOT EXISTS (SELECT 1 FROM ${table} WITH (UPDLOCK, HOLDLOCK)
  WHERE [FlowId] = ${flow} AND [TriggerKey] = ${trigger} AND [Nonce] = ${n});`,
    );
  }

  async purgeExpired(now?: Date): Promise<number> {
    const row = await queryFirst(
      this.ctx,
      sql<{
        deleted: number;
      }>`DELETE FROM ${this.ctx.n.table('WebhookReplayNonces')} WHERE [ExpiresAt] <= ${ts(now ?? this.ctx.clock.now())};
SELECT @@ROWCOUNT AS deleted;`,
    );
    return toNumber(row?.deleted ?? 0);
  }
}

interface RejectionRow {
  Id: string | number;
  FlowId: string | null;
  TriggerKey: string | null;
  ReceivedAt: Date;
  RemoteIp: string | null;
  Reason: string;
  StatusCode: number;
  BodyBytes: number;
  BodyTruncated: string | null;
  HeadersJson: string | null;
  Scheme: string | null;
  ProcessingMs: number | null;
  IsAccepted: boolean;
}

const REJECTION_COLUMNS = sql.raw(
  '[Id], [FlowId], [TriggerKey], [ReceivedAt], [RemoteIp], [Reason], [StatusCode], [BodyBytes], [BodyTruncated], [HeadersJson], [Scheme], [ProcessingMs], [IsAccepted]',
);
const CI = sql.raw(`COLLATE ${CI_COLLATION}`);

function rejection(row: RejectionRow): WebhookRejectionRecord {
  return {
    id: toNumber(row.Id),
    flowId: toUuidOrNull(row.FlowId),
    triggerKey: row.TriggerKey,
    receivedAt: toDate(row.ReceivedAt),
    remoteIp: row.RemoteIp,
    reason: row.Reason,
    statusCode: toNumber(row.StatusCode),
    bodyBytes: toNumber(row.BodyBytes),
    bodyTruncated: row.BodyTruncated,
    headersJson: row.HeadersJson,
    scheme: row.Scheme,
    processingMs: row.ProcessingMs === null ? null : toNumber(row.ProcessingMs),
    isAccepted: toBool(row.IsAccepted),
  };
}

/** SQL Server {@link WebhookRejectionStore} over `WebhookRejections` (append-only, identity ids). */
export class SqlServerWebhookRejectionStore implements WebhookRejectionStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async write(record: WebhookRejectionInput): Promise<WebhookRejectionRecord> {
    const row = await queryFirst(
      this.ctx,
      sql<RejectionRow>`INSERT INTO ${this.ctx.n.table('WebhookRejections')}
  ([FlowId], [TriggerKey], [ReceivedAt], [RemoteIp], [Reason], [StatusCode], [BodyBytes], [BodyTruncated], [HeadersJson], [Scheme], [ProcessingMs], [IsAccepted])
OUTPUT ${sql.raw('inserted.[Id], inserted.[FlowId], inserted.[TriggerKey], inserted.[ReceivedAt], inserted.[RemoteIp], inserted.[Reason], inserted.[StatusCode], inserted.[BodyBytes], inserted.[BodyTruncated], inserted.[HeadersJson], inserted.[Scheme], inserted.[ProcessingMs], inserted.[IsAccepted]')}
VALUES (${record.flowId ? uuid(record.flowId, 'flowId') : null}, ${record.triggerKey ?? null}, ${ts(record.receivedAt)},
  ${record.remoteIp ?? null}, ${truncateReason(record.reason ?? '')}, ${Math.trunc(record.statusCode)}, ${Math.trunc(record.bodyBytes)},
  ${record.bodyTruncated ?? null}, ${record.headersJson ?? null}, ${record.scheme ?? null},
  ${record.processingMs ?? null},
  ${record.isAccepted === true});`,
    );
    if (!row) throw new Error('INSERT into WebhookRejections returned no row');
    return rejection(row);
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

  async query(q: WebhookRejectionQuery): Promise<WebhookRejectionPage> {
    const { skip, take } = clampWebhookPage(q.skip, q.take);
    const includeAccepted = q.includeAccepted ?? true;
    const includeRejected = q.includeRejected ?? true;
    if (!includeAccepted && !includeRejected) return { items: [], total: 0 };
    const parts: RawBuilder<unknown>[] = [];
    if (q.flowId) parts.push(sql`[FlowId] = ${uuid(q.flowId, 'flowId')}`);
    const reason = q.reason?.trim();
    if (reason) parts.push(sql`[Reason] ${CI} = ${reason}`);
    if (!includeAccepted) parts.push(sql`[IsAccepted] = 0`);
    if (!includeRejected) parts.push(sql`[IsAccepted] = 1`);
    const search = q.search?.trim();
    let prelude: RawBuilder<unknown> = sql``;
    if (search) {
      prelude = sql`DECLARE @p NVARCHAR(MAX) = ${containsPattern(search)};\n`;
      parts.push(
        sql`([Reason] ${CI} LIKE @p ESCAPE N'\\' OR [TriggerKey] ${CI} LIKE @p ESCAPE N'\\' OR [RemoteIp] ${CI} LIKE @p ESCAPE N'\\')`,
      );
    }
    const where = parts.length > 0 ? sql`WHERE ${sql.join(parts, sql` AND `)}` : sql``;
    const table = this.ctx.n.table('WebhookRejections');
    const count = await queryFirst(
      this.ctx,
      sql<{ total: number }>`${prelude}SELECT COUNT_BIG(*) AS total FROM ${table} ${where};`,
    );
    const total = toNumber(count?.total ?? 0);
    // take >= 1 after clamping; a page past the end is answered without a FETCH.
    if (skip >= total) return { items: [], total };
    const rows = await query(
      this.ctx,
      sql<RejectionRow>`${prelude}SELECT ${REJECTION_COLUMNS} FROM ${table} ${where}
ORDER BY [Id] DESC OFFSET ${skip} ROWS FETCH NEXT ${take} ROWS ONLY;`,
    );
    return { items: rows.map(rejection), total };
  }

  async countsByReason(windowMs: number): Promise<Record<string, number>> {
    const since = new Date(this.ctx.clock.now().getTime() - windowMs);
    const rows = await query(
      this.ctx,
      sql<{
        reason: string;
        n: number;
      }>`SELECT LOWER([Reason]) AS reason, COUNT_BIG(*) AS n FROM ${this.ctx.n.table('WebhookRejections')}
WHERE [IsAccepted] = 0 AND [Reason] <> N'' AND [ReceivedAt] >= ${ts(since)}
GROUP BY LOWER([Reason]);`,
    );
    // Lower-cased again in JS and summed, so keys follow JS case rules whatever the collation.
    const counts: Record<string, number> = {};
    for (const r of rows) {
      const k = r.reason.toLowerCase();
      counts[k] = (counts[k] ?? 0) + toNumber(r.n);
    }
    return counts;
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const row = await queryFirst(
      this.ctx,
      sql<{
        deleted: number;
      }>`DELETE FROM ${this.ctx.n.table('WebhookRejections')} WHERE [ReceivedAt] < ${ts(cutoff)};
SELECT @@ROWCOUNT AS deleted;`,
    );
    return toNumber(row?.deleted ?? 0);
  }
}
