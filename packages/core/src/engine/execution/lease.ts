import type { EngineContext } from './context.js';
import { resolveTermination } from './termination.js';

/** A running lease renewal. */
export interface LeaseHandle {
  /** False once a renewal found the claim gone (taken over after expiry). */
  held(): boolean;
  /** Stops renewing. */
  stop(): void;
}

/**
 * Renews the step's claim every third of the lease while the handler runs, and watches the run's
 * control row: a lost lease or a cancel/timeout (possibly requested on another replica) aborts
 * the handler's signal.
 */
export function startLease(
  ctx: EngineContext,
  runId: string,
  stepKey: string,
  controller: AbortController,
): LeaseHandle {
  let held = true;
  let stopped = false;
  let handle: unknown;
  const interval = Math.max(50, Math.floor(ctx.settings.leaseMs / 3));
  const tick = async (): Promise<void> => {
    if (stopped) return;
    try {
      const renewed = await ctx.storage.runtime.renewStepClaim(
        runId,
        stepKey,
        ctx.instanceId,
        ctx.settings.leaseMs,
      );
      if (!renewed) {
        held = false;
        controller.abort(new Error(`Lease on step '${stepKey}' was lost.`));
        return;
      }
      const termination = await resolveTermination(ctx, runId);
      if (termination) controller.abort(new Error(`Run is ${termination}.`));
    } catch (error) {
      ctx.logger.warn('lease renewal failed', { runId, stepKey, error });
    }
    if (!stopped) handle = ctx.timers.setTimeout(() => void tick(), interval);
  };
  handle = ctx.timers.setTimeout(() => void tick(), interval);
  return {
    held: () => held,
    stop: () => {
      stopped = true;
      ctx.timers.clearTimeout(handle);
    },
  };
}
