import { SqlWebhookRejectionStore, SqlWebhookReplayStore } from '@floworch/sql';
import { type SqlContext, sqlLayer } from '../sql/context.js';

/** SQL Server `WebhookReplayStore` (nonces compare in binary): the shared SQL implementation. */
export class SqlServerWebhookReplayStore extends SqlWebhookReplayStore {
  /** @param ctx connection, names and clock */
  constructor(ctx: SqlContext) {
    super(sqlLayer(ctx));
  }
}

/** SQL Server `WebhookRejectionStore` (append-only, identity ids): the shared SQL implementation. */
export class SqlServerWebhookRejectionStore extends SqlWebhookRejectionStore {
  /** @param ctx connection, names and clock */
  constructor(ctx: SqlContext) {
    super(sqlLayer(ctx));
  }
}
