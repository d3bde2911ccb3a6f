import { isTerminalStepStatus } from '../../storage/statuses.js';
import { findStep, isForEachStep } from '../model/index.js';
import { type EngineContext, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { withRun } from './transition.js';

/** What a recovery pass did. */
export interface RecoveryReport {
  /** Steps put back in the queue. */
  readonly redispatched: number;
  /** Runs closed because nothing was left to do. */
  readonly closed: number;
}

/**
 * Repairs runs whose state predates the durable queue (or was edited by hand): steps in flight
 * without a queued row and without a live claim are queued again, ready steps without a row are
 * queued, blocked ones skipped, and runs with nothing left are closed. With the queue itself,
 * crashed work needs no repair: its row reappears when the lease lapses.
 */
export async function recover(ctx: EngineContext, limit = 1000): Promise<RecoveryReport> {
  let redispatched = 0;
  let closed = 0;
  for (const run of await ctx.storage.runs.getActiveRuns(limit)) {
    const flow = findFlow(ctx, run.flowId);
    if (!flow) continue;
    try {
      await withRun(ctx, run.id, async (t) => {
        const { tx } = t;
        for (const [key, status] of tx.steps) {
          if (isTerminalStepStatus(status)) continue;
          const step = findStep(flow, key);
          if (step && isForEachStep(step) && status === 'Pending') continue; // parked loop
          if (tx.queue.get(key)?.visibleAt != null || tx.isClaimedLive(key)) continue;
          if (tx.reschedule(key)) redispatched++;
        }
        const before = tx.queue.size;
        if (await continueRun(ctx, t, flow)) closed++;
        redispatched += Math.max(0, tx.queue.size - before);
      });
    } catch (error) {
      ctx.logger.warn('recovery of a run failed', { runId: run.id, error });
    }
  }
  return { redispatched, closed };
}
