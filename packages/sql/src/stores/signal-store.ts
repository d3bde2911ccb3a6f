import {
  type FlowSignalStore,
  type FlowSignalWaiter,
  normalizeSignalName,
  type SignalDeliveryResult,
} from '@floworch/core/backend';
import type { SqlLayer } from '../traits.js';
import { toDate, toDateOrNull, toUuid } from '../values.js';
import { upsertReturning } from '../writes.js';

/**
 * {@link FlowSignalStore} over `flowSignalWaiters`. Delivery picks the oldest undelivered waiter
 * under row locks whose spelling differs too much between the databases, so each backend
 * supplies {@link SqlSignalStore.deliverSignal}; everything else is written once here.
 */
export abstract class SqlSignalStore implements FlowSignalStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(protected readonly layer: SqlLayer) {}

  async registerWaiter(
    runId: string,
    stepKey: string,
    signalName: string,
    expiresAt: Date | null,
  ): Promise<void> {
    const { traits } = this.layer;
    const key = { runId: traits.id(runId, 'runId'), stepKey: traits.key(stepKey, 'stepKey') };
    const name = traits.key(normalizeSignalName(signalName), 'signalName');
    // Re-registering changes the name and expiry only: it never un-delivers or resets createdAt.
    await this.layer.run('signals.registerWaiter', () =>
      upsertReturning(
        this.layer,
        'flowSignalWaiters',
        key,
        {
          signalName: name,
          createdAt: traits.instant(this.layer.now()),
          expiresAt: expiresAt ? traits.instant(expiresAt) : null,
          deliveredAt: null,
          payloadJson: null,
        },
        ['signalName', 'expiresAt'],
      ),
    );
  }

  /** Delivers `payloadJson` to the oldest undelivered waiter of `signalName` in the run. */
  abstract deliverSignal(
    runId: string,
    signalName: string,
    payloadJson: string,
  ): Promise<SignalDeliveryResult>;

  async getWaiter(runId: string, stepKey: string): Promise<FlowSignalWaiter | null> {
    const { traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const step = traits.key(stepKey, 'stepKey');
    return this.layer.run('signals.getWaiter', async () => {
      const row = await this.layer.db
        .selectFrom('flowSignalWaiters')
        .select(['runId', 'stepKey', 'signalName', 'createdAt', 'expiresAt', 'deliveredAt', 'payloadJson'])
        .where('runId', '=', run)
        .where('stepKey', '=', step)
        .executeTakeFirst();
      if (!row) return null;
      return {
        runId: toUuid(row.runId),
        stepKey: row.stepKey,
        signalName: row.signalName,
        createdAt: toDate(row.createdAt),
        expiresAt: toDateOrNull(row.expiresAt),
        deliveredAt: toDateOrNull(row.deliveredAt),
        payloadJson: row.payloadJson,
      };
    });
  }

  async removeWaiter(runId: string, stepKey: string): Promise<void> {
    const { traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const step = traits.key(stepKey, 'stepKey');
    await this.layer.run('signals.removeWaiter', () =>
      this.layer.db
        .deleteFrom('flowSignalWaiters')
        .where('runId', '=', run)
        .where('stepKey', '=', step)
        .execute(),
    );
  }
}
