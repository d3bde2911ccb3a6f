import type { EngineContext } from './context.js';

/**
 * Dispatches a step at most once: only the caller that records the dispatch-ledger row hands it
 * to the runtime. Returns false when someone already had.
 */
export async function scheduleStep(
  ctx: EngineContext,
  flowId: string,
  runId: string,
  stepKey: string,
  delayMs: number | null = null,
  attempt = 1,
): Promise<boolean> {
  if (!(await ctx.storage.runs.tryRecordDispatch(runId, stepKey))) return false;
  const now = ctx.storage.clock.now().getTime();
  const message = { flowId, runId, stepKey, scheduledAt: now + (delayMs ?? 0), attempt };
  const jobId =
    delayMs !== null && delayMs > 0
      ? await ctx.dispatcher.schedule(message, delayMs)
      : await ctx.dispatcher.enqueue(message);
  if (jobId) {
    try {
      await ctx.storage.runs.annotateDispatch(runId, stepKey, jobId);
    } catch (error) {
      ctx.logger.warn('could not annotate dispatch', { runId, stepKey, error });
    }
  }
  return true;
}

/** Gives up this process's hold on a step so it can be dispatched and claimed again. */
export async function releaseStep(ctx: EngineContext, runId: string, stepKey: string): Promise<void> {
  // Ledger first, then claim: a re-dispatch must never find the claim still held.
  await ctx.storage.runs.releaseDispatch(runId, stepKey);
  await ctx.storage.runtime.releaseStepClaim(runId, stepKey, ctx.instanceId);
}
