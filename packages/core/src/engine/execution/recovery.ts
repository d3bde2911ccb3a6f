import { isTerminalStepStatus } from '../../storage/statuses.js';
import { planRun } from '../model/index.js';
import { type EngineContext, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { releaseStep, scheduleStep } from './scheduling.js';

/** Options of one recovery pass. */
export interface RecoveryOptions {
  /**
   * Also re-dispatch steps that were dispatched but never claimed, and unclaimed in-flight steps
   * (a crashed process's queue and timers). Only safe at start-up or when the runtime is
   * process-local: a duplicate delivery then merely loses the claim.
   */
  readonly orphans: boolean;
  /** Upper bound of expired leases handled per pass. */
  readonly expiredLimit?: number;
}

/** What a recovery pass did. */
export interface RecoveryReport {
  /** Steps handed to the runtime again. */
  readonly redispatched: number;
  /** Runs closed because nothing was left to do. */
  readonly closed: number;
}

/**
 * Re-dispatches work a crash may have lost and closes runs nobody will close: ready steps without
 * a dispatch record, steps whose claim lease expired, and (with `orphans`) queued or parked steps
 * whose in-process message vanished. Never dispatches steps still waiting on dependencies; the
 * ledger and claims keep replicas recovering together from running a step twice.
 */
export async function recover(ctx: EngineContext, options: RecoveryOptions): Promise<RecoveryReport> {
  let redispatched = 0;
  let closed = 0;
  for (const expired of await ctx.storage.runtime.getExpiredClaims(options.expiredLimit ?? 100)) {
    const run = await ctx.storage.runs.getRunDetail(expired.runId);
    const flow = run && findFlow(ctx, run.flowId);
    if (!flow) continue;
    // The holder is gone; free the ledger so the step can be dispatched again. The new worker's
    // claim takes the lapsed lease over; a duplicate delivery just loses the claim.
    await ctx.storage.runs.releaseDispatch(expired.runId, expired.stepKey);
    if (await scheduleStep(ctx, flow.id, expired.runId, expired.stepKey)) redispatched++;
  }
  for (const run of await ctx.storage.runs.getActiveRuns(1000)) {
    const flow = findFlow(ctx, run.flowId);
    if (!flow) continue;
    try {
      const [statuses, dispatched, claimed] = await Promise.all([
        ctx.storage.runtime.getStepStatuses(run.id),
        ctx.storage.runs.getDispatchedStepKeys(run.id),
        ctx.storage.runtime.getClaimedStepKeys(run.id),
      ]);
      const claimedSet = new Set(claimed);
      let touched = false;
      if (options.orphans) {
        for (const key of dispatched) {
          const status = statuses.get(key);
          if (claimedSet.has(key) || (status && isTerminalStepStatus(status))) continue;
          await ctx.storage.runs.releaseDispatch(run.id, key);
          if (await scheduleStep(ctx, flow.id, run.id, key)) redispatched++;
          touched = true;
        }
        for (const [key, status] of statuses) {
          if (isTerminalStepStatus(status) || claimedSet.has(key) || dispatched.has(key)) continue;
          await releaseStep(ctx, run.id, key);
          if (await scheduleStep(ctx, flow.id, run.id, key)) redispatched++;
          touched = true;
        }
      }
      const plan = planRun(flow, statuses);
      const lost = plan.ready.filter((key) => !dispatched.has(key));
      if (lost.length > 0 || plan.blocked.length > 0) {
        // The continuation evaluates When, skips blocked steps and dispatches the rest.
        await continueRun(ctx, flow, run.id, null, null);
        redispatched += lost.length;
        continue;
      }
      if (touched) continue;
      const inFlight = [...statuses.values()].some((s) => !isTerminalStepStatus(s));
      if (!inFlight && statuses.size > 0 && plan.waiting.length === 0) {
        if (await continueRun(ctx, flow, run.id, null, null)) closed++;
      }
    } catch (error) {
      ctx.logger.warn('recovery of a run failed', { runId: run.id, error });
    }
  }
  return { redispatched, closed };
}
