import type { FlowDefinition, ForEachStepDefinition } from '../../model/types.js';
import type { StepStatus } from '../../storage/statuses.js';
import { isTerminalStepStatus } from '../../storage/statuses.js';
import { resolveInputs } from '../expressions/index.js';
import { aggregateLoopStatus, findStep, isForEachStep, runAfterEntries } from '../model/index.js';
import { type EngineContext, emit } from './context.js';
import { loopItems } from './loop-scope.js';
import { scheduleStep } from './scheduling.js';
import { runScope, type TriggerSnapshot } from './scope.js';
import { type Termination, terminatedReason } from './termination.js';

/**
 * Starts a ForEach step (already claimed and recorded as started): resolves its collection,
 * stores the items as the loop's input, and leaves the loop step `Pending` — in flight — with a
 * permanent claim. Iterations are then dispatched and collected by {@link advanceLoops}, which
 * every continuation of the run calls. Returns the number of items.
 */
export async function startLoop(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  loopKey: string,
  loop: ForEachStepDefinition,
  trigger: TriggerSnapshot,
): Promise<number> {
  const resolved = await resolveInputs({ items: loop.forEach }, runScope(ctx, flow, runId, trigger));
  const source = resolved.items;
  // Strings and scalars are not collections; a JSON array is.
  const items = Array.isArray(source) ? source : [];
  await ctx.storage.outputs.saveStepInput(runId, loopKey, { items });
  const ok = await ctx.storage.runs.recordStepComplete({
    runId,
    stepKey: loopKey,
    status: 'Pending',
    outputJson: JSON.stringify({ iterations: items.length }),
    errorMessage: null,
    owner: ctx.instanceId,
  });
  if (!ok) return items.length;
  // Keep the loop claimed for good (no lease), so recovery never re-runs the loop step itself.
  await ctx.storage.runtime.releaseStepClaim(runId, loopKey, ctx.instanceId);
  await ctx.storage.runtime.tryClaimStep(runId, loopKey);
  await emit(ctx, {
    type: 'step.pending',
    flowId: flow.id,
    runId,
    stepKey: loopKey,
    status: 'Pending',
    message: `ForEach '${loopKey}' running ${items.length} iteration(s), at most ${concurrency(loop)} at a time.`,
  });
  return items.length;
}

const concurrency = (loop: ForEachStepDefinition): number =>
  Math.max(1, Math.trunc(loop.concurrencyLimit ?? 1));

/** Children of an iteration that start it: those without runAfter (else the first child). */
function entryChildren(loop: ForEachStepDefinition): string[] {
  const keys = Object.keys(loop.steps);
  const entries = keys.filter((k) => runAfterEntries(loop.steps[k]!).every(([dep]) => dep === ''));
  return entries.length > 0 ? entries : keys.slice(0, 1);
}

/**
 * Drives every running loop of the run: dispatches further iterations while fewer than
 * `concurrencyLimit` are in flight and, once every iteration is finished, records the loop's
 * aggregated status (any failed iteration fails the loop). Returns how many iterations were
 * dispatched and whether a loop finished.
 */
export async function advanceLoops(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  statuses: ReadonlyMap<string, StepStatus>,
  pendingKeys: ReadonlySet<string>,
  dispatched: ReadonlySet<string>,
  termination: Termination,
): Promise<{ dispatched: number; finished: boolean }> {
  let dispatchedNow = 0;
  let finished = false;
  for (const [loopKey, status] of statuses) {
    if (status !== 'Pending') continue;
    const loop = findStep(flow, loopKey);
    if (!loop || !isForEachStep(loop)) continue;
    const items = await loopItems(ctx, runId, loopKey);
    let inFlight = 0;
    let done = 0;
    const notStarted: number[] = [];
    for (let index = 0; index < items.length; index++) {
      const prefix = `${loopKey}.${index}.`;
      const started = hasKeyWithPrefix(statuses, prefix) || hasKeyWithPrefix(dispatched, prefix);
      if (!started) {
        notStarted.push(index);
        continue;
      }
      if (iterationFinished(prefix, statuses, pendingKeys, dispatched)) done++;
      else inFlight++;
    }
    if (termination) {
      if (inFlight === 0) {
        await closeLoop(ctx, flow, runId, loopKey, 'Skipped', terminatedReason(termination), items.length);
        finished = true;
      }
      continue;
    }
    if (done === items.length) {
      const outcome = aggregateLoopStatus(flow, loopKey, items.length, statuses);
      await closeLoop(ctx, flow, runId, loopKey, outcome, null, items.length);
      finished = true;
      continue;
    }
    for (const index of notStarted) {
      if (inFlight >= concurrency(loop)) break;
      for (const child of entryChildren(loop)) {
        if (await scheduleStep(ctx, flow.id, runId, `${loopKey}.${index}.${child}`)) dispatchedNow++;
      }
      inFlight++;
    }
  }
  return { dispatched: dispatchedNow, finished };
}

function hasKeyWithPrefix(keys: ReadonlyMap<string, unknown> | ReadonlySet<string>, prefix: string): boolean {
  for (const key of keys.keys()) if (key.startsWith(prefix)) return true;
  return false;
}

/** Finished: nothing of the iteration is waiting, ready, in flight or dispatched-but-unrecorded. */
function iterationFinished(
  prefix: string,
  statuses: ReadonlyMap<string, StepStatus>,
  pendingKeys: ReadonlySet<string>,
  dispatched: ReadonlySet<string>,
): boolean {
  for (const key of pendingKeys) if (key.startsWith(prefix)) return false;
  for (const key of dispatched) if (key.startsWith(prefix) && !statuses.has(key)) return false;
  for (const [key, status] of statuses)
    if (key.startsWith(prefix) && !isTerminalStepStatus(status)) return false;
  return true;
}

async function closeLoop(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  loopKey: string,
  status: 'Succeeded' | 'Failed' | 'Skipped',
  reason: string | null,
  iterations: number,
): Promise<void> {
  await ctx.storage.runs.recordStepComplete({
    runId,
    stepKey: loopKey,
    status,
    outputJson: JSON.stringify({ iterations }),
    errorMessage: reason ?? (status === 'Failed' ? `One or more iterations of '${loopKey}' failed.` : null),
  });
  await ctx.storage.outputs.saveStepOutput(runId, loopKey, { iterations });
  await emit(ctx, {
    type: status === 'Failed' ? 'step.failed' : status === 'Skipped' ? 'step.skipped' : 'step.completed',
    flowId: flow.id,
    runId,
    stepKey: loopKey,
    status,
    message: `ForEach '${loopKey}' finished ${iterations} iteration(s) with status ${status}.`,
  });
}
