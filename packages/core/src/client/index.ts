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
  FlowView,
  GetRunOptions,
  HealthReport,
  RunControlView,
  RunEventView,
  RunLineage,
  RunListQuery,
  RunPage,
  RunSummary,
  RunTimeseriesOptions,
  RunView,
  ScheduleView,
  StepTypeView,
  StepView,
  StoredEventView,
  TriggeredRun,
  WaitOptions,
  WebhookDeliveryPage,
  WebhookDeliveryQuery,
  WebhookDeliveryView,
  WebhookStatsView,
} from './types.js';
