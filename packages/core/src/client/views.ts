import type {
  FlowEventRecord,
  FlowRunRecord,
  FlowStepAttemptRecord,
  FlowStepRecord,
} from '../storage/records.js';
import { RUN_EVENT_STEP_KEY } from '../storage/statuses.js';
import type { AttemptView, RunEventView, RunSummary, RunView, StepView } from './types.js';

/** Parses stored JSON text; text that is not JSON (written by hand, say) is returned as it is. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A run record as a summary (values parsed). */
export function toRunSummary(run: FlowRunRecord): RunSummary {
  return {
    id: run.id,
    flowId: run.flowId,
    flowName: run.flowName,
    status: run.status,
    triggerKey: run.triggerKey,
    triggerData: parseJson(run.triggerDataJson),
    jobId: run.backgroundJobId,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
    sourceRunId: run.sourceRunId,
  };
}

function toAttemptView(attempt: FlowStepAttemptRecord): AttemptView {
  return {
    attempt: attempt.attempt,
    status: attempt.status,
    input: parseJson(attempt.inputJson),
    output: parseJson(attempt.outputJson),
    error: attempt.errorMessage,
    startedAt: attempt.startedAt,
    completedAt: attempt.completedAt,
    jobId: attempt.jobId,
  };
}

/** A step record with parsed inputs, outputs, trace and attempts. */
export function toStepView(step: FlowStepRecord): StepView {
  return {
    key: step.stepKey,
    type: step.stepType,
    status: step.status,
    input: parseJson(step.inputJson),
    output: parseJson(step.outputJson),
    error: step.errorMessage,
    evaluationTrace: parseJson(step.evaluationTraceJson),
    startedAt: step.startedAt,
    completedAt: step.completedAt,
    jobId: step.jobId,
    attempts: step.attempts.map(toAttemptView),
  };
}

/** A stored event as returned to callers. */
export function toEventView(event: FlowEventRecord): RunEventView {
  return {
    sequence: event.sequence,
    timestamp: event.timestamp,
    type: event.type,
    stepKey: event.stepKey === RUN_EVENT_STEP_KEY ? null : event.stepKey,
    message: event.message,
  };
}

/** A run detail record (with steps) as a view; `outputs` holds every `Succeeded` step's output. */
export function toRunView(run: FlowRunRecord, events: readonly FlowEventRecord[]): RunView {
  const steps = (run.steps ?? []).map(toStepView);
  const outputs: Record<string, unknown> = {};
  for (const step of steps) {
    if (step.status === 'Succeeded') {
      Object.defineProperty(outputs, step.key, {
        value: step.output,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return {
    ...toRunSummary(run),
    triggerHeaders: run.triggerHeaders,
    steps,
    outputs,
    events: events.map(toEventView),
  };
}
