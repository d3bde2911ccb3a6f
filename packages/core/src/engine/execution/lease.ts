import type { EngineContext } from './context.js';
import { terminationOf } from './termination.js';

/** A running lease renewal. */
export interface LeaseHandle {
  /** False once a renewal found the claim gone (taken over after expiry). */
  held(): boolean;
  /** Stops renewing; resolves once no renewal is in flight (so it cannot race the completion). */
  stop(): Promise<void>;
}

/**
 * Renews the step's lease every third of its length while the handler runs, and watches the
 * run's control row (read in the same round trip): a lost lease or a cancel/timeout — possibly
 * requested on another replica — aborts the handler's signal.
 */
export function startLease(
  ctx: EngineContext,
  runId: string,
  stepKey: string,
  owner: string,
  controller: AbortController,
): LeaseHandle {
  let held = true;
  let stopped = false;
  let handle: unknown;
  let inFlight: Promise<void> | null = null;
  const interval = Math.max(50, Math.floor(ctx.settings.leaseMs / 3));
  const tick = async (): Promise<void> => {
    try {
      const renewal = await ctx.storage.queue.renew(runId, stepKey, owner, ctx.settings.leaseMs);
      if (!renewal.held) {
        held = false;
        controller.abort(new Error(`Lease on step '${stepKey}' was lost.`));
        return;
      }
      const termination = terminationOf(renewal.control, ctx.storage.clock.now());
      if (termination) controller.abort(new Error(`Run is ${termination}.`));
    } catch (error) {
      // The lease is still ours until it lapses; try again at the next interval.
      ctx.logger.warn('lease renewal failed', { runId, stepKey, error });
    }
  };
  const schedule = (): void => {
    handle = ctx.timers.setTimeout(() => {
      // After stop() gave up on this handler its claim was handed back: write nothing more.
      if (stopped || ctx.halted) return;
      inFlight = tick().finally(() => {
        inFlight = null;
        if (!stopped && held) schedule();
      });
    }, interval);
  };
  schedule();
  return {
    held: () => held,
    stop: async () => {
      stopped = true;
      ctx.timers.clearTimeout(handle);
      if (inFlight) await inFlight;
    },
  };
}
