import { ManualClock } from '@floworch/core';
import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../src/connection/connection-string.js';
import { createSqlServerDialect } from '../../src/connection/dialect.js';
import { migrate, SCHEMA_VERSION } from '../../src/schema/migrator.js';
import { KEY_COLUMNS } from '../../src/schema/tables.js';
import { SqlNames, TABLES } from '../../src/sql/names.js';
import { createSqlServerStorage } from '../../src/storage.js';
import { dropSchema } from './server.js';

const CI = 'SQL_Latin1_General_CP1_CI_AS';

/** The parts of a reference 1.26 schema that this release changes, with case-insensitive keys. */
function reference126(schema: string): string[] {
  const t = (name: string) => `[${schema}].[${name}]`;
  return [
    `CREATE SCHEMA [${schema}]`,
    `CREATE TABLE ${t('FlowRuns')} ([Id] UNIQUEIDENTIFIER NOT NULL PRIMARY KEY, [FlowId] UNIQUEIDENTIFIER NOT NULL,
      [FlowName] NVARCHAR(256) NULL, [Status] NVARCHAR(64) NOT NULL, [TriggerKey] NVARCHAR(256) NULL,
      [TriggerDataJson] NVARCHAR(MAX) NULL, [BackgroundJobId] NVARCHAR(128) NULL,
      [StartedAt] DATETIMEOFFSET NOT NULL DEFAULT SYSDATETIMEOFFSET(), [CompletedAt] DATETIMEOFFSET NULL,
      [SourceRunId] UNIQUEIDENTIFIER NULL)`,
    `CREATE TABLE ${t('FlowSteps')} ([RunId] UNIQUEIDENTIFIER NOT NULL, [StepKey] NVARCHAR(256) COLLATE ${CI} NOT NULL,
      [StepType] NVARCHAR(256) NOT NULL, [Status] NVARCHAR(64) NOT NULL, [InputJson] NVARCHAR(MAX) NULL,
      [OutputJson] NVARCHAR(MAX) NULL, [ErrorMessage] NVARCHAR(MAX) NULL, [JobId] NVARCHAR(128) NULL,
      [StartedAt] DATETIMEOFFSET NOT NULL DEFAULT SYSDATETIMEOFFSET(), [CompletedAt] DATETIMEOFFSET NULL,
      [EvaluationTraceJson] NVARCHAR(MAX) NULL, CONSTRAINT [PK_FlowSteps] PRIMARY KEY ([RunId], [StepKey]))`,
    `CREATE INDEX [IX_FlowSteps_StepKey_RunId] ON ${t('FlowSteps')} ([StepKey], [RunId])`,
    `CREATE TABLE ${t('FlowStepClaims')} ([RunId] UNIQUEIDENTIFIER NOT NULL, [StepKey] NVARCHAR(256) COLLATE ${CI} NOT NULL,
      [ClaimedAt] DATETIMEOFFSET NOT NULL DEFAULT SYSDATETIMEOFFSET(), PRIMARY KEY ([RunId], [StepKey]))`,
    `CREATE TABLE ${t('FlowRunControls')} ([RunId] UNIQUEIDENTIFIER NOT NULL PRIMARY KEY,
      [FlowId] UNIQUEIDENTIFIER NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
      [TriggerKey] NVARCHAR(256) NOT NULL DEFAULT '', [IdempotencyKey] NVARCHAR(256) NULL,
      [TimeoutAtUtc] DATETIMEOFFSET NULL, [CancelRequested] BIT NOT NULL DEFAULT 0, [CancelReason] NVARCHAR(MAX) NULL,
      [CancelRequestedAtUtc] DATETIMEOFFSET NULL, [TimedOutAtUtc] DATETIMEOFFSET NULL)`,
    `CREATE TABLE ${t('FlowSignalWaiters')} ([RunId] UNIQUEIDENTIFIER NOT NULL, [StepKey] NVARCHAR(256) COLLATE ${CI} NOT NULL,
      [SignalName] NVARCHAR(256) COLLATE ${CI} NOT NULL, [CreatedAt] DATETIMEOFFSET NOT NULL DEFAULT SYSDATETIMEOFFSET(),
      [ExpiresAt] DATETIMEOFFSET NULL, [DeliveredAt] DATETIMEOFFSET NULL, [PayloadJson] NVARCHAR(MAX) NULL,
      PRIMARY KEY ([RunId], [StepKey]))`,
    `CREATE INDEX [IX_FlowSignalWaiters_RunId_SignalName] ON ${t('FlowSignalWaiters')} ([RunId], [SignalName])`,
  ];
}

/** Migration behaviour against a real server: fresh install, re-run, concurrent runs, upgrades. */
export function defineMigrationChecks(url: string, admin: Kysely<unknown>, newSchema: () => string): void {
  describe('sqlserver migrations', () => {
    it('migrating twice creates every table once and leaves the version at current', async () => {
      const schema = newSchema();
      const n = new SqlNames(schema);
      try {
        expect((await migrate(admin, n, new Date())).toVersion).toBe(SCHEMA_VERSION);
        expect(await migrate(admin, n, new Date())).toEqual({
          fromVersion: SCHEMA_VERSION,
          toVersion: SCHEMA_VERSION,
        });
        const rows = await sql<{
          name: string;
        }>`SELECT t.name FROM sys.tables t WHERE t.schema_id = SCHEMA_ID(${schema});`.execute(admin);
        expect(rows.rows.map((r) => r.name).sort()).toEqual([...TABLES].sort());
      } finally {
        await dropSchema(admin, schema);
      }
    }, 120_000);

    it('five migrators on separate pools at once all succeed (sp_getapplock)', async () => {
      const schema = newSchema();
      const { Kysely } = await import('kysely');
      const pools = Array.from(
        { length: 5 },
        () =>
          new Kysely<unknown>({ dialect: createSqlServerDialect(parseConnectionString(url), { max: 1 }) }),
      );
      try {
        const results = await Promise.all(pools.map((db) => migrate(db, new SqlNames(schema), new Date())));
        expect(results.every((r) => r.toVersion === SCHEMA_VERSION)).toBe(true);
      } finally {
        for (const db of pools) await db.destroy();
        await dropSchema(admin, schema);
      }
    }, 180_000);

    it('upgrading a version-1 ledger backfills VisibleAt once (unfinished steps of Running runs due at DispatchedAt)', async () => {
      const schema = newSchema();
      const n = new SqlNames(schema);
      const t = (name: (typeof TABLES)[number]) => sql.raw(n.text(name));
      const running = '21111111-2222-4333-8444-555555555555';
      const closed = '31111111-2222-4333-8444-555555555555';
      const dispatched = new Date(Date.UTC(2030, 5, 1, 12, 0, 0, 123));
      try {
        await migrate(admin, n, new Date());
        // Back to the version-1 shape: no queue columns, no queue index, version row 1.
        const ledger = n.text('FlowStepDispatches');
        await sql.raw(`DROP INDEX [IX_FlowStepDispatches_VisibleAt] ON ${ledger};`).execute(admin);
        await sql
          .raw(`ALTER TABLE ${ledger} DROP CONSTRAINT [DF_FlowStepDispatches_Attempt];`)
          .execute(admin);
        await sql.raw(`ALTER TABLE ${ledger} DROP COLUMN [VisibleAt], [Attempt];`).execute(admin);
        await sql`DELETE FROM ${t('FlowSchemaVersion')};
INSERT INTO ${t('FlowSchemaVersion')} ([Version], [Description], [AppliedAt]) VALUES (1, N'v1', CONVERT(DATETIMEOFFSET(7), ${dispatched.toISOString()}, 127));`.execute(
          admin,
        );
        for (const [run, status] of [
          [running, 'Running'],
          [closed, 'Failed'],
        ] as const) {
          await sql`INSERT INTO ${t('FlowRuns')} ([Id], [FlowId], [Status], [StartedAt]) VALUES (${run}, ${run}, ${status}, CONVERT(DATETIMEOFFSET(7), ${dispatched.toISOString()}, 127));`.execute(
            admin,
          );
        }
        const steps: Array<[string, string, string | null]> = [
          [running, 'done', 'Succeeded'],
          [running, 'busy', 'Running'],
          [running, 'parked', 'Pending'],
          [running, 'queued', null],
          [closed, 'busy', 'Running'],
        ];
        for (const [run, stepKey, status] of steps) {
          if (status !== null) {
            await sql`INSERT INTO ${t('FlowSteps')} ([RunId], [StepKey], [StepType], [Status], [StartedAt]) VALUES (${run}, ${stepKey}, N'Work', ${status}, CONVERT(DATETIMEOFFSET(7), ${dispatched.toISOString()}, 127));`.execute(
              admin,
            );
          }
          await sql`INSERT INTO ${t('FlowStepDispatches')} ([RunId], [StepKey], [DispatchedAt]) VALUES (${run}, ${stepKey}, CONVERT(DATETIMEOFFSET(7), ${dispatched.toISOString()}, 127));`.execute(
            admin,
          );
        }

        expect(await migrate(admin, n, new Date())).toEqual({
          fromVersion: 1,
          toVersion: SCHEMA_VERSION,
        });
        const read = async () =>
          (
            await sql<{ RunId: string; StepKey: string; VisibleAt: Date | null; Attempt: number }>`
SELECT [RunId], [StepKey], [VisibleAt], [Attempt] FROM ${t('FlowStepDispatches')};`.execute(admin)
          ).rows.map((r) => [
            `${String(r.RunId).toLowerCase() === running ? 'running' : 'closed'}/${r.StepKey}`,
            r.VisibleAt === null ? null : new Date(r.VisibleAt).getTime(),
            r.Attempt,
          ]);
        const at = dispatched.getTime();
        expect((await read()).sort()).toEqual(
          [
            ['closed/busy', null, 1],
            ['running/busy', at, 1],
            ['running/done', null, 1],
            ['running/parked', at, 1],
            ['running/queued', at, 1],
          ].sort(),
        );
        // Once: a second migration leaves rows the queue has since cleared alone.
        await sql`UPDATE ${t('FlowStepDispatches')} SET [VisibleAt] = NULL;`.execute(admin);
        expect((await migrate(admin, n, new Date())).fromVersion).toBe(SCHEMA_VERSION);
        expect((await read()).every(([, visible]) => visible === null)).toBe(true);
      } finally {
        await dropSchema(admin, schema);
      }
    }, 180_000);

    it('upgrades a 1.26-shaped schema without data loss, with binary key collations afterwards', async () => {
      const schema = newSchema();
      const run = '11111111-2222-4333-8444-555555555555';
      try {
        for (const statement of reference126(schema)) await sql.raw(statement).execute(admin);
        const t = (name: string) => sql.raw(`[${schema}].[${name}]`);
        await sql`INSERT INTO ${t('FlowRuns')} ([Id], [FlowId], [Status]) VALUES (${run}, ${run}, N'Running');`.execute(
          admin,
        );
        await sql`INSERT INTO ${t('FlowSteps')} ([RunId], [StepKey], [StepType], [Status]) VALUES (${run}, N'Fetch', N'Work', N'Succeeded');`.execute(
          admin,
        );
        await sql`INSERT INTO ${t('FlowStepClaims')} ([RunId], [StepKey]) VALUES (${run}, N'Fetch');`.execute(
          admin,
        );
        await sql`INSERT INTO ${t('FlowRunControls')} ([RunId]) VALUES (${run});`.execute(admin);
        await sql`INSERT INTO ${t('FlowSignalWaiters')} ([RunId], [StepKey], [SignalName]) VALUES (${run}, N'Wait', N'go');`.execute(
          admin,
        );

        const clock = new ManualClock(Date.UTC(2031, 0, 1));
        const storage = await createSqlServerStorage({ connectionString: url, schema, clock });
        try {
          expect(storage.migration).toEqual({ fromVersion: 0, toVersion: SCHEMA_VERSION });
          const detail = await storage.runs.getRunDetail(run);
          expect(detail!.steps!.map((s) => s.stepKey)).toEqual(['Fetch']);
          expect(await storage.runtime.getStepClaim(run, 'Fetch')).toMatchObject({
            owner: '',
            leaseExpiresAt: null,
          });
          expect(await storage.control.getRunControl(run)).not.toBeNull();
          expect((await storage.signals.getWaiter(run, 'Wait'))!.signalName).toBe('go');
          // Case-sensitive now: 'fetch' is a different step.
          await storage.runs.recordStepStart({ runId: run, stepKey: 'fetch', stepType: 'Work' });
          expect([...(await storage.runtime.getStepStatuses(run)).keys()].sort()).toEqual(['Fetch', 'fetch']);
          const collations = await sql<{ t: string; c: string; collation_name: string }>`
SELECT OBJECT_NAME(c.object_id) AS t, c.name AS c, c.collation_name FROM sys.columns c
JOIN sys.tables tb ON tb.object_id = c.object_id WHERE tb.schema_id = SCHEMA_ID(${schema}) AND c.collation_name IS NOT NULL;`.execute(
            admin,
          );
          for (const { table, column } of KEY_COLUMNS) {
            const found = collations.rows.find((r) => r.t === table && r.c === column);
            expect(found?.collation_name, `${table}.${column}`).toBe('Latin1_General_100_BIN2');
          }
        } finally {
          await storage.close();
        }
      } finally {
        await dropSchema(admin, schema);
      }
    }, 180_000);
  });
}
