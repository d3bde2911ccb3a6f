import type { FlowDefinition } from '../../model/types.js';
import { SkipReasons, type TerminalRunStatus } from '../../storage/statuses.js';
import { classifyRun, findStep, isForEachStep, planRun, runAfterEntries } from '../model/index.js';
import { type EngineContext, emit } from './context.js';
import { advanceLoops } from './foreach.js';
import { scheduleStep } from './scheduling.js';
import { loadTrigger, type TriggerSnapshot } from './scope.js';
import { recordSkip } from './skip.js';
import { resolveTermination } from './termination.js';
import { skipIfWhenFalse } from './when.js';

const IN_FLIGHT = new Set(['Running', 'Pending']);

/**
 * Moves a run forward after a step finished (any non-Pending outcome): skips every step that can
 * no longer run (the whole cascade, not one level), skips ready steps whose `when` is false,
 * dispatches the ready rest, and closes the run when nothing is left.
 *
 * @param delayMs dispatch delay for the successors (a Succeeded result's `delayMs`)
 * @param completingStepKey reported on the `run.completed` event
 * @returns whether this call closed the run
 */
export async function continueRun(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  delayMs: number | null,
  completingStepKey: string | null,
  trigger?: TriggerSnapshot,
): Promise<boolean> {
  const snapshot = trigger ?? (await loadTrigger(ctx, runId));
  const termination = await resolveTermination(ctx, runId);
  let enqueued = 0;
  // Each pass may skip steps or finish loops, which can block or unblock others; the graph
  // bounds the number of passes.
  const maxPasses = Object.keys(flow.steps).length * 2 + 4;
  const loops = hasLoops(flow);
  for (let pass = 0; pass < maxPasses; pass++) {
    const statuses = await ctx.storage.runtime.getStepStatuses(runId);
    // The ledger is needed to plan loop iterations and to skip When for dispatched steps; a flow
    // without either spares the read (scheduleStep's insert-if-absent dedupes anyway).
    let dispatched = loops ? await ctx.storage.runs.getDispatchedStepKeys(runId) : null;
    const plan = planRun(flow, statuses, dispatched ?? undefined);
    let changed = false;
    for (const key of plan.blocked) {
      if (await skipBlocked(ctx, flow, runId, key)) changed = true;
    }
    if (!termination) {
      for (const key of plan.ready) {
        if (hasWhen(flow, key)) {
          dispatched ??= await ctx.storage.runs.getDispatchedStepKeys(runId);
          if (dispatched.has(key)) continue; // When was evaluated when it was dispatched
          if (await skipIfWhenFalse(ctx, flow, runId, key, snapshot)) {
            changed = true;
            continue;
          }
        }
        if (await scheduleStep(ctx, flow.id, runId, key, delayMs)) enqueued++;
      }
    }
    if (loops) {
      const advanced = await advanceLoops(
        ctx,
        flow,
        runId,
        statuses,
        new Set([...plan.ready, ...plan.waiting, ...plan.blocked]),
        dispatched ?? (await ctx.storage.runs.getDispatchedStepKeys(runId)),
        termination,
      );
      enqueued += advanced.dispatched;
      if (advanced.finished) changed = true;
    }
    if (!changed) break;
  }
  if (enqueued > 0) return false;
  const statuses = await ctx.storage.runtime.getStepStatuses(runId);
  for (const status of statuses.values()) if (IN_FLIGHT.has(status)) return false;
  const status: TerminalRunStatus = termination ?? classifyRun(flow, statuses);
  return tryCompleteRun(ctx, flow, runId, status, completingStepKey, statuses);
}

/** Claims a step whose dependencies can never be satisfied and records it Skipped. */
async function skipBlocked(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  key: string,
): Promise<boolean> {
  if (!(await ctx.storage.runtime.tryClaimStep(runId, key))) return false;
  await recordSkip(ctx, flow, runId, key, {
    type: findStep(flow, key)?.type ?? 'Unknown',
    reason: SkipReasons.prerequisitesUnmet,
    message: `Step '${key}' skipped because dependencies did not match.`,
    metricReason: 'prerequisites_unmet',
  });
  return true;
}

/**
 * Closes the run with `status` if nothing is in flight, claimed-but-unrecorded or
 * dispatched-but-unrecorded. Compare-and-set: exactly one caller wins and publishes
 * `run.completed`. Returns whether this call closed the run.
 * `knownStatuses`, when given, is a step-status read the caller has just made.
 */
export async function tryCompleteRun(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  status: TerminalRunStatus,
  completingStepKey: string | null,
  knownStatuses?: ReadonlyMap<string, string>,
): Promise<boolean> {
  const [statuses, claimed, dispatched] = await Promise.all([
    knownStatuses ?? ctx.storage.runtime.getStepStatuses(runId),
    ctx.storage.runtime.getClaimedStepKeys(runId),
    ctx.storage.runs.getDispatchedStepKeys(runId),
  ]);
  for (const s of statuses.values()) if (IN_FLIGHT.has(s)) return false;
  for (const key of claimed) if (!statuses.has(key)) return false;
  for (const key of dispatched) if (!statuses.has(key)) return false;
  if (!(await ctx.storage.runs.completeRunIfActive(runId, status))) return false;
  ctx.telemetry.count('flow_runs_completed', { status });
  await emit(ctx, {
    type: 'run.completed',
    flowId: flow.id,
    runId,
    stepKey: completingStepKey,
    status,
    message: `Run completed with status ${status}.`,
  });
  return true;
}

const loopFlows = new WeakMap<FlowDefinition, boolean>();

/** Whether the flow has a ForEach step anywhere (cached per flow object). */
function hasLoops(flow: FlowDefinition): boolean {
  let found = loopFlows.get(flow);
  if (found === undefined) {
    found = Object.values(flow.steps).some((step) => isForEachStep(step));
    loopFlows.set(flow, found);
  }
  return found;
}

/** Whether a step has a `when` clause on any dependency. */
function hasWhen(flow: FlowDefinition, key: string): boolean {
  const step = findStep(flow, key);
  return (
    step !== undefined &&
    runAfterEntries(step).some(([, c]) => typeof c.when === 'string' && c.when.trim() !== '')
  );
}
