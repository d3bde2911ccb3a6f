import type { FlowDefinition, ForEachStepDefinition } from '../../model/types.js';
import { isTerminalStepStatus, OutputKeys } from '../../storage/index.js';
import { aggregateLoopStatus, findStep, isForEachStep, planRun, runAfterEntries } from '../model/index.js';
import type { EngineContext } from './context.js';
import { enqueue } from './enqueue.js';
import { type Termination, terminatedReason } from './termination.js';
import type { EngineTx } from './transition.js';

/**
 * Starts a ForEach step this instance took and started, inside the transition that records it:
 * stores the items (already resolved) as the loop's input and parks the loop step `Pending` — in
 * flight — with a claim that never expires, so nobody re-runs the loop step itself. Iterations
 * are queued and collected by {@link advanceLoops}, which every continuation of the run calls.
 */
export function startLoop(
  t: EngineTx,
  flow: FlowDefinition,
  loopKey: string,
  loop: ForEachStepDefinition,
  items: readonly unknown[],
  owner: string,
): boolean {
  t.tx.saveOutput(OutputKeys.stepInput(loopKey), { items }, `items of ForEach '${loopKey}'`);
  const parked = t.tx.finish(
    loopKey,
    {
      status: 'Pending',
      outputJson: JSON.stringify({ iterations: items.length }),
      errorMessage: null,
      owner,
    },
    { kind: 'hold' },
  );
  if (!parked) return false;
  t.emit({
    type: 'step.pending',
    flowId: flow.id,
    runId: t.tx.runId,
    stepKey: loopKey,
    status: 'Pending',
    message: `ForEach '${loopKey}' running ${items.length} iteration(s), at most ${concurrency(loop)} at a time.`,
  });
  return true;
}

const concurrency = (loop: ForEachStepDefinition): number =>
  Math.max(1, Math.trunc(loop.concurrencyLimit ?? 1));

/** Children of an iteration that start it: those without runAfter (else the first child). */
function entryChildren(loop: ForEachStepDefinition): string[] {
  const keys = Object.keys(loop.steps);
  const entries = keys.filter((k) => runAfterEntries(loop.steps[k]!).every(([dep]) => dep === ''));
  return entries.length > 0 ? entries : keys.slice(0, 1);
}

/** Items a started loop iterates, as stored in its step input. */
async function itemsOf(t: EngineTx, loopKey: string): Promise<unknown[]> {
  const stored = (await t.tx.readOutput(OutputKeys.stepInput(loopKey))) as { items?: unknown } | null;
  return Array.isArray(stored?.items) ? stored.items : [];
}

/**
 * Drives every running loop of the run: queues further iterations while fewer than
 * `concurrencyLimit` are in flight and, once every iteration is finished, records the loop's
 * aggregated status (any failed iteration fails the loop). Returns whether a loop finished.
 */
export async function advanceLoops(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  termination: Termination,
): Promise<boolean> {
  const { tx } = t;
  let finished = false;
  const plan = planRun(flow, tx.steps, tx.queue.keys());
  const open = new Set([...plan.ready, ...plan.waiting, ...plan.blocked]);
  for (const [loopKey, status] of [...tx.steps]) {
    if (status !== 'Pending') continue;
    const loop = findStep(flow, loopKey);
    if (!loop || !isForEachStep(loop)) continue;
    const items = await itemsOf(t, loopKey);
    let inFlight = 0;
    let done = 0;
    const notStarted: number[] = [];
    for (let index = 0; index < items.length; index++) {
      const prefix = `${loopKey}.${index}.`;
      if (!hasKeyWithPrefix(tx.steps, prefix) && !hasKeyWithPrefix(tx.queue, prefix)) {
        notStarted.push(index);
        continue;
      }
      if (iterationFinished(t, prefix, open)) done++;
      else inFlight++;
    }
    if (termination) {
      if (inFlight === 0) {
        closeLoop(t, flow, loopKey, 'Skipped', terminatedReason(termination), items.length);
        finished = true;
      }
      continue;
    }
    if (done === items.length) {
      const outcome = aggregateLoopStatus(flow, loopKey, items.length, tx.steps);
      closeLoop(t, flow, loopKey, outcome, null, items.length);
      finished = true;
      continue;
    }
    for (const index of notStarted) {
      if (inFlight >= concurrency(loop)) break;
      for (const child of entryChildren(loop)) enqueue(ctx, t, flow, `${loopKey}.${index}.${child}`);
      inFlight++;
    }
  }
  return finished;
}

function hasKeyWithPrefix(keys: ReadonlyMap<string, unknown>, prefix: string): boolean {
  for (const key of keys.keys()) if (key.startsWith(prefix)) return true;
  return false;
}

/** Finished: nothing of the iteration is waiting, ready, queued or in flight. */
function iterationFinished(t: EngineTx, prefix: string, open: ReadonlySet<string>): boolean {
  for (const key of open) if (key.startsWith(prefix)) return false;
  for (const [key, entry] of t.tx.queue) if (key.startsWith(prefix) && entry.visibleAt !== null) return false;
  for (const [key, status] of t.tx.steps)
    if (key.startsWith(prefix) && !isTerminalStepStatus(status)) return false;
  return true;
}

function closeLoop(
  t: EngineTx,
  flow: FlowDefinition,
  loopKey: string,
  status: 'Succeeded' | 'Failed' | 'Skipped',
  reason: string | null,
  iterations: number,
): void {
  t.tx.finish(
    loopKey,
    {
      status,
      outputJson: JSON.stringify({ iterations }),
      errorMessage: reason ?? (status === 'Failed' ? `One or more iterations of '${loopKey}' failed.` : null),
    },
    { kind: 'done' },
  );
  t.tx.saveOutput(loopKey, { iterations });
  t.emit({
    type: status === 'Failed' ? 'step.failed' : status === 'Skipped' ? 'step.skipped' : 'step.completed',
    flowId: flow.id,
    runId: t.tx.runId,
    stepKey: loopKey,
    status,
    message: `ForEach '${loopKey}' finished ${iterations} iteration(s) with status ${status}.`,
  });
}
