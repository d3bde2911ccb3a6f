import type { EngineEventBus } from '../engine/events.js';
import { RunWaitTimeoutError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { FlowStepQueueStore } from '../storage/queue-store.js';
import type { FlowRunRecord } from '../storage/records.js';
import type { Timers } from '../time/index.js';
import type { WaitOptions } from './types.js';

const FIRST_POLL_MS = 25;
const DEFAULT_MAX_POLL_MS = 1_000;

/**
 * One shared subscription to the backend's "work may be ready" notifications (PostgreSQL:
 * LISTEN), opened while at least one wait is in progress and closed after the last. A wait uses
 * it only as a hint to look again early; polling alone is correct.
 */
export class QueueWakeups {
  private readonly waiters = new Set<() => void>();
  private subscription: Promise<(() => Promise<void>) | undefined> | undefined;

  /**
   * @param queue the backend's queue contract (its optional `listen` is used)
   * @param logger where a failed subscription is reported
   */
  constructor(
    private readonly queue: FlowStepQueueStore | undefined,
    private readonly logger: Logger,
  ) {}

  /** Calls `wake` on every notification until the returned function is called. */
  add(wake: () => void): () => void {
    this.waiters.add(wake);
    const listen = this.queue?.listen;
    if (listen && !this.subscription) {
      this.subscription = listen
        .call(this.queue, () => {
          for (const waiter of this.waiters) waiter();
        })
        .catch((error: unknown) => {
          this.logger.warn('waitForRun: could not listen for notifications; polling only', { error });
          return undefined;
        });
    }
    return () => {
      this.waiters.delete(wake);
      if (this.waiters.size > 0 || !this.subscription) return;
      const closing = this.subscription;
      this.subscription = undefined;
      void closing.then((unlisten) => unlisten?.()).catch(() => undefined);
    };
  }
}

/** What a wait needs. */
export interface WaitDeps {
  /** Reads the run (null when unknown). */
  readonly read: () => Promise<FlowRunRecord | null>;
  /** Local engine events (a run closed in this process wakes the wait at once). */
  readonly bus: EngineEventBus;
  /** Backend notifications. */
  readonly wakeups: QueueWakeups;
  /** Timers of the poll and the wait's own timeout. */
  readonly timers: Timers;
}

/**
 * Polls until the run is terminal: first looks come fast (25 ms, growing ×1.5), then at most
 * every `maxPollIntervalMs`; a local `run.completed` event or a backend notification makes it
 * look again at once. Resolves with the terminal run record, or `null` when the run is unknown.
 */
export function pollUntilTerminal(
  runId: string,
  deps: WaitDeps,
  options: WaitOptions = {},
): Promise<FlowRunRecord | null> {
  const maxMs = Math.max(FIRST_POLL_MS, options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_MS);
  const { signal } = options;
  return new Promise<FlowRunRecord | null>((resolve, reject) => {
    let delay = FIRST_POLL_MS;
    const { timers } = deps;
    let pollTimer: unknown;
    let deadline: unknown;
    let reading = false;
    let again = false;
    let done = false;
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      timers.clearTimeout(pollTimer);
      timers.clearTimeout(deadline);
      unsubscribe();
      stopWakeups();
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const look = async (): Promise<void> => {
      if (done) return;
      if (reading) {
        again = true; // a wake-up during a read: look once more right after it
        return;
      }
      reading = true;
      timers.clearTimeout(pollTimer);
      try {
        const run = await deps.read();
        if (run?.status !== 'Running') return finish(() => resolve(run));
      } catch (error) {
        return finish(() => reject(error));
      } finally {
        reading = false;
      }
      if (again) {
        again = false;
        return void look();
      }
      // Referenced: whoever awaits the result keeps the process alive until it comes.
      pollTimer = timers.setTimeout(() => void look(), delay, true);
      delay = Math.min(maxMs, Math.ceil(delay * 1.5));
    };
    const wakeNow = (): void => {
      delay = FIRST_POLL_MS;
      void look();
    };
    const unsubscribe = deps.bus.subscribe((event) => {
      if (event.type === 'run.completed' && event.runId === runId) wakeNow();
    });
    const stopWakeups = deps.wakeups.add(wakeNow);
    const onAbort = (): void => finish(() => reject(signal?.reason));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      const ms = Math.max(0, options.timeoutMs);
      deadline = timers.setTimeout(() => finish(() => reject(new RunWaitTimeoutError(runId, ms))), ms, true);
    }
    void look();
  });
}
