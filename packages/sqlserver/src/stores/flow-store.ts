import { SqlFlowStore } from '@floworch/sql';
import { type SqlContext, sqlLayer } from '../sql/context.js';

/** SQL Server `FlowStore` over `FlowDefinitions`: the shared SQL implementation. */
export class SqlServerFlowStore extends SqlFlowStore {
  /** @param ctx connection, names and clock */
  constructor(ctx: SqlContext) {
    super(sqlLayer(ctx));
  }
}
