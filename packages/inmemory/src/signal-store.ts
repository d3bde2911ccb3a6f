import type { Clock, FlowSignalStore, FlowSignalWaiter, SignalDeliveryResult } from '@floworch/core';
import { normalizeSignalName } from '@floworch/core/backend';
import { toDate, toDateOrNull } from './copy.js';
import type { MemoryState, WaiterRow } from './state.js';

/** In-memory {@link FlowSignalStore}. */
export class InMemorySignalStore implements FlowSignalStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  async registerWaiter(
    runId: string,
    stepKey: string,
    signalName: string,
    expiresAt: Date | null,
  ): Promise<void> {
    const data = this.state.runData(runId);
    const existing = data.waiters.get(stepKey);
    const name = normalizeSignalName(signalName);
    if (existing) {
      existing.signalName = name;
      existing.expiresAt = expiresAt ? expiresAt.getTime() : null;
      return;
    }
    data.waiters.set(stepKey, {
      stepKey,
      signalName: name,
      createdAt: this.clock.now().getTime(),
      expiresAt: expiresAt ? expiresAt.getTime() : null,
      deliveredAt: null,
      payloadJson: null,
    });
  }

  async deliverSignal(runId: string, signalName: string, payloadJson: string): Promise<SignalDeliveryResult> {
    const name = normalizeSignalName(signalName);
    const matching = [...(this.state.peekRunData(runId)?.waiters.values() ?? [])]
      .filter((w) => w.signalName === name)
      .sort((a, b) => a.createdAt - b.createdAt); // stable: same-instant waiters stay in registration order
    const target = matching.find((w) => w.deliveredAt === null);
    if (target) {
      target.deliveredAt = this.clock.now().getTime();
      target.payloadJson = payloadJson;
      return { status: 'Delivered', stepKey: target.stepKey, deliveredAt: toDate(target.deliveredAt) };
    }
    const first = matching[0];
    if (first)
      return {
        status: 'AlreadyDelivered',
        stepKey: first.stepKey,
        deliveredAt: toDateOrNull(first.deliveredAt),
      };
    return { status: 'NotFound', stepKey: null, deliveredAt: null };
  }

  async getWaiter(runId: string, stepKey: string): Promise<FlowSignalWaiter | null> {
    const row = this.state.peekRunData(runId)?.waiters.get(stepKey);
    return row ? waiterRecord(runId.toLowerCase(), row) : null;
  }

  async removeWaiter(runId: string, stepKey: string): Promise<void> {
    this.state.peekRunData(runId)?.waiters.delete(stepKey);
  }
}

function waiterRecord(runId: string, row: WaiterRow): FlowSignalWaiter {
  return {
    runId,
    stepKey: row.stepKey,
    signalName: row.signalName,
    createdAt: toDate(row.createdAt),
    expiresAt: toDateOrNull(row.expiresAt),
    deliveredAt: toDateOrNull(row.deliveredAt),
    payloadJson: row.payloadJson,
  };
}
