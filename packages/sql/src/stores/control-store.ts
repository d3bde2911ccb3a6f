import {
  type ConfigureRunInput,
  type FlowRunControlRecord,
  type FlowRunControlStore,
  normalizeIdempotencyPart,
  type OverdueRun,
} from '@floworch/core/backend';
import { sql } from 'kysely';
import type { SqlLayer } from '../traits.js';
import { toBool, toDate, toDateOrNull, toUuid } from '../values.js';
import { insertIfAbsent, upsertReturning } from '../writes.js';

/**
 * {@link FlowRunControlStore} over `flowRunControls` and `flowIdempotencyKeys`. Cancel and timeout
 * create a missing control row and flip it in one guarded step whose spelling differs between
 * the databases, so each backend supplies {@link SqlControlStore.requestCancel} and
 * {@link SqlControlStore.markTimedOut}; everything else is written once here.
 */
export abstract class SqlControlStore implements FlowRunControlStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(protected readonly layer: SqlLayer) {}

  async configureRun(input: ConfigureRunInput): Promise<void> {
    const { traits } = this.layer;
    const runId = traits.id(input.runId, 'runId');
    const flowId = traits.id(input.flowId, 'flowId');
    // Cancel and timeout state survive re-configuration.
    await this.layer.run('control.configureRun', () =>
      upsertReturning(
        this.layer,
        'flowRunControls',
        { runId },
        {
          flowId,
          triggerKey: input.triggerKey,
          idempotencyKey: input.idempotencyKey?.trim() || null,
          timeoutAtUtc: input.timeoutAt ? traits.instant(input.timeoutAt) : null,
          cancelRequested: false,
          controlCreatedAt: traits.instant(this.layer.now()),
        },
        ['flowId', 'triggerKey', 'idempotencyKey', 'timeoutAtUtc'],
      ),
    );
  }

  async getRunControl(runId: string): Promise<FlowRunControlRecord | null> {
    const run = this.layer.traits.id(runId, 'runId');
    return this.layer.run('control.getRunControl', async () => {
      const row = await this.layer.db
        .selectFrom('flowRunControls')
        .select([
          'runId',
          'flowId',
          'triggerKey',
          'idempotencyKey',
          // Spelled like another table's column in each database, so it comes back under its own alias.
          'controlCreatedAt as ctlCreatedAt',
          'timeoutAtUtc',
          'cancelRequested',
          'cancelReason',
          'cancelRequestedAtUtc',
          'timedOutAtUtc',
        ])
        .where('runId', '=', run)
        .executeTakeFirst();
      if (!row) return null;
      return {
        runId: toUuid(row.runId),
        flowId: toUuid(row.flowId),
        triggerKey: row.triggerKey,
        idempotencyKey: row.idempotencyKey,
        createdAt: toDate(row.ctlCreatedAt),
        timeoutAt: toDateOrNull(row.timeoutAtUtc),
        cancelRequested: toBool(row.cancelRequested),
        cancelReason: row.cancelReason,
        cancelRequestedAt: toDateOrNull(row.cancelRequestedAtUtc),
        timedOutAt: toDateOrNull(row.timedOutAtUtc),
      };
    });
  }

  /** Sets the cancel flag (creating the control row if missing); true when this call set it. */
  abstract requestCancel(runId: string, reason?: string | null): Promise<boolean>;

  /** Marks the run timed out (and cancelled); true when this call marked it. */
  abstract markTimedOut(runId: string, reason?: string | null): Promise<boolean>;

  async extendDeadline(runId: string, newTimeoutAt: Date): Promise<boolean> {
    const { db, traits } = this.layer;
    const run = traits.id(runId, 'runId');
    // A cancel stamped at the same instant as the timeout came from it and is lifted with it; an
    // earlier, explicit cancel stays. Every SET expression reads the row as it was.
    const fromTimeout = sql<boolean>`${sql.ref('timedOutAtUtc')} is not null and ${sql.ref('cancelRequestedAtUtc')} = ${sql.ref('timedOutAtUtc')}`;
    const unlessFromTimeout = <T>(column: string, lifted: T) =>
      sql<T>`case when ${fromTimeout} then ${lifted} else ${sql.ref(column)} end`;
    return this.layer.run('control.extendDeadline', async () => {
      const update = db
        .updateTable('flowRunControls')
        .set({
          timeoutAtUtc: traits.instant(newTimeoutAt),
          cancelRequested: unlessFromTimeout<boolean>('cancelRequested', false),
          cancelReason: unlessFromTimeout<string | null>('cancelReason', null),
          cancelRequestedAtUtc: unlessFromTimeout<Date | null>('cancelRequestedAtUtc', null),
          timedOutAtUtc: null,
        })
        .where('runId', '=', run);
      const rows = await (traits.dialect === 'mssql'
        ? update.output('inserted.runId').execute()
        : update.returning('runId').execute());
      return rows.length > 0;
    });
  }

  async getRunsPastDeadline(limit: number): Promise<OverdueRun[]> {
    const { db, traits } = this.layer;
    const now = traits.instant(this.layer.now());
    return this.layer.run('control.getRunsPastDeadline', async () => {
      const rows = await db
        .selectFrom('flowRunControls as c')
        .innerJoin('flowRuns as r', 'r.id', 'c.runId')
        .select(['c.runId', 'r.flowId', 'c.timeoutAtUtc'])
        .where('r.status', '=', 'Running')
        .where('c.timeoutAtUtc', 'is not', null)
        .where('c.timeoutAtUtc', '<=', now)
        .orderBy('c.timeoutAtUtc')
        .orderBy(traits.ordinalId('c.runId'))
        .offset(0)
        .fetch(limit)
        .execute();
      return rows.map((r) => ({
        runId: toUuid(r.runId),
        flowId: toUuid(r.flowId),
        timeoutAt: toDate(r.timeoutAtUtc),
      }));
    });
  }

  async findRunIdByIdempotencyKey(flowId: string, triggerKey: string, key: string): Promise<string | null> {
    const { traits } = this.layer;
    const flow = traits.id(flowId, 'flowId');
    const trigger = traits.key(normalizeIdempotencyPart(triggerKey), 'triggerKey');
    const idem = traits.key(normalizeIdempotencyPart(key), 'key');
    return this.layer.run('control.findRunIdByIdempotencyKey', async () => {
      const row = await this.layer.db
        .selectFrom('flowIdempotencyKeys')
        .select('runId')
        .where('flowId', '=', flow)
        .where('triggerKey', '=', trigger)
        .where('idempotencyKey', '=', idem)
        .executeTakeFirst();
      return row ? toUuid(row.runId) : null;
    });
  }

  async tryRegisterIdempotencyKey(
    flowId: string,
    triggerKey: string,
    key: string,
    runId: string,
  ): Promise<boolean> {
    const { traits } = this.layer;
    const entry = {
      flowId: traits.id(flowId, 'flowId'),
      triggerKey: traits.key(normalizeIdempotencyPart(triggerKey), 'triggerKey'),
      idempotencyKey: traits.key(normalizeIdempotencyPart(key), 'key'),
    };
    const run = traits.id(runId, 'runId');
    // First writer wins; losers get false, never a duplicate-key error.
    return this.layer.run('control.tryRegisterIdempotencyKey', () =>
      insertIfAbsent(this.layer, 'flowIdempotencyKeys', entry, {
        runId: run,
        createdAtUtc: traits.instant(this.layer.now()),
      }),
    );
  }
}
