import { SqlScheduleStore } from '@floworch/sql';
import { type PgContext, pgLayer } from '../sql/context.js';

/** PostgreSQL `FlowScheduleStateStore`: the shared SQL implementation. */
export class PgScheduleStore extends SqlScheduleStore {
  /** @param ctx shared connection, schema and clock */
  constructor(ctx: PgContext) {
    super(pgLayer(ctx));
  }
}
