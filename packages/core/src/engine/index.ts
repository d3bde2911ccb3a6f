export { definePollingHandler, type PollingOptions, pollConditionMatches } from './builtins/polling.js';
export { waitForSignalHandler } from './builtins/wait-for-signal.js';
export type { EngineEvent, EngineEventListener } from './events.js';
export type { LocalExecutor } from './execution/context.js';
export type { RecoveryReport } from './execution/recovery.js';
export type { TriggerRequest, TriggerResult } from './execution/trigger.js';
export type { StepState } from './handlers.js';
export {
  defineHandler,
  isStepResult,
  type StepContext,
  type StepHandler,
  type StepHandlerFn,
  type StepResult,
  StepResults,
  type TypedStepHandler,
} from './handlers.js';
export { retryDelayMs } from './retry.js';
export type { StepRuntime, StepRuntimeFactory, StepRuntimeHost } from './runtime/step-runtime.js';
export type { Attributes, SpanHandle, Telemetry } from './telemetry.js';
