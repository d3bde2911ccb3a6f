import { InvalidArgumentError, StorageError } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import {
  applockBatch,
  migrate,
  migrationBatches,
  QUEUE_SCHEMA_VERSION,
  queueBackfillBatch,
  SCHEMA_VERSION,
} from '../src/schema/migrator.js';
import { KEY_COLUMNS, tableDefinitions } from '../src/schema/tables.js';
import { SqlNames, TABLES } from '../src/sql/names.js';
import { recordingDb } from './support/recording-db.js';

const n = new SqlNames('floworch');

describe('schema and migrator', () => {
  it('creates the reference table set plus the schema-version table, each behind an existence guard', () => {
    const names = tableDefinitions(n).map((t) => t.table);
    expect(names).toEqual([...TABLES]);
    for (const table of [
      'FlowDefinitions',
      'FlowRuns',
      'FlowSteps',
      'FlowStepAttempts',
      'FlowOutputs',
      'FlowStepDispatches',
      'FlowStepClaims',
      'FlowRunControls',
      'FlowIdempotencyKeys',
      'FlowEvents',
      'FlowSignalWaiters',
      'FlowScheduleStates',
      'WebhookReplayNonces',
      'WebhookRejections',
    ]) {
      expect(names).toContain(table);
    }
    const creates = migrationBatches(n).filter((b) => b.label.startsWith('create table'));
    for (const batch of creates)
      expect(batch.sql).toMatch(/^IF OBJECT_ID\(N'\[floworch\]\.\[\w+\]', N'U'\) IS NULL/);
  });

  it('declares every key column with the binary collation (case-sensitive keys)', () => {
    const ddl = tableDefinitions(n)
      .map((t) => t.ddl)
      .join('\n');
    for (const { table, column } of KEY_COLUMNS) {
      const body = tableDefinitions(n).find((t) => t.table === table)!.ddl;
      expect(body, `${table}.${column}`).toMatch(
        new RegExp(`\\[${column}\\] NVARCHAR\\(256\\) COLLATE Latin1_General_100_BIN2`),
      );
    }
    expect(ddl).toMatch(/\[Owner\] NVARCHAR\(256\) COLLATE Latin1_General_100_BIN2/);
    // Every key column listed for the upgrade path is re-collated by its own batch.
    const collations = migrationBatches(n).filter((b) => b.label.startsWith('binary collation'));
    expect(collations).toHaveLength(KEY_COLUMNS.length);
  });

  it('adds columns of later releases (1.17 SourceRunId/trace, leases, control CreatedAt, waiter order) idempotently', () => {
    const adds = migrationBatches(n).filter((b) => b.label.startsWith('add column'));
    const labels = adds.map((b) => b.label);
    for (const col of [
      'FlowRuns.SourceRunId',
      'FlowSteps.EvaluationTraceJson',
      'FlowStepAttempts.EvaluationTraceJson',
      'FlowStepClaims.Owner',
      'FlowStepClaims.LeaseExpiresAt',
      'FlowRunControls.CreatedAt',
      'FlowSignalWaiters.RegisteredSeq',
    ]) {
      expect(labels).toContain(`add column ${col}`);
    }
    for (const b of adds) expect(b.sql).toMatch(/^IF COL_LENGTH\(/);
  });

  it('schema 2: the dispatch ledger is the step queue (VisibleAt, Attempt, filtered index), fresh and upgraded', () => {
    expect(SCHEMA_VERSION).toBe(2);
    expect(QUEUE_SCHEMA_VERSION).toBe(2);
    const ledger = tableDefinitions(n).find((t) => t.table === 'FlowStepDispatches')!.ddl;
    expect(ledger).toContain('[VisibleAt] DATETIMEOFFSET(7) NULL');
    expect(ledger).toContain('[Attempt] INT NOT NULL CONSTRAINT [DF_FlowStepDispatches_Attempt] DEFAULT (1)');
    const batches = migrationBatches(n);
    const labels = batches.map((b) => b.label);
    expect(labels).toContain('add column FlowStepDispatches.VisibleAt');
    expect(labels).toContain('add column FlowStepDispatches.Attempt');
    const add = batches.find((b) => b.label === 'add column FlowStepDispatches.Attempt')!;
    expect(add.sql).toMatch(/^IF COL_LENGTH\(N'\[floworch\]\.\[FlowStepDispatches\]', N'Attempt'\) IS NULL/);
    expect(add.sql).toContain('INT NOT NULL CONSTRAINT [DF_FlowStepDispatches_Attempt] DEFAULT (1)');
    const index = batches.find((b) => b.label === 'create index IX_FlowStepDispatches_VisibleAt')!;
    expect(index.sql).toContain(
      '([VisibleAt], [RunId], [StepKey]) INCLUDE ([Attempt]) WHERE [VisibleAt] IS NOT NULL',
    );
  });

  it('backfills VisibleAt once: unfinished steps of Running runs due at their dispatch time, the rest out of the queue', () => {
    const batches = migrationBatches(n);
    const backfill = batches.findIndex((b) => b.label === 'backfill FlowStepDispatches.VisibleAt');
    expect(batches[backfill]).toEqual(queueBackfillBatch(n));
    const sqlText = batches[backfill]!.sql;
    // Guarded by the version table: runs only in the migration that writes version 2.
    expect(sqlText).toMatch(
      /^IF NOT EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowSchemaVersion\] WHERE \[Version\] >= 2\)/,
    );
    // Dynamic SQL: the column may have been added by an earlier batch of the same migration.
    expect(sqlText).toMatch(/EXEC sys\.sp_executesql N'UPDATE d SET \[VisibleAt\] = CASE WHEN /);
    expect(sqlText).toContain("CASE WHEN r.[Status] = N''Running'' AND NOT EXISTS");
    expect(sqlText).toContain("s.[Status] IN (N''Succeeded'', N''Failed'', N''Skipped'')");
    expect(sqlText).toContain('THEN d.[DispatchedAt] ELSE NULL END');
    expect(sqlText).toContain('LEFT JOIN [floworch].[FlowRuns] AS r ON r.[Id] = d.[RunId]');
    // After the columns exist and every key column is re-collated (the join compares step keys).
    const last = (prefix: string) => batches.map((b) => b.label.startsWith(prefix)).lastIndexOf(true);
    expect(backfill).toBeGreaterThan(last('add column'));
    expect(backfill).toBeGreaterThan(last('binary collation'));
    expect(backfill).toBeLessThan(batches.findIndex((b) => b.label.startsWith('create index')));
  });

  it('creates indexes through sp_executesql so a batch compiles before a new column exists (the 1.17 trap)', () => {
    const indexes = migrationBatches(n).filter((b) => b.label.startsWith('create index'));
    expect(indexes.length).toBeGreaterThan(10);
    for (const b of indexes)
      expect(b.sql).toMatch(
        /IF NOT EXISTS \(SELECT 1 FROM sys\.indexes[\s\S]+EXEC sys\.sp_executesql N'CREATE INDEX/,
      );
    const source = indexes.find((b) => b.label.includes('IX_FlowRuns_SourceRunId'))!;
    expect(source.sql).toContain('WHERE [SourceRunId] IS NOT NULL');
  });

  it('serialises migrators with sp_getapplock owned by the transaction', () => {
    const lock = applockBatch(n).sql;
    expect(lock).toContain("sys.sp_getapplock @Resource = N'floworch:migrate:floworch'");
    expect(lock).toContain("@LockOwner = N'Transaction'");
    expect(lock).toMatch(/IF @result < 0 THROW/);
  });

  it('runs lock, version probe, every batch and the version row inside one transaction', async () => {
    const { db, log } = recordingDb(() => [{ v: null }]);
    const result = await migrate(db, n, new Date('2031-01-01T00:00:00Z'));
    expect(result).toEqual({ fromVersion: 0, toVersion: SCHEMA_VERSION });
    expect(log[0]!.sql).toBe('<driver: begin transaction>');
    expect(log[1]!.sql).toContain('sp_getapplock');
    expect(log.at(-1)!.sql).toBe('<driver: commit>');
    expect(log.at(-2)!.sql).toContain('INSERT INTO [floworch].[FlowSchemaVersion]');
    expect(log.length).toBe(migrationBatches(n).length + 5);
  });

  it('upgrades a version-1 database: the version row 2 is written in the same transaction as the backfill', async () => {
    const { db, log } = recordingDb(() => [{ v: 1 }]);
    expect(await migrate(db, n, new Date('2031-01-01T00:00:00Z'))).toEqual({ fromVersion: 1, toVersion: 2 });
    const backfill = log.findIndex((s) => s.sql.includes('UPDATE d SET [VisibleAt]'));
    const version = log.findIndex((s) => s.sql.includes('INSERT INTO [floworch].[FlowSchemaVersion]'));
    expect(backfill).toBeGreaterThan(0);
    expect(version).toBeGreaterThan(backfill);
    expect(log[version]!.parameters[0]).toBe(2);
    expect(log.at(-1)!.sql).toBe('<driver: commit>');
  });

  it('refuses a schema newer than this release, rolling back', async () => {
    const { db, log } = recordingDb((s) => (/MAX\(\[Version\]\)/.test(s.sql) ? [{ v: 99 }] : [{ v: 1 }]));
    await expect(migrate(db, n, new Date())).rejects.toBeInstanceOf(StorageError);
    expect(log.at(-1)!.sql).toBe('<driver: rollback>');
  });

  it('names the failing step when a batch fails', async () => {
    const { db } = recordingDb((s) =>
      s.sql.includes('CREATE TABLE [floworch].[FlowRuns]') ? new Error('boom') : [{ v: null }],
    );
    await expect(migrate(db, n, new Date())).rejects.toThrow(/'create table FlowRuns' failed: boom/);
  });

  it('accepts only plain identifiers as schema names', () => {
    expect(new SqlNames('tenant_01').text('FlowRuns')).toBe('[tenant_01].[FlowRuns]');
    for (const bad of ['', 'a]b', 'x;DROP', '1abc', 'a b', 'a'.repeat(129)]) {
      expect(() => new SqlNames(bad)).toThrow(InvalidArgumentError);
    }
  });
});
