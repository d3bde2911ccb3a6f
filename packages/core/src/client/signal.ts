import type { EngineContext } from '../engine/execution/context.js';

/** How long a signal waits for the step it wakes to finish parking. */
const WAKE_WAIT_MS = 5_000;

/**
 * Makes a parked step due now. A signal can arrive while the step is still parking (its handler
 * returned, the requeue not committed yet): then wait for the claim to be let go and wake it.
 * The delivery itself is durable, so a wake that never lands only costs the park delay.
 */
export async function wakeParked(ctx: EngineContext, runId: string, stepKey: string): Promise<boolean> {
  const deadline = Date.now() + WAKE_WAIT_MS;
  for (;;) {
    if (await ctx.storage.queue.wake(runId, stepKey)) return true;
    const claim = await ctx.storage.runtime?.getStepClaim(runId, stepKey);
    const live = !!claim && claim.leaseExpiresAt !== null && claim.owner !== '';
    // The claim may have been let go between the wake and the read: one more wake decides.
    if (!live) return ctx.storage.queue.wake(runId, stepKey);
    if (Date.now() > deadline) return false;
    // Real time, not ctx.timers: this waits for another task's commit, which fake timers
    // (the test host) would never let happen while the clock stands still.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}
