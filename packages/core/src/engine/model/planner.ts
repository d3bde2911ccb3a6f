import type { FlowDefinition, PlanResult, StepDefinition } from '../../model/types.js';
import { isTerminalStepStatus, type StepStatus } from '../../storage/statuses.js';
import { acceptsStatus, ENTRY_WHEN_KEY, runAfterEntries } from './run-after.js';
import { compareOrdinal, findStep, loopChildren, runtimeDependencyKey, runtimeScopes } from './step-paths.js';

/** How one unrecorded step stands against the recorded statuses. */
export type Readiness = 'ready' | 'blocked' | 'waiting';

/**
 * Assesses one unrecorded step (`key` is its runtime key, used to resolve sibling dependencies):
 * `ready` when every dependency (the synthetic `''` key aside) has a status its condition accepts,
 * `blocked` when some dependency ended in a terminal status its condition rejects (it can never
 * run), otherwise `waiting`.
 */
export function assessStep(
  key: string,
  step: StepDefinition,
  statuses: ReadonlyMap<string, StepStatus>,
): Readiness {
  let satisfied = true;
  for (const [dependency, condition] of runAfterEntries(step)) {
    if (dependency === ENTRY_WHEN_KEY) continue;
    const status = statuses.get(runtimeDependencyKey(key, dependency));
    if (status !== undefined && acceptsStatus(condition, status)) continue;
    if (status !== undefined && isTerminalStepStatus(status)) return 'blocked';
    satisfied = false;
  }
  return satisfied ? 'ready' : 'waiting';
}

/**
 * The keys the planner considers: the top-level keys plus, for every iteration scope
 * `<loop>.<i>` named by a recorded or spawned key, every child of that scope (`<loop>.<i>.<child>`).
 * An iteration's children only become known once the engine has spawned or recorded something in it.
 */
export function knownStepKeys(
  flow: FlowDefinition,
  statuses: ReadonlyMap<string, StepStatus>,
  spawned: Iterable<string> = [],
): string[] {
  const known = new Set(Object.keys(flow.steps));
  const expanded = new Set<string>();
  const expand = (key: string): void => {
    if (Object.hasOwn(flow.steps, key)) return; // top-level keys open no scope
    for (const { prefix, loop } of runtimeScopes(flow, key)) {
      if (expanded.has(prefix)) continue;
      expanded.add(prefix);
      for (const child of Object.keys(loopChildren(loop))) known.add(`${prefix}.${child}`);
    }
  };
  for (const key of statuses.keys()) expand(key);
  for (const key of spawned) expand(key);
  return [...known].sort(compareOrdinal);
}

/**
 * Planner: which not-yet-recorded steps are ready / blocked / waiting given the recorded statuses
 * (keys are runtime keys, including ForEach children `loop.<i>.<child>`), each list in ordinal
 * order. Known keys are those of {@link knownStepKeys}. A ForEach step's own key is recorded by
 * the engine, whose status aggregates the iterations, so steps after a loop wait for all of them.
 * `spawned` lists iteration keys the engine has created but not recorded yet.
 */
export function planRun(
  flow: FlowDefinition,
  statuses: ReadonlyMap<string, StepStatus>,
  spawned: Iterable<string> = [],
): PlanResult {
  const plan: Record<Readiness, string[]> = { ready: [], blocked: [], waiting: [] };
  for (const key of knownStepKeys(flow, statuses, spawned)) {
    if (statuses.has(key)) continue;
    const step = findStep(flow, key);
    if (!step) continue;
    plan[assessStep(key, step, statuses)].push(key);
  }
  return plan;
}
