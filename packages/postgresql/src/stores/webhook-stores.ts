import { SqlWebhookRejectionStore, SqlWebhookReplayStore } from '@floworch/sql';
import { type PgContext, pgLayer } from '../sql/context.js';

/** PostgreSQL `WebhookReplayStore`: the shared SQL implementation (insert-if-absent per nonce). */
export class PgWebhookReplayStore extends SqlWebhookReplayStore {
  /** @param ctx shared connection, schema and clock */
  constructor(ctx: PgContext) {
    super(pgLayer(ctx));
  }
}

/** PostgreSQL `WebhookRejectionStore`: the shared SQL implementation. */
export class PgWebhookRejectionStore extends SqlWebhookRejectionStore {
  /** @param ctx shared connection, schema and clock */
  constructor(ctx: PgContext) {
    super(pgLayer(ctx));
  }
}
