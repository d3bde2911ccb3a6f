/**
 * The pure flow model of the engine: manifest serialisation, step keys and scope paths,
 * validation, the planner and the run-termination classifier. No I/O, no clocks.
 * @module
 */
export {
  aggregateLoopStatus,
  classifyIteration,
  classifyRun,
  type RunOutcome,
} from './classifier.js';
export {
  type FlowIdentity,
  flowFromManifest,
  parseManifest,
  parseManifestStatus,
  toManifest,
} from './manifest.js';
export { assessStep, knownStepKeys, planRun, type Readiness } from './planner.js';
export {
  acceptsStatus,
  descendantsOf,
  ENTRY_WHEN_KEY,
  entryStepKeys,
  isEntryStep,
  type NormalisedCondition,
  runAfterEntries,
} from './run-after.js';
export {
  compareOrdinal,
  findParentStep,
  findStep,
  isForEachStep,
  isIndexSegment,
  loopChildren,
  MAX_STEP_KEY_LENGTH,
  type RuntimeScope,
  removeNumericSegments,
  runtimeDependencyKey,
  runtimeScopes,
  type StepScope,
  splitKey,
} from './step-paths.js';
export { validateFlow } from './validate.js';
