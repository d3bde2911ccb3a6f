/**
 * The flow client: operate flows and runs from code (trigger, cancel, retry, re-run, signal,
 * schedules, listing and reading runs, waiting for results) without executing anything.
 * @module
 */
export { createFlowClient } from './client.js';
export type {
  AttemptView,
  CancelResult,
  FlowClient,
  FlowClientOptions,
  GetRunOptions,
  RunEventView,
  RunListQuery,
  RunPage,
  RunSummary,
  RunView,
  ScheduleView,
  StepView,
  TriggeredRun,
  WaitOptions,
} from './types.js';
