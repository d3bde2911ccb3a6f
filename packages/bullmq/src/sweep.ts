import type { FlowStepQueueStore, Logger } from '@floworch/core';
import type { Redis } from 'ioredis';
import type { StepDispatcher } from './dispatcher.js';
import { type DispatchRow, stepJobId } from './job-id.js';

/** What one maintenance sweep did. */
export interface SweepReport {
  /** False when another process swept in this interval (the lock was taken). */
  readonly swept: boolean;
  /** Due rows looked at. */
  readonly checked: number;
  /** Rows that had no job in Redis and were dispatched again. */
  readonly redispatched: number;
  /** Of those, rows whose job was stuck with a dead worker (delivered again under another id). */
  readonly rescued: number;
}

/** Options of {@link sweepOnce}. */
export interface SweepOptions {
  /** The (wrapped or plain) queue of the flow storage. */
  readonly queue: FlowStepQueueStore;
  /** Adds the missing jobs. */
  readonly dispatcher: StepDispatcher;
  /** A plain Redis client for the lock and the existence checks. */
  readonly redis: Redis;
  /** The storage's clock. */
  readonly now: () => Date;
  /** Rows due for less than this are left to the job their transition added. */
  readonly graceMs: number;
  /**
   * A due row whose job has been active this long without claiming it is delivered again under
   * another id (the worker that took the job died before it claimed the row).
   */
  readonly stuckAfterMs: number;
  /** Most rows looked at per sweep. */
  readonly batch: number;
  /** How long the lock keeps other processes from sweeping (ms); 0: no lock. */
  readonly lockMs: number;
  /** Lock holder id. */
  readonly holder: string;
  /** Logger. */
  readonly logger: Logger;
}

/**
 * Maintenance: re-dispatches due rows whose job is missing from Redis. The flow storage is the
 * source of truth — a queued row is work to do whatever Redis holds — so after Redis lost jobs
 * (flushed, evicted, restarted without persistence, or an add that failed) every due row gets
 * its job back. Rows under a live lease are not due (they are executing); a lease that lapsed
 * (its worker died) makes the row due again, so this also hands a dead worker's steps to the
 * living. One process sweeps per interval (a Redis lock); the job ids make a second sweep, or a
 * sweep racing the transition's own dispatch, harmless.
 */
export async function sweepOnce(options: SweepOptions): Promise<SweepReport> {
  const { queue, dispatcher, redis } = options;
  if (!queue.listDue) throw new Error('the storage has no queue.listDue: it cannot be swept');
  if (options.lockMs > 0) {
    const lock = dispatcher.queue.toKey('floworch-sweep');
    const got = await redis.set(lock, options.holder, 'PX', options.lockMs, 'NX');
    if (got !== 'OK') return { swept: false, checked: 0, redispatched: 0, rescued: 0 };
  }
  const due = await queue.listDue({
    dueBefore: new Date(options.now().getTime() - options.graceMs),
    limit: options.batch,
  });
  if (due.length === 0) return { swept: true, checked: 0, redispatched: 0, rescued: 0 };
  const rows: DispatchRow[] = due.map((row) => ({
    runId: row.runId,
    flowId: row.flowId,
    stepKey: row.stepKey,
    attempt: row.attempt,
    visibleAt: row.visibleAt,
  }));
  // A job hash has `timestamp` from its creation, and `processedOn` once a worker took it.
  const pipeline = redis.pipeline();
  for (const row of rows) pipeline.hmget(dispatcher.queue.toKey(stepJobId(row)), 'timestamp', 'processedOn');
  const results = (await pipeline.exec()) ?? [];
  const now = Date.now();
  const missing: DispatchRow[] = [];
  let rescued = 0;
  rows.forEach((row, i) => {
    const [error, fields] = results[i] ?? [null, null];
    if (error) return;
    const [created, processedOn] = (fields as [string | null, string | null] | null) ?? [null, null];
    if (created === null) missing.push(row);
    else if (processedOn !== null && now - Number(processedOn) > options.stuckAfterMs) {
      // Active, yet the row is still due and unclaimed: its worker died before claiming it.
      missing.push({ ...row, idSuffix: processedOn });
      rescued++;
    }
  });
  const redispatched = await dispatcher.dispatch(missing);
  if (redispatched > 0) {
    options.logger.info('maintenance re-dispatched steps without a job', {
      checked: rows.length,
      redispatched,
      rescued,
    });
  }
  return { swept: true, checked: rows.length, redispatched, rescued: redispatched > 0 ? rescued : 0 };
}
