import {
  clampWebhookPage,
  truncateReason,
  type WebhookRejectionInput,
  type WebhookRejectionPage,
  type WebhookRejectionQuery,
  type WebhookRejectionRecord,
  type WebhookRejectionStore,
  type WebhookReplayStore,
} from '@floworch/core/backend';
import { type Expression, type Selectable, type SqlBool, sql } from 'kysely';
import type { WebhookRejectionsTable } from '../schema.js';
import type { SqlLayer } from '../traits.js';
import { toBool, toDate, toNumber, toUuidOrNull } from '../values.js';
import { insertIfAbsent } from '../writes.js';

/** {@link WebhookReplayStore} over `webhookReplayNonces`: one insert-if-absent per nonce. */
export class SqlWebhookReplayStore implements WebhookReplayStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(private readonly layer: SqlLayer) {}

  async tryRegister(flowId: string, triggerKey: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const { traits } = this.layer;
    const key = {
      flowId: traits.id(flowId, 'flowId'),
      triggerKey: traits.key(triggerKey, 'triggerKey'),
      nonce: traits.key(nonce, 'nonce'),
    };
    // An expired row not purged yet still counts as a replay: existence alone decides.
    return this.layer.run('webhookReplay.tryRegister', () =>
      insertIfAbsent(this.layer, 'webhookReplayNonces', key, { expiresAt: traits.instant(expiresAt) }),
    );
  }

  async purgeExpired(now?: Date): Promise<number> {
    const cutoff = this.layer.traits.instant(now ?? this.layer.now());
    const result = await this.layer.run('webhookReplay.purgeExpired', () =>
      this.layer.db.deleteFrom('webhookReplayNonces').where('expiresAt', '<=', cutoff).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}

function record(row: Selectable<WebhookRejectionsTable>): WebhookRejectionRecord {
  return {
    id: toNumber(row.id),
    flowId: toUuidOrNull(row.flowId),
    triggerKey: row.triggerKey,
    receivedAt: toDate(row.receivedAt),
    remoteIp: row.remoteIp,
    reason: row.reason,
    statusCode: toNumber(row.statusCode),
    bodyBytes: toNumber(row.bodyBytes),
    bodyTruncated: row.bodyTruncated,
    headersJson: row.headersJson,
    scheme: row.scheme,
    processingMs: row.processingMs === null ? null : toNumber(row.processingMs),
    isAccepted: toBool(row.isAccepted),
  };
}

/** {@link WebhookRejectionStore} over `webhookRejections`: the append-only webhook audit log. */
export class SqlWebhookRejectionStore implements WebhookRejectionStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(private readonly layer: SqlLayer) {}

  async write(input: WebhookRejectionInput): Promise<WebhookRejectionRecord> {
    const { db, traits } = this.layer;
    const flowId = input.flowId ? traits.id(input.flowId, 'flowId') : null;
    return this.layer.run('webhookRejections.write', async () => {
      const insert = db.insertInto('webhookRejections').values({
        flowId,
        triggerKey: input.triggerKey ?? null,
        receivedAt: traits.instant(input.receivedAt),
        remoteIp: input.remoteIp ?? null,
        reason: truncateReason(input.reason ?? ''),
        statusCode: Math.trunc(input.statusCode),
        bodyBytes: Math.trunc(input.bodyBytes),
        bodyTruncated: input.bodyTruncated ?? null,
        headersJson: input.headersJson ?? null,
        scheme: input.scheme ?? null,
        processingMs: input.processingMs ?? null,
        isAccepted: input.isAccepted === true,
      });
      const row = await (traits.dialect === 'mssql'
        ? insert.outputAll('inserted').executeTakeFirstOrThrow()
        : insert.returningAll().executeTakeFirstOrThrow());
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
    // The guard clamps `query`'s page only, not this older positional form.
    const page = await this.query({
      flowId,
      reason,
      includeAccepted,
      includeRejected: true,
      ...clampWebhookPage(skip, take),
    });
    return [...page.items];
  }

  async query(query: WebhookRejectionQuery): Promise<WebhookRejectionPage> {
    const { db, traits } = this.layer;
    // The storage guard has clamped the page (take >= 1).
    const { skip = 0, take = 1 } = query;
    const includeAccepted = query.includeAccepted ?? true;
    const includeRejected = query.includeRejected ?? true;
    if (!includeAccepted && !includeRejected) return { items: [], total: 0 };
    const flowId = query.flowId ? traits.id(query.flowId, 'flowId') : null;
    return this.layer.run('webhookRejections.query', async () => {
      const filtered = db.selectFrom('webhookRejections').where((eb) => {
        const all: Expression<SqlBool>[] = [];
        if (flowId) all.push(eb('flowId', '=', flowId));
        const reason = query.reason?.trim();
        if (reason) all.push(traits.equalsIgnoringCase('reason', reason));
        if (!includeAccepted) all.push(eb('isAccepted', '=', false));
        if (!includeRejected) all.push(eb('isAccepted', '=', true));
        const search = query.search?.trim();
        if (search) {
          all.push(
            eb.or([
              traits.containsIgnoringCase('reason', search),
              traits.containsIgnoringCase('triggerKey', search),
              traits.containsIgnoringCase('remoteIp', search),
            ]),
          );
        }
        return eb.and(all);
      });
      const count = await filtered.select((eb) => eb.fn.countAll().as('total')).executeTakeFirstOrThrow();
      const total = toNumber(count.total);
      // A page past the end is answered without fetching rows.
      if (skip >= total) return { items: [], total };
      const rows = await filtered.selectAll().orderBy('id', 'desc').offset(skip).fetch(take).execute();
      return { items: rows.map(record), total };
    });
  }

  async countsByReason(windowMs: number): Promise<Record<string, number>> {
    const { db, traits } = this.layer;
    const since = traits.instant(new Date(this.layer.now().getTime() - windowMs));
    return this.layer.run('webhookRejections.countsByReason', async () => {
      const lowered = sql<string>`lower(${sql.ref('reason')})`;
      const rows = await db
        .selectFrom('webhookRejections')
        .select([lowered.as('reason'), (eb) => eb.fn.countAll().as('n')])
        .where('isAccepted', '=', false)
        .where('reason', '<>', '')
        .where('receivedAt', '>=', since)
        .groupBy(lowered)
        .execute();
      // Lower-cased again in JS and summed, so keys follow JS case rules whatever the collation.
      const counts: Record<string, number> = {};
      for (const r of rows) {
        const k = r.reason.toLowerCase();
        counts[k] = (counts[k] ?? 0) + toNumber(r.n);
      }
      return counts;
    });
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const before = this.layer.traits.instant(cutoff);
    const result = await this.layer.run('webhookRejections.purgeOlderThan', () =>
      this.layer.db.deleteFrom('webhookRejections').where('receivedAt', '<', before).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}
