import { SqlFlowStore } from '@floworch/sql';
import { type PgContext, pgLayer } from '../sql/context.js';

/** PostgreSQL `FlowStore` over `flow_definitions`: the shared SQL implementation. */
export class PgFlowStore extends SqlFlowStore {
  /** @param ctx shared connection, schema and clock */
  constructor(ctx: PgContext) {
    super(pgLayer(ctx));
  }
}
