import type { FlowDefinition } from '../../model/types.js';
import type { StepStatus } from '../../storage/statuses.js';
import { runAfterEntries } from './run-after.js';
import { findStep, isForEachStep, loopChildren, type StepScope } from './step-paths.js';

/** Terminal status of a run (or of one ForEach iteration) derived from its step statuses. */
export type RunOutcome = 'Succeeded' | 'Failed' | 'Skipped';

/**
 * Classifies one scope (the flow's top level with `prefix` `''`, or one iteration `loop.<i>`).
 * A recorded key nested below a recorded ForEach member (`loop.0.child`) is represented by that
 * ForEach step, whose own status aggregates its iterations; nested keys without such a recorded
 * loop count on their own, as unhandled leaves (the reference's treatment of iteration keys).
 */
function classifyScope(
  scope: StepScope,
  prefix: string,
  statuses: ReadonlyMap<string, StepStatus>,
): RunOutcome {
  const full = (relative: string): string => (prefix === '' ? relative : `${prefix}.${relative}`);
  const members = new Map<string, StepStatus>();
  for (const [key, status] of statuses) {
    let relative = key;
    if (prefix !== '') {
      if (!key.startsWith(`${prefix}.`)) continue;
      relative = key.slice(prefix.length + 1);
    }
    const dot = relative.indexOf('.');
    if (dot >= 0) {
      const root = relative.slice(0, dot);
      const rootStep = Object.hasOwn(scope, root) ? scope[root] : undefined;
      if (rootStep && isForEachStep(rootStep) && statuses.has(full(root))) continue;
    }
    members.set(relative, status);
  }

  const values = [...members.values()];
  if (!values.includes('Succeeded')) {
    if (values.includes('Failed')) return 'Failed';
    return values.includes('Skipped') ? 'Skipped' : 'Failed';
  }

  // A failure is handled when a member of this scope lists it in its runAfter and Succeeded.
  const referenced = new Set<string>();
  const handled = new Set<string>();
  for (const [key, step] of Object.entries(scope)) {
    const succeeded = statuses.get(full(key)) === 'Succeeded';
    for (const [dependency] of runAfterEntries(step)) {
      referenced.add(dependency);
      if (succeeded) handled.add(dependency);
    }
  }
  for (const [key, status] of members) {
    if (status === 'Failed' && !handled.has(key)) return 'Failed';
  }
  const leaves = [...members].filter(([key]) => !referenced.has(key));
  if (leaves.length > 0 && leaves.every(([, status]) => status === 'Skipped')) return 'Skipped';
  return 'Succeeded';
}

/**
 * Run termination status from the (terminal) step statuses of a run, shared by the engine and
 * recovery (as the reference does):
 * 1. nothing `Succeeded` ⇒ `Failed` if anything failed, else `Skipped` if anything was skipped,
 *    else `Failed` (an empty map is `Failed`);
 * 2. a `Failed` step not handled ⇒ `Failed` (handled = a top-level step lists it in its runAfter
 *    and `Succeeded`);
 * 3. at least one leaf (a recorded key no top-level runAfter names) and every leaf `Skipped` ⇒
 *    `Skipped`;
 * 4. otherwise `Succeeded`.
 *
 * ForEach iterations are represented by their loop step once it is recorded: its status
 * aggregates them (a failed iteration fails the loop, and so the run unless a top-level step
 * handles the loop's failure). Iteration keys of a loop without a recorded status count on their
 * own as unhandled leaves.
 */
export function classifyRun(flow: FlowDefinition, statuses: ReadonlyMap<string, StepStatus>): RunOutcome {
  return classifyScope(flow.steps, '', statuses);
}

/**
 * Classifies one ForEach iteration (`iterationKey` = `<loop>.<i>`, nesting allowed) with the run
 * rules applied to its children: handled failures, all-leaves-skipped and so on are judged among
 * the iteration's siblings. Call it once every spawned child of the iteration is terminal.
 * Throws when `iterationKey` does not name an iteration of a ForEach step.
 */
export function classifyIteration(
  flow: FlowDefinition,
  iterationKey: string,
  statuses: ReadonlyMap<string, StepStatus>,
): RunOutcome {
  const loop = findStep(flow, iterationKey);
  if (!loop || !isForEachStep(loop) || !/\.\d+$/.test(iterationKey.trim())) {
    throw new TypeError(`'${iterationKey}' is not an iteration of a ForEach step ('<loop>.<index>').`);
  }
  const children = loopChildren(loop);
  // A loop without children has nothing to run in an iteration.
  if (Object.keys(children).length === 0) return 'Succeeded';
  return classifyScope(children, iterationKey.trim(), statuses);
}

/**
 * The aggregated status of a ForEach step after its `iterations` iterations (indexes
 * `0 … iterations-1`) have finished: `Failed` when any iteration classifies `Failed`
 * ({@link classifyIteration}), otherwise `Succeeded` (also for zero iterations).
 */
export function aggregateLoopStatus(
  flow: FlowDefinition,
  loopKey: string,
  iterations: number,
  statuses: ReadonlyMap<string, StepStatus>,
): 'Succeeded' | 'Failed' {
  // Group the iteration keys once, so large loops are not rescanned per iteration.
  const head = `${loopKey.trim()}.`;
  const byIteration = new Map<string, Map<string, StepStatus>>();
  for (const [key, status] of statuses) {
    if (!key.startsWith(head)) continue;
    const dot = key.indexOf('.', head.length);
    if (dot < 0) continue;
    const prefix = key.slice(0, dot);
    const group = byIteration.get(prefix) ?? new Map<string, StepStatus>();
    group.set(key, status);
    byIteration.set(prefix, group);
  }
  for (let index = 0; index < iterations; index++) {
    const prefix = `${head}${index}`;
    const outcome = classifyIteration(flow, prefix, byIteration.get(prefix) ?? new Map());
    if (outcome === 'Failed') return 'Failed';
  }
  return 'Succeeded';
}
