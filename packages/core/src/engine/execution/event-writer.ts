import type { FlowStorage } from '../../storage/backend.js';
import type { FlowEventInput } from '../../storage/records.js';
import type { Logger } from '../logger.js';

/** Largest batch written at once. */
const MAX_BATCH = 500;

/**
 * Persists run events off the step's critical path: events queue in order and one writer
 * drains the queue, in batches through `recordEvents` when the store has it (one statement for
 * many events). Order is kept because there is only ever one write in flight. Failures are logged
 * and dropped — events are observability and never fail a run.
 */
export class EventWriter {
  private queue: Array<{ runId: string; event: FlowEventInput }> = [];
  private draining: Promise<void> | null = null;

  /** @param storage where events go @param logger where failures go */
  constructor(
    private readonly storage: FlowStorage,
    private readonly logger: Logger,
  ) {}

  /** Queues an event (its `stepKey` already resolved). */
  enqueue(runId: string, event: FlowEventInput): void {
    this.queue.push({ runId, event });
    this.draining ??= this.drain();
  }

  /** Resolves once everything queued so far is written (or dropped after a failure). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // Let the current tick's events join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const outputs = this.storage.outputs;
          if (outputs.recordEvents) await outputs.recordEvents(batch);
          else for (const { runId, event } of batch) await outputs.recordEvent(runId, event);
        } catch (error) {
          this.logger.warn('could not persist run events', { count: batch.length, error });
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
