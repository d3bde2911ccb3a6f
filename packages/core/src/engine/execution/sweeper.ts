import { abortRun, type EngineContext, findFlow, forgetControl } from './context.js';
import { tryCompleteRun } from './continuation.js';

/**
 * Times out runs past their deadline even when nothing is executing: latches the timeout, aborts
 * local handlers of the run (other replicas notice at their next lease renewal) and closes the
 * run as `TimedOut` once nothing is in flight. Returns the number of runs timed out.
 */
export async function sweepDeadlines(ctx: EngineContext, limit = 100): Promise<number> {
  let timedOut = 0;
  for (const overdue of await ctx.storage.control.getRunsPastDeadline(limit)) {
    const flow = findFlow(ctx, overdue.flowId);
    try {
      if (await ctx.storage.control.markTimedOut(overdue.runId)) timedOut++;
      forgetControl(ctx, overdue.runId);
      abortRun(ctx, overdue.runId, 'Run is TimedOut.');
      if (flow) await tryCompleteRun(ctx, flow, overdue.runId, 'TimedOut', null);
    } catch (error) {
      ctx.logger.warn('deadline sweep of a run failed', { runId: overdue.runId, error });
    }
  }
  return timedOut;
}
