import { RUN_EVENT_STEP_KEY } from '../../storage/statuses.js';
import type { RunTransaction } from '../../storage/transaction/run-transaction.js';
import { sleep } from '../../time/index.js';
import type { EngineEvent } from '../events.js';
import type { EngineContext } from './context.js';

/** What an engine event carries before it is stamped with its time. */
export type EventDraft = Omit<EngineEvent, 'at'>;

/** A run transaction as the engine uses it: the store's transaction plus event publishing. */
export interface EngineTx {
  /** The store's transaction. */
  readonly tx: RunTransaction;
  /** The claim owner for steps this transition takes for this instance. */
  readonly owner: string;
  /** Worker slots this transition frees when it commits (the completing execution's own). */
  readonly freesSlots: number;
  /** Stores the event with the transaction and publishes it in-process once committed. */
  emit(event: EventDraft): void;
}

/** How often a failed transition is retried, and after how long (transient storage errors). */
const RETRY_DELAYS_MS = [25, 150, 600];

/**
 * Runs `work` as one serialised, atomic transition of a run. After the commit: publishes its
 * events in-process, hands steps it took for this instance to the local workers, and wakes the
 * worker when the transition queued this instance's rows for later. Transient failures are
 * retried with backoff; the work must therefore be a pure function of what the transaction reads.
 */
export async function withRun<T>(
  ctx: EngineContext,
  runId: string,
  work: (t: EngineTx) => Promise<T>,
  options: { freesSlots?: number } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(ctx, runId, work, options.freesSlots ?? 0);
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !isTransient(error) || ctx.halted) throw error;
      ctx.logger.warn('run transition failed; retrying', { runId, attempt: attempt + 1, error });
      await sleep(ctx.timers, delay);
    }
  }
}

async function once<T>(
  ctx: EngineContext,
  runId: string,
  work: (t: EngineTx) => Promise<T>,
  freesSlots: number,
): Promise<T> {
  const published: EngineEvent[] = [];
  const owner = ctx.nextOwner();
  let used: RunTransaction | undefined;
  const result = await ctx.storage.queue.transact(runId, (tx) => {
    used = tx;
    published.length = 0;
    return work({
      tx,
      owner,
      freesSlots,
      emit: (event) => {
        const at = ctx.storage.clock.now();
        if (ctx.settings.persistEvents) {
          tx.event({
            type: event.type,
            message: event.message,
            timestamp: at,
            stepKey: event.stepKey ?? RUN_EVENT_STEP_KEY,
          });
        }
        published.push({ ...event, at });
      },
    });
  });
  if (used) afterCommit(ctx, used, published);
  return result;
}

function afterCommit(ctx: EngineContext, tx: RunTransaction, published: readonly EngineEvent[]): void {
  for (const event of published) ctx.bus.publish(event);
  const local = ctx.local;
  if (!local) return;
  if (tx.taken.length > 0) local.offer(tx.taken);
  // Rows already due but not taken may have been skipped by a taker while this transaction held
  // the run: look again now that it committed (the store also notified other consumers).
  if (tx.hasDueRows()) local.requestPoll();
  const now = ctx.storage.clock.now().getTime();
  let next: number | null = null;
  const takenHere = new Set(tx.taken.map((s) => s.stepKey));
  for (const [stepKey, write] of tx.writes.queue) {
    // Rows taken here show their lease expiry, not work for later.
    if (write.visibleAt === null || takenHere.has(stepKey)) continue;
    const at = write.visibleAt.getTime();
    if (at > now && (next === null || at < next)) next = at;
  }
  if (next !== null) local.wakeAt(new Date(next));
}

/**
 * Whether a failure may pass when tried again: anything but our own argument and state errors
 * (connection drops, deadlocks, serialisation failures, timeouts).
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'INVALID_ARGUMENT' || code === 'DUPLICATE_RUN') return false;
  return error instanceof Error;
}
