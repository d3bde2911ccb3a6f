import type { FlowStepQueueStore, FlowStorage, Logger } from '@floworch/core';
import type { RunTransaction } from '@floworch/core/backend';
import type { Queue } from 'bullmq';
import { type DispatchRow, type StepJobData, stepJobData, stepJobId } from './job-id.js';

/** Options every step job is added with. */
export const JOB_OPTIONS = {
  // Gone once processed: a later dispatch of the same id (the same row state queued again after
  // a lapsed lease, say) must make a new job, not find the old one.
  removeOnComplete: true,
  // A job that kept failing (storage unreachable) is dropped; the row is still queued in the
  // storage, and maintenance dispatches it again. A failed job kept in Redis would block that
  // dispatch (same id).
  removeOnFail: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
} as const;

/**
 * Adds step jobs for queued rows. Adding never fails a caller: the row is in the storage, and a
 * job that could not be added is dispatched again by maintenance (`sweep`).
 */
export class StepDispatcher {
  private closed = false;

  /**
   * @param queue the BullMQ queue (producer)
   * @param now the storage's clock
   * @param logger logger
   * @param addTimeoutMs how long one add may take before it is given up (Redis unreachable)
   */
  constructor(
    readonly queue: Queue<StepJobData>,
    private readonly now: () => Date,
    private readonly logger: Logger,
    private readonly addTimeoutMs: number,
  ) {}

  /** Adds one job per row (immediate, or delayed until its visible-at); ids dedupe. */
  async dispatch(rows: readonly DispatchRow[]): Promise<number> {
    if (rows.length === 0 || this.closed) return 0;
    const now = this.now().getTime();
    const jobs = rows.map((row) => ({
      name: 'step',
      data: stepJobData(row),
      opts: { ...JOB_OPTIONS, jobId: stepJobId(row), delay: Math.max(0, row.visibleAt.getTime() - now) },
    }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.addBulk(jobs),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`adding jobs took longer than ${this.addTimeoutMs} ms`)),
            this.addTimeoutMs,
          );
        }),
      ]);
      return jobs.length;
    } catch (error) {
      this.logger.warn('could not add step jobs; maintenance dispatches them again', {
        jobs: jobs.length,
        error,
      });
      return 0;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops adding (after `close`, dispatches are dropped: maintenance of another process covers them). */
  close(): void {
    this.closed = true;
  }
}

/** Marks storages wrapped by a dispatcher (so a runtime can check it got the wrapped one). */
export const WRAPPED_BY = Symbol('floworch.bullmq.dispatcher');

/** The rows a committed transaction queued and did not take for its own process. */
export function queuedRows(tx: RunTransaction): DispatchRow[] {
  const taken = new Set(tx.taken.map((s) => s.stepKey));
  const rows: DispatchRow[] = [];
  for (const [stepKey, write] of tx.writes.queue) {
    if (write.visibleAt === null || taken.has(stepKey)) continue;
    rows.push({
      runId: tx.runId,
      ...(tx.flowId ? { flowId: tx.flowId } : {}),
      stepKey,
      attempt: write.attempt,
      visibleAt: write.visibleAt,
    });
  }
  return rows;
}

/**
 * The storage with a queue that adds a job for every row its writes queue, right after the write
 * committed: a trigger's entry steps, the successors, retries and polls a transition queues, a
 * woken signal waiter, a handed-back step. Everything else is the storage itself.
 */
export function wrapStorage<S extends FlowStorage>(storage: S, dispatcher: StepDispatcher): S {
  const inner = storage.queue;
  if (!inner) throw new Error(`backend '${storage.name}' has no queue contract`);
  const now = () => storage.clock.now();
  const queue: FlowStepQueueStore = new Proxy(inner, {
    get(target, prop) {
      switch (prop) {
        case 'startRun':
          return async (input: Parameters<FlowStepQueueStore['startRun']>[0]) => {
            const at = now();
            const result = await target.startRun(input);
            if (!result.duplicate) {
              const taken = new Set(result.taken.map((s) => s.stepKey));
              await dispatcher.dispatch(
                input.entrySteps
                  .filter((stepKey) => !taken.has(stepKey))
                  .map((stepKey) => ({
                    runId: result.runId,
                    flowId: input.run.flowId.toLowerCase(),
                    stepKey,
                    attempt: 1,
                    visibleAt: at,
                  })),
              );
            }
            return result;
          };
        case 'transact':
          return async <T>(runId: string, work: (tx: RunTransaction) => Promise<T>): Promise<T> => {
            let used: RunTransaction | undefined;
            const result = await target.transact(runId, (tx) => {
              used = tx;
              return work(tx);
            });
            if (used) await dispatcher.dispatch(queuedRows(used));
            return result;
          };
        case 'release':
          return async (runId: string, stepKey: string, owner: string, visibleAt?: Date) => {
            const at = visibleAt ?? now();
            const released = await target.release(runId, stepKey, owner, visibleAt);
            if (released) await dispatcher.dispatch([{ runId, stepKey, attempt: 0, visibleAt: at }]);
            return released;
          };
        case 'wake':
          return async (runId: string, stepKey: string) => {
            const at = now();
            const woke = await target.wake(runId, stepKey);
            if (woke) await dispatcher.dispatch([{ runId, stepKey, attempt: 0, visibleAt: at }]);
            return woke;
          };
        default: {
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        }
      }
    },
  });
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'queue') return queue;
      if (prop === WRAPPED_BY) return dispatcher;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
