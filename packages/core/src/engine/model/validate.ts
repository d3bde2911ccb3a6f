import type { FlowDefinition, StepDefinition } from '../../model/types.js';
import { STEP_STATUSES } from '../../storage/statuses.js';
import { ENTRY_WHEN_KEY, isEntryStep, runAfterEntries } from './run-after.js';
import {
  isForEachStep,
  isIndexSegment,
  loopChildren,
  MAX_STEP_KEY_LENGTH,
  removeNumericSegments,
  runtimeDependencyKey,
  type StepScope,
  splitKey,
} from './step-paths.js';

/** A step with its template path (`loop.child` for a ForEach child). */
interface FlatStep {
  readonly path: string;
  readonly key: string;
  /** Template path of the enclosing ForEach, or `null` at the top level. */
  readonly parent: string | null;
  readonly step: StepDefinition;
}

function flatten(scope: StepScope, parent: string | null, into: FlatStep[]): FlatStep[] {
  for (const [key, step] of Object.entries(scope)) {
    const path = parent === null ? key : `${parent}.${key}`;
    into.push({ path, key, parent, step });
    if (isForEachStep(step)) flatten(loopChildren(step), path, into);
  }
  return into;
}

/**
 * True when `key` names a step the engine can record: every ForEach on the way is followed by an
 * iteration index (`loop.3.child`), and the key ends on a step.
 */
function isRecordableKey(flow: FlowDefinition, key: string): boolean {
  let scope: StepScope | undefined = flow.steps;
  let expectIndex = false;
  let endsOnStep = false;
  for (const segment of splitKey(key)) {
    if (expectIndex) {
      if (!isIndexSegment(segment)) return false;
      expectIndex = false;
      endsOnStep = false;
      continue;
    }
    const step: StepDefinition | undefined =
      scope && Object.hasOwn(scope, segment) ? scope[segment] : undefined;
    if (!step) return false;
    scope = isForEachStep(step) ? loopChildren(step) : undefined;
    expectIndex = scope !== undefined;
    endsOnStep = true;
  }
  return endsOnStep;
}

function keyErrors(entry: FlatStep): string[] {
  const where = entry.parent === null ? '' : ` in ForEach '${entry.parent}'`;
  if (entry.key.trim().length === 0) return [`Flow has a step with an empty key${where}.`];
  const errors: string[] = [];
  const label = `Step key '${entry.key}'${where}`;
  // The outputs table keys its own rows `__trigger:data` etc.; step keys must never collide with them.
  if (entry.key.includes(':')) errors.push(`${label} contains ':', which is reserved.`);
  if (entry.key.startsWith('__')) errors.push(`${label} starts with '__', which is reserved.`);
  // `.` separates scope paths (`loop.3.child`); a dotted key would be ambiguous.
  if (entry.key.includes('.')) errors.push(`${label} contains '.', which separates scope paths.`);
  if (entry.path.length > MAX_STEP_KEY_LENGTH) {
    errors.push(
      `Step key '${entry.path.slice(0, 32)}…' is ${entry.path.length} characters long; ` +
        `the limit is ${MAX_STEP_KEY_LENGTH}.`,
    );
  }
  return errors;
}

/**
 * Finds a cycle in `edges` (node → nodes it depends on) with an iterative three-colour DFS.
 * @returns the cycle as a path that ends where it starts (`['a', 'b', 'a']`), or null
 */
function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  for (const root of edges.keys()) {
    if (state.has(root)) continue;
    const stack: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const targets = edges.get(frame.node) ?? [];
      if (frame.next >= targets.length) {
        state.set(frame.node, 'done');
        stack.pop();
        continue;
      }
      const target = targets[frame.next++]!;
      const seen = state.get(target);
      if (seen === 'open') {
        // The open frames from `target` up to here are the cycle (in depends-on order).
        const from = stack.findIndex((f) => f.node === target);
        return [...stack.slice(from).map((f) => f.node), target];
      }
      if (seen === undefined) {
        state.set(target, 'open');
        stack.push({ node: target, next: 0 });
      }
    }
  }
  return null;
}

/**
 * Validates a flow graph and returns every error found (`[]` when valid). Steps are flattened
 * (ForEach children as `loop.child`) and checked for: no steps (`"Flow has no steps."`, reported
 * alone), no top-level entry step, reserved or malformed keys (`:` anywhere, a `__` prefix, `.`,
 * blank, template path over 256 characters), empty types, unknown runAfter statuses, missing
 * dependencies, dependencies that are never recorded under their key at run time (a ForEach child
 * named by its template path), and cycles (self-loops included; a ForEach child implicitly
 * depends on its loop); a cycle is reported first, naming its path. The `''` runAfter key (entry with When) is accepted. `When` syntax is not
 * checked here.
 */
export function validateFlow(flow: FlowDefinition): string[] {
  if (Object.keys(flow.steps ?? {}).length === 0) return ['Flow has no steps.'];
  const flat = flatten(flow.steps, null, []);
  const byPath = new Map(flat.map((entry) => [entry.path, entry]));
  const errors = flat.flatMap(keyErrors);

  const edges = new Map<string, string[]>();
  for (const entry of flat) {
    const { path, step } = entry;
    const targets: string[] = entry.parent === null ? [] : [entry.parent];
    edges.set(path, targets);
    if (typeof step.type !== 'string' || step.type.trim().length === 0) {
      errors.push(`Step '${path}' has empty type.`);
    }
    for (const [dependency, condition] of runAfterEntries(step)) {
      for (const status of condition.statuses) {
        if (!STEP_STATUSES.includes(status)) {
          errors.push(`Step '${path}' accepts unknown status '${String(status)}' from '${dependency}'.`);
        }
      }
      if (dependency === ENTRY_WHEN_KEY) continue;
      const dotted = dependency.includes('.');
      const template = dotted ? removeNumericSegments(dependency) : runtimeDependencyKey(path, dependency);
      if (!byPath.has(template)) {
        errors.push(`Step '${path}' depends on missing step '${dependency}'.`);
        continue;
      }
      if (dotted && !isRecordableKey(flow, dependency)) {
        errors.push(
          `Step '${path}' depends on '${dependency}', which is never recorded under that key ` +
            `(ForEach children run as '<loop>.<index>.<child>'); depend on the ForEach step, ` +
            `or on a sibling by its own key.`,
        );
      }
      targets.push(template);
    }
  }
  const cycle = findCycle(edges);
  // Only a top-level entry can start a run (caught at registration, not at trigger time).
  // A cycle is usually why there is none, so it is named first.
  const noEntry = !Object.values(flow.steps).some(isEntryStep);
  return [
    ...(cycle ? [`Flow has a dependency cycle: ${cycle.join(' → ')} (each step waits for the next).`] : []),
    ...(noEntry ? ['Flow has no entry step (step with empty runAfter).'] : []),
    ...errors,
  ];
}
