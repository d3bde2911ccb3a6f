import { abortRun, type EngineContext, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { withRun } from './transition.js';

/** Reason latched by the deadline sweeper. */
const SWEPT = 'Run timed out.';

/**
 * Times out runs past their deadline even when nothing is executing: aborts local handlers of
 * the run (other replicas notice at their next lease renewal), then in one transition latches
 * the timeout, skips every queued step — including ones a handler still holds, whose late result
 * is fenced out — and closes the run `TimedOut`. Returns the number of runs timed out.
 */
export async function sweepDeadlines(ctx: EngineContext, limit = 100): Promise<number> {
  let timedOut = 0;
  for (const overdue of await ctx.storage.control.getRunsPastDeadline(limit)) {
    const flow = findFlow(ctx, overdue.flowId);
    try {
      abortRun(ctx, overdue.runId, 'Run is TimedOut.');
      const latched = await withRun(ctx, overdue.runId, async (t) => {
        const fresh = !t.tx.control?.timedOutAt;
        t.tx.markTimedOut(SWEPT);
        if (flow) await continueRun(ctx, t, flow, { forceTermination: true });
        return fresh;
      });
      if (latched) timedOut++;
    } catch (error) {
      ctx.logger.warn('deadline sweep of a run failed', { runId: overdue.runId, error });
    }
  }
  return timedOut;
}
