import { SqlScheduleStore } from '@floworch/sql';
import { type SqlContext, sqlLayer } from '../sql/context.js';

/** SQL Server `FlowScheduleStateStore` (job ids in binary collation): the shared SQL implementation. */
export class SqlServerScheduleStore extends SqlScheduleStore {
  /** @param ctx connection, names and clock */
  constructor(ctx: SqlContext) {
    super(sqlLayer(ctx));
  }
}
