import type { FlowDefinition, StepDefinition } from '../../model/types.js';
import { isTerminalStepStatus, type StepStatus } from '../../storage/statuses.js';

/**
 * The synthetic `runAfter` key of an "entry with When" step: its status gate is vacuous, its
 * `when` is still evaluated.
 */
export const ENTRY_WHEN_KEY = '';

/** A `runAfter` condition in normalised form. */
export interface NormalisedCondition {
  /** Accepted predecessor statuses; empty means "any terminal status". */
  readonly statuses: readonly StepStatus[];
  /** The `When` expression, or `null` when none (or only whitespace) was given. */
  readonly when: string | null;
}

/**
 * The runAfter of a step in normalised form (array shorthand → `{statuses}`), in declaration
 * order. `null`/`undefined` conditions are dropped, as the reference reader drops them.
 */
export function runAfterEntries(step: StepDefinition): ReadonlyArray<readonly [string, NormalisedCondition]> {
  const entries: Array<readonly [string, NormalisedCondition]> = [];
  for (const [dependency, condition] of Object.entries(step.runAfter ?? {})) {
    if (condition === null || condition === undefined) continue;
    if (Array.isArray(condition)) {
      entries.push([dependency, { statuses: [...condition], when: null }]);
      continue;
    }
    const { statuses, when } = condition as { statuses?: readonly StepStatus[] | null; when?: unknown };
    entries.push([
      dependency,
      {
        statuses: Array.isArray(statuses) ? [...statuses] : [],
        when: typeof when === 'string' && when.trim().length > 0 ? when : null,
      },
    ]);
  }
  return entries;
}

/**
 * Accepts `status` for this condition: a listed status, or any terminal status when the list is
 * empty (the reference accepted `Running`/`Pending` too; we accept terminal ones only — docs/decisions.md).
 */
export function acceptsStatus(condition: NormalisedCondition, status: StepStatus): boolean {
  return condition.statuses.length === 0 ? isTerminalStepStatus(status) : condition.statuses.includes(status);
}

/** True when the step has no dependencies, or only the synthetic `''` (entry-with-When) key. */
export function isEntryStep(step: StepDefinition): boolean {
  return runAfterEntries(step).every(([dependency]) => dependency === ENTRY_WHEN_KEY);
}

/**
 * Entry steps: top-level keys with empty runAfter or only the `''` key, in declaration order
 * (JavaScript puts integer-like keys such as `"1"` first, whatever the declaration order).
 */
export function entryStepKeys(flow: FlowDefinition): string[] {
  return Object.entries(flow.steps)
    .filter(([, step]) => isEntryStep(step))
    .map(([key]) => key);
}

/**
 * Top-level step keys that depend (transitively, via top-level runAfter) on `key`, in BFS order
 * (each level in declaration order), without `key` itself.
 */
export function descendantsOf(flow: FlowDefinition, key: string): string[] {
  const dependents = new Map<string, string[]>();
  for (const [stepKey, step] of Object.entries(flow.steps)) {
    for (const [dependency] of runAfterEntries(step)) {
      const list = dependents.get(dependency);
      if (list) list.push(stepKey);
      else dependents.set(dependency, [stepKey]);
    }
  }
  const seen = new Set<string>([key]);
  const order: string[] = [];
  const queue = [key];
  for (let i = 0; i < queue.length; i++) {
    for (const dependent of dependents.get(queue[i]!) ?? []) {
      if (seen.has(dependent)) continue;
      seen.add(dependent);
      order.push(dependent);
      queue.push(dependent);
    }
  }
  return order;
}
