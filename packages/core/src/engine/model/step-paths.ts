import type { FlowDefinition, ForEachStepDefinition, StepDefinition } from '../../model/types.js';

/** Longest step key the stores accept (the key columns are 256 characters wide). */
export const MAX_STEP_KEY_LENGTH = 256;

/** A map of step definitions by key: the top level of a flow or the children of a ForEach. */
export type StepScope = Readonly<Record<string, StepDefinition>>;

const INDEX_SEGMENT = /^\d+$/;

/** True when the definition is a ForEach step (type compared case-insensitively). */
export function isForEachStep(step: StepDefinition): step is ForEachStepDefinition {
  return typeof step.type === 'string' && step.type.toLowerCase() === 'foreach';
}

/** The child template of a ForEach step (`{}` when it declares none). */
export function loopChildren(step: ForEachStepDefinition): StepScope {
  return step.steps ?? {};
}

/** Splits a key on `.`, trimming segments and dropping empty ones. */
export function splitKey(key: string): string[] {
  return key
    .split('.')
    .map((segment) => segment.trim())
    .filter((segment) => segment.length > 0);
}

/** True for a segment made of decimal digits only, i.e. an iteration index. */
export function isIndexSegment(segment: string): boolean {
  return INDEX_SEGMENT.test(segment);
}

/** Drops iteration indexes from a runtime key: `loop.3.child` → `loop.child`. */
export function removeNumericSegments(key: string): string {
  return splitKey(key)
    .filter((segment) => !isIndexSegment(segment))
    .join('.');
}

/** Ordinal (UTF-16 code unit) comparison, the order the planner reports keys in. */
export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// `Object.hasOwn` keeps keys such as `constructor` from resolving to prototype members.
function own(scope: StepScope, key: string): StepDefinition | undefined {
  return Object.hasOwn(scope, key) ? scope[key] : undefined;
}

/**
 * Resolves a static or runtime key to its definition: `a`, the template path `loop.child`,
 * the runtime key `loop.3.child`, or `loop.3` (an iteration, which resolves to the loop itself).
 * A numeric segment directly after a ForEach step is an iteration index; a segment below a step
 * that is not a ForEach makes the key unresolvable. Returns `undefined` when nothing matches.
 */
export function findStep(flow: FlowDefinition, key: string): StepDefinition | undefined {
  const exact = own(flow.steps, key);
  if (exact) return exact;
  let scope: StepScope | undefined = flow.steps;
  let current: StepDefinition | undefined;
  let indexAllowed = false;
  for (const segment of splitKey(key)) {
    if (indexAllowed && isIndexSegment(segment)) {
      indexAllowed = false;
      continue;
    }
    current = scope ? own(scope, segment) : undefined;
    if (!current) return undefined;
    scope = isForEachStep(current) ? loopChildren(current) : undefined;
    indexAllowed = scope !== undefined;
  }
  return current;
}

/** The definition enclosing `key` (all segments but the last), or `undefined` for a top-level key. */
export function findParentStep(flow: FlowDefinition, key: string): StepDefinition | undefined {
  const segments = splitKey(key);
  if (segments.length < 2) return undefined;
  return findStep(flow, segments.slice(0, -1).join('.'));
}

/** One runtime iteration scope named by a key: its prefix (`loop.3`) and the ForEach template. */
export interface RuntimeScope {
  /** The iteration path, e.g. `outer.0.inner.2`. */
  readonly prefix: string;
  /** The ForEach step whose children live under `prefix`. */
  readonly loop: ForEachStepDefinition;
}

/**
 * Every iteration scope a runtime key passes through, outermost first:
 * `outer.0.inner.2.child` → `outer.0` (outer) and `outer.0.inner.2` (inner).
 */
export function runtimeScopes(flow: FlowDefinition, key: string): RuntimeScope[] {
  const found: RuntimeScope[] = [];
  const path: string[] = [];
  let scope: StepScope | undefined = flow.steps;
  let loop: ForEachStepDefinition | undefined;
  for (const segment of splitKey(key)) {
    path.push(segment);
    if (loop && isIndexSegment(segment)) {
      found.push({ prefix: path.join('.'), loop });
      loop = undefined;
      continue;
    }
    const step: StepDefinition | undefined = scope ? own(scope, segment) : undefined;
    if (!step) break;
    loop = isForEachStep(step) ? step : undefined;
    scope = loop ? loopChildren(loop) : undefined;
  }
  return found;
}

/**
 * The runtime key of a dependency of `stepKey`: an undotted dependency of a scoped key is a
 * sibling in the same iteration (`loop.0.b` depending on `a` → `loop.0.a`); a dotted dependency
 * is used verbatim; a top-level key's dependencies are top-level keys.
 */
export function runtimeDependencyKey(stepKey: string, dependency: string): string {
  if (dependency.includes('.')) return dependency;
  const cut = stepKey.lastIndexOf('.');
  return cut < 0 ? dependency : `${stepKey.slice(0, cut)}.${dependency}`;
}
