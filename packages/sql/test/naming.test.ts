import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  LOGICAL_COLUMNS,
  type LogicalDatabase,
  NamingPlugin,
  postgresNames,
  sqlServerNames,
  sqlServerQueryDb,
} from '../src/index.js';

function postgresDb(): Kysely<LogicalDatabase> {
  return new Kysely<LogicalDatabase>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    plugins: [new NamingPlugin(postgresNames('floworch'))],
  });
}

function sqlServerDb(): Kysely<LogicalDatabase> {
  // Only compiled here, so the executor behind it is never called.
  return sqlServerQueryDb(postgresDb() as unknown as Kysely<unknown>, 'flows');
}

describe('naming plugins', () => {
  it('spell logical names snake_case on PostgreSQL, qualified with the schema', () => {
    const q = postgresDb()
      .selectFrom('flowRunControls as c')
      .innerJoin('flowRuns as r', 'r.id', 'c.runId')
      .select(['c.runId', 'r.flowId', 'c.controlCreatedAt as ctlCreatedAt'])
      .where('c.timeoutAtUtc', '<=', new Date(0))
      .compile();
    expect(q.sql).toBe(
      'select "c"."run_id", "r"."flow_id", "c"."created_at_utc" as "ctlCreatedAt" from "floworch"."flow_run_controls" as "c" inner join "floworch"."flow_runs" as "r" on "r"."id" = "c"."run_id" where "c"."timeout_at_utc" <= $1',
    );
  });

  it('spell logical names PascalCase in brackets on SQL Server, with the exceptions', () => {
    const q = sqlServerDb()
      .selectFrom('flowEvents')
      .select(['sequence', 'timestampUtc'])
      .where('runId', '=', 'x')
      .orderBy('sequence')
      .offset(0)
      .fetch(5)
      .compile();
    expect(q.sql).toBe(
      'select [Sequence], [Timestamp] from [flows].[FlowEvents] where [RunId] = @1 order by [Sequence] offset @2 rows fetch next @3 rows only;',
    );
    const raw = sql`select ${sql.ref('registrationSeq')} from ${sql.table('flowSignalWaiters')}`.compile(
      sqlServerDb(),
    );
    expect(raw.sql).toBe('select [RegisteredSeq] from [flows].[FlowSignalWaiters];');
  });

  it('map every physical result column back to one logical name', async () => {
    const plugin = new NamingPlugin(sqlServerNames('dbo'));
    const result = await plugin.transformResult({
      queryId: { queryId: 'q' },
      result: { rows: [{ FlowId: 'f', Timestamp: 't', CreatedAt: 'c', total: 3 }] },
    });
    expect(result.rows[0]).toEqual({ flowId: 'f', timestampUtc: 't', createdAt: 'c', total: 3 });
  });

  it('cover every logical column in both spellings without collisions inside a table', () => {
    for (const names of [postgresNames(), sqlServerNames()]) {
      for (const columns of Object.values(LOGICAL_COLUMNS)) {
        const physical = columns.map((c) => names.names.get(c));
        expect(new Set(physical).size).toBe(columns.length);
      }
    }
  });
});
