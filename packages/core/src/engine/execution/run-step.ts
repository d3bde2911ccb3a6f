import type { FlowDefinition, StepDefinition } from '../../model/types.js';
import { SkipReasons } from '../../storage/statuses.js';
import { toJsonText } from '../../storage/support/json.js';
import { OutputKeys } from '../../storage/support/output-keys.js';
import { findStep, isForEachStep } from '../model/index.js';
import { retryDelayMs, shouldRetry } from '../retry.js';
import type { StepMessage } from '../runtime/dispatcher.js';
import type { SpanHandle } from '../telemetry.js';
import { type EngineContext, emit, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { startLoop } from './foreach.js';
import { invokeHandler, type StepOutcome } from './invoke.js';
import { startLease } from './lease.js';
import { iterationOf } from './loop-scope.js';
import { releaseStep, scheduleStep } from './scheduling.js';
import { loadTrigger, runScope, type TriggerSnapshot } from './scope.js';
import { recordSkip } from './skip.js';
import { resolveTermination, type Termination, terminatedReason } from './termination.js';

/** Reason a handler's signal fires when this process shuts down. */
export const SHUTDOWN_REASON = 'Orchestrator is shutting down.';

/**
 * Executes one delivered step message: claim (with a lease), termination check, start record,
 * handler, persistence, then Pending reschedule, automatic retry or graph continuation.
 * Losing the claim at any point means another worker owns the step: return quietly.
 */
export async function executeStep(
  ctx: EngineContext,
  message: StepMessage,
  stopping: () => boolean,
): Promise<void> {
  await ctx.telemetry.span(
    'flow.step',
    { 'flow.id': message.flowId, 'run.id': message.runId, 'step.key': message.stepKey },
    (span) => runStep(ctx, message, stopping, span),
  );
}

async function runStep(
  ctx: EngineContext,
  message: StepMessage,
  stopping: () => boolean,
  span: SpanHandle,
): Promise<void> {
  const flow = findFlow(ctx, message.flowId);
  if (!flow) {
    ctx.logger.warn('message for an unknown flow dropped', { ...message });
    return;
  }
  const { runId, stepKey } = message;
  const log = ctx.logger.child({ runId, flowId: flow.id, stepKey });
  const claimed = await ctx.storage.runtime.tryClaimStep(runId, stepKey, {
    owner: ctx.instanceId,
    durationMs: ctx.settings.leaseMs,
  });
  if (!claimed) {
    span.set({ 'flow.step.claim_lost': true });
    return;
  }

  const controller = new AbortController();
  const runKey = runId.toLowerCase();
  const mine = ctx.running.get(runKey) ?? new Set<AbortController>();
  mine.add(controller);
  ctx.running.set(runKey, mine);
  const lease = startLease(ctx, runId, stepKey, controller);
  try {
    const termination = await resolveTermination(ctx, runId);
    const step = findStep(flow, stepKey);
    if (termination || !step) {
      const reason = termination ? terminatedReason(termination) : SkipReasons.metadataNotFound;
      await recordSkip(ctx, flow, runId, stepKey, { type: step?.type ?? 'Unknown', reason, message: reason });
      await continueRun(ctx, flow, runId, null, stepKey);
      return;
    }
    const inputJson = toJsonText(step.inputs ?? {}, `inputs of step '${stepKey}'`);
    const started = await ctx.storage.runs.recordStepStart({
      runId,
      stepKey,
      stepType: step.type,
      inputJson,
      jobId: null,
      owner: ctx.instanceId,
    });
    if (!started) return;
    await emit(ctx, {
      type: 'step.started',
      flowId: flow.id,
      runId,
      stepKey,
      status: 'Running',
      message: `Step '${stepKey}' started.`,
    });

    const trigger = await loadTrigger(ctx, runId);
    if (isForEachStep(step)) {
      await startLoop(ctx, flow, runId, stepKey, step, trigger);
      await continueRun(ctx, flow, runId, null, stepKey, trigger);
      return;
    }
    const attempt = message.attempt ?? 1;
    const metricTags = { flow_id: flow.id, step_key: stepKey };
    const began = ctx.storage.clock.now().getTime();
    span.set({ 'step.type': step.type });
    ctx.telemetry.record('flow_step_queue_delay_ms', Math.max(0, began - message.scheduledAt), metricTags);
    const outcome = await invokeHandler(
      ctx,
      step,
      {
        flow,
        runId,
        stepKey,
        stepType: step.type,
        triggerData: trigger.data,
        triggerHeaders: trigger.headers,
        attempt,
        signal: controller.signal,
        logger: log,
        loop: stepKey.includes('.') ? await iterationOf(ctx, flow, runId, stepKey) : null,
        now: () => ctx.storage.clock.now(),
        state: {
          // Stored beside the outputs under a key no step can have (step keys may not contain ':').
          get: () => ctx.storage.outputs.getStepOutput(runId, OutputKeys.stepState(stepKey)),
          set: (value) => ctx.storage.outputs.saveStepOutput(runId, OutputKeys.stepState(stepKey), value),
          clear: () => ctx.storage.outputs.saveStepOutput(runId, OutputKeys.stepState(stepKey), null),
        },
      },
      runScope(ctx, flow, runId, trigger, stepKey),
    );
    const duration = ctx.storage.clock.now().getTime() - began;
    ctx.telemetry.record('flow_step_duration_ms', duration, { ...metricTags, status: outcome.status });
    ctx.telemetry.count('flow_steps_completed', { flow_id: flow.id, status: outcome.status });
    if (outcome.status === 'Failed') span.fail(outcome.reason ?? 'step failed', outcome.cause);
    if (!lease.held()) return; // a lapsed lease means someone else may own the step now
    if (stopping() && controller.signal.aborted) {
      // Shutting down mid-handler: hand the step back for another replica (or our restart).
      await releaseStep(ctx, runId, stepKey);
      return;
    }
    // Only a Pending or Failed outcome changes meaning in a terminated run; spare the read otherwise.
    const after =
      outcome.status === 'Pending' || outcome.status === 'Failed' || controller.signal.aborted
        ? await resolveTermination(ctx, runId)
        : null;
    await finishStep(ctx, flow, step, runId, stepKey, attempt, outcome, after, trigger);
  } catch (error) {
    log.error('step execution failed', { error });
  } finally {
    lease.stop();
    mine.delete(controller);
    if (mine.size === 0) ctx.running.delete(runKey);
  }
}

/** Persists the outcome and decides what happens next. */
async function finishStep(
  ctx: EngineContext,
  flow: FlowDefinition,
  step: StepDefinition,
  runId: string,
  stepKey: string,
  attempt: number,
  outcome: StepOutcome,
  termination: Termination,
  trigger: TriggerSnapshot,
): Promise<void> {
  let { status, reason, output } = outcome;
  if (termination && (status === 'Pending' || status === 'Failed')) {
    // Work cut short by cancel/timeout is not a failure of the step.
    status = 'Skipped';
    reason = terminatedReason(termination);
  }
  let outputJson: string;
  try {
    outputJson = toJsonText(output ?? null, `output of step '${stepKey}'`);
  } catch (error) {
    status = 'Failed';
    reason = (error as Error).message;
    output = null;
    outputJson = 'null';
  }
  await ctx.storage.outputs.saveStepOutput(runId, stepKey, output ?? null);

  const retrying = status === 'Failed' && shouldRetry(step.retry, attempt, reason ?? '', outcome.cause);
  if (retrying) {
    const delay = retryDelayMs(step.retry!, attempt);
    // Pending keeps the run open and its dependents waiting until the retry settles.
    const note = `Attempt ${attempt} failed; retrying in ${delay} ms: ${reason ?? 'no reason given'}`;
    if (!(await complete(ctx, runId, stepKey, 'Pending', outputJson, note))) return;
    await emit(ctx, {
      type: 'step.failed',
      flowId: flow.id,
      runId,
      stepKey,
      status: 'Failed',
      message: note,
    });
    await releaseStep(ctx, runId, stepKey);
    await scheduleStep(ctx, flow.id, runId, stepKey, delay, attempt + 1);
    return;
  }

  if (!(await complete(ctx, runId, stepKey, status, outputJson, reason))) return;
  if (status === 'Pending') {
    ctx.telemetry.count('flow_step_poll_attempts', { flow_id: flow.id, step_key: stepKey });
    const delay = outcome.delayMs ?? ctx.settings.defaultPendingDelayMs;
    await releaseStep(ctx, runId, stepKey);
    await scheduleStep(ctx, flow.id, runId, stepKey, delay, attempt);
    await emit(ctx, {
      type: 'step.pending',
      flowId: flow.id,
      runId,
      stepKey,
      status,
      message: `Step '${stepKey}' pending for ${delay} ms.`,
    });
    return;
  }
  await emit(ctx, {
    type: status === 'Failed' ? 'step.failed' : status === 'Skipped' ? 'step.skipped' : 'step.completed',
    flowId: flow.id,
    runId,
    stepKey,
    status,
    message:
      status === 'Failed'
        ? (reason ?? `Step '${stepKey}' failed.`)
        : `Step '${stepKey}' completed with status ${status}.`,
  });
  await continueRun(ctx, flow, runId, status === 'Succeeded' ? outcome.delayMs : null, stepKey, trigger);
}

/** Fenced completion: false when this instance no longer holds the claim. */
async function complete(
  ctx: EngineContext,
  runId: string,
  stepKey: string,
  status: 'Succeeded' | 'Failed' | 'Skipped' | 'Pending',
  outputJson: string,
  errorMessage: string | null,
): Promise<boolean> {
  const ok = await ctx.storage.runs.recordStepComplete({
    runId,
    stepKey,
    status,
    outputJson,
    errorMessage,
    owner: ctx.instanceId,
  });
  if (!ok) ctx.logger.warn('step result discarded: claim lost to another worker', { runId, stepKey });
  return ok;
}
