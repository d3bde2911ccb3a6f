import { SqlOutputs } from '@floworch/sql';
import { type SqlContext, sqlLayer } from '../sql/context.js';

/**
 * SQL Server `OutputsRepository` and `FlowEventReader` (`FlowOutputs` as JSON text, `FlowEvents`
 * with a global identity sequence): the shared SQL implementation.
 */
export class SqlServerOutputs extends SqlOutputs {
  /** @param ctx connection, names and clock */
  constructor(ctx: SqlContext) {
    super(sqlLayer(ctx));
  }
}
