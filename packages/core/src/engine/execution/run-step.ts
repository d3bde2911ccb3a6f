import type { FlowDefinition, StepDefinition } from '../../model/types.js';
import type { TakenStep } from '../../storage/queue-store.js';
import { SkipReasons, type StepStatus } from '../../storage/statuses.js';
import { toJsonText } from '../../storage/support/json.js';
import { OutputKeys } from '../../storage/support/output-keys.js';
import { resolveInputs } from '../expressions/index.js';
import { findStep, isForEachStep } from '../model/index.js';
import { retryDelayMs, shouldRetry } from '../retry.js';
import type { SpanHandle } from '../telemetry.js';
import { type EngineContext, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { stepInputJson } from './enqueue.js';
import { startLoop } from './foreach.js';
import { invokeHandler, type StepOutcome } from './invoke.js';
import { startLease } from './lease.js';
import { iterationOf } from './loop-scope.js';
import { loadTrigger, runScope, type TriggerSnapshot } from './scope.js';
import { recordSkip } from './skip.js';
import { terminatedReason, terminationOf } from './termination.js';
import { type EngineTx, withRun } from './transition.js';
import { failingWhen, hasWhen } from './when.js';

/** Reason a handler's signal fires when this process shuts down. */
export const SHUTDOWN_REASON = 'Orchestrator is shutting down.';

/** Transitions that end an execution free its worker slot for a successor taken in them. */
const FREES_OWN_SLOT = { freesSlots: 1 } as const;

/** How long a step of a flow this instance does not know waits before another replica may try. */
const UNKNOWN_FLOW_RETRY_MS = 5_000;

/**
 * Executes one step this instance took from the queue (its claim is held): termination and
 * `When` checks, the start transition, the handler (lease renewed, per-step timeout), then the
 * completion transition — outcome, successors and run closure in one atomic write.
 * Losing the claim at any point means another worker owns the step: return quietly.
 */
export async function executeTaken(
  ctx: EngineContext,
  item: TakenStep,
  stopping: () => boolean,
): Promise<void> {
  await ctx.telemetry.span(
    'flow.step',
    { 'flow.id': item.flowId, 'run.id': item.runId, 'step.key': item.stepKey },
    (span) => runStep(ctx, item, stopping, span),
  );
}

async function runStep(
  ctx: EngineContext,
  item: TakenStep,
  stopping: () => boolean,
  span: SpanHandle,
): Promise<void> {
  const { runId, stepKey } = item;
  const flow = findFlow(ctx, item.flowId);
  if (!flow) {
    // Another replica (a newer deployment) may know the flow: hand the step back for later.
    ctx.logger.warn('step of an unknown flow handed back', { runId, flowId: item.flowId, stepKey });
    const later = new Date(ctx.storage.clock.now().getTime() + UNKNOWN_FLOW_RETRY_MS);
    await ctx.storage.queue.release(runId, stepKey, item.owner, later);
    return;
  }
  const log = ctx.logger.child({ runId, flowId: flow.id, stepKey });
  const controller = new AbortController();
  const runKey = runId.toLowerCase();
  const mine = ctx.running.get(runKey) ?? new Set<AbortController>();
  mine.add(controller);
  ctx.running.set(runKey, mine);
  const lease = startLease(ctx, runId, stepKey, item.owner, controller);
  try {
    const step = findStep(flow, stepKey);
    const termination = terminationOf(item.control, ctx.storage.clock.now());
    if (termination || !step) {
      const reason = termination ? terminatedReason(termination) : SkipReasons.metadataNotFound;
      await lease.stop();
      await skipTaken(ctx, flow, item, { type: step?.type ?? 'Unknown', reason, message: reason });
      return;
    }
    const trigger = await loadTrigger(ctx, runId);
    if (hasWhen(flow, stepKey)) {
      const failed = await failingWhen(ctx, flow, runId, stepKey, trigger);
      if (failed) {
        await lease.stop();
        await skipTaken(ctx, flow, item, {
          type: step.type,
          reason: SkipReasons.whenFalse(failed.expression, failed.resolved),
          message: `Step '${stepKey}' skipped because '${failed.expression}' evaluated to false.`,
          metricReason: 'when_false',
          traceJson: JSON.stringify(failed),
        });
        return;
      }
    }
    // Taken by a completing transition, a step is usually started there already.
    if (!item.started && !(await startTaken(ctx, flow, step, item))) return;
    if (isForEachStep(step)) {
      const resolved = await resolveInputs({ items: step.forEach }, runScope(ctx, flow, runId, trigger));
      // Strings and scalars are not collections; a JSON array is.
      const items = Array.isArray(resolved.items) ? resolved.items : [];
      await lease.stop();
      await withRun(
        ctx,
        runId,
        async (t) => {
          if (startLoop(t, flow, stepKey, step, items, item.owner)) {
            await continueRun(ctx, t, flow, { completingStepKey: stepKey });
          }
        },
        FREES_OWN_SLOT,
      );
      return;
    }
    const outcome = await runHandler(ctx, flow, step, item, controller, trigger, span);
    await lease.stop();
    if (!lease.held() || ctx.halted) return; // someone else owns it now, or stop() gave up on us
    if (stopping() && controller.signal.aborted) {
      // Shutting down mid-handler: hand the step back so another replica continues at once.
      await ctx.storage.queue.release(runId, stepKey, item.owner);
      return;
    }
    await finishStep(ctx, flow, step, item, outcome);
  } catch (error) {
    log.error('step execution failed', { error });
  } finally {
    await lease.stop();
    mine.delete(controller);
    if (mine.size === 0) ctx.running.delete(runKey);
  }
}

/** Skips a step this instance took, and moves the run on, in one transition. */
async function skipTaken(
  ctx: EngineContext,
  flow: FlowDefinition,
  item: TakenStep,
  skip: Parameters<typeof recordSkip>[4],
): Promise<void> {
  await withRun(
    ctx,
    item.runId,
    async (t) => {
      // A step its taker already started ends its running attempt Skipped; otherwise the skip
      // is recorded as an attempt of its own, with no visible Running state.
      let skipped: boolean;
      if (item.started) {
        skipped = t.tx.finish(
          item.stepKey,
          { status: 'Skipped', outputJson: null, errorMessage: skip.reason, owner: item.owner },
          { kind: 'done' },
        );
        if (skipped) emitStep(t, flow, item.stepKey, 'step.skipped', 'Skipped', skip.message);
      } else {
        skipped = recordSkip(ctx, t, flow, item.stepKey, { ...skip, owner: item.owner });
      }
      if (!skipped) return;
      await continueRun(ctx, t, flow, { completingStepKey: item.stepKey });
    },
    FREES_OWN_SLOT,
  );
}

/** The start transition: attempt + Running row + `step.started`, fenced by the claim. */
async function startTaken(
  ctx: EngineContext,
  flow: FlowDefinition,
  step: StepDefinition,
  item: TakenStep,
): Promise<boolean> {
  const message = `Step '${item.stepKey}' started.`;
  const at = ctx.storage.clock.now();
  const started = await ctx.storage.queue.startStep({
    runId: item.runId,
    stepKey: item.stepKey,
    owner: item.owner,
    stepType: step.type,
    inputJson: stepInputJson(step, item.stepKey),
    ...(item.jobId ? { jobId: item.jobId } : {}),
    ...(ctx.settings.persistEvents
      ? { event: { type: 'step.started', message, stepKey: item.stepKey, timestamp: at } }
      : {}),
  });
  if (!started) return false;
  ctx.bus.publish({
    type: 'step.started',
    flowId: flow.id,
    runId: item.runId,
    stepKey: item.stepKey,
    status: 'Running',
    message,
    at,
  });
  return true;
}

/** Calls the handler with its context, bounded by the step's timeout. Never throws. */
async function runHandler(
  ctx: EngineContext,
  flow: FlowDefinition,
  step: StepDefinition,
  item: TakenStep,
  controller: AbortController,
  trigger: TriggerSnapshot,
  span: SpanHandle,
): Promise<StepOutcome> {
  const { runId, stepKey } = item;
  const metricTags = { flow_id: flow.id, step_key: stepKey };
  const began = ctx.storage.clock.now().getTime();
  span.set({ 'step.type': step.type });
  ctx.telemetry.record('flow_step_queue_delay_ms', Math.max(0, began - item.visibleAt.getTime()), metricTags);
  const handler = invokeHandler(
    ctx,
    step,
    {
      flow,
      runId,
      stepKey,
      stepType: step.type,
      triggerData: trigger.data,
      triggerHeaders: trigger.headers,
      attempt: item.attempt,
      signal: controller.signal,
      logger: ctx.logger.child({ runId, flowId: flow.id, stepKey }),
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
  const outcome = await withStepTimeout(ctx, step, stepKey, controller, handler);
  const duration = ctx.storage.clock.now().getTime() - began;
  ctx.telemetry.record('flow_step_duration_ms', duration, { ...metricTags, status: outcome.status });
  ctx.telemetry.count('flow_steps_completed', { flow_id: flow.id, status: outcome.status });
  if (outcome.status === 'Failed') span.fail(outcome.reason ?? 'step failed', outcome.cause);
  return outcome;
}

/** Races the handler against the step's timeout; on timeout its signal is aborted and the attempt fails. */
async function withStepTimeout(
  ctx: EngineContext,
  step: StepDefinition,
  stepKey: string,
  controller: AbortController,
  handler: Promise<StepOutcome>,
): Promise<StepOutcome> {
  const limit = step.timeoutMs ?? ctx.settings.defaultStepTimeoutMs;
  if (limit === null || limit === undefined || !(limit > 0)) return handler;
  let timer: unknown;
  const timedOut = new Promise<StepOutcome>((resolve) => {
    timer = ctx.timers.setTimeout(() => {
      const reason = `Step '${stepKey}' timed out after ${limit} ms.`;
      controller.abort(new Error(reason));
      resolve({ status: 'Failed', output: null, reason, delayMs: null });
    }, limit);
  });
  try {
    return await Promise.race([handler, timedOut]);
  } finally {
    ctx.timers.clearTimeout(timer);
  }
}

/** The completion transition: fenced outcome, retry/poll re-queue or successors, run closure. */
async function finishStep(
  ctx: EngineContext,
  flow: FlowDefinition,
  step: StepDefinition,
  item: TakenStep,
  outcome: StepOutcome,
): Promise<void> {
  const { runId, stepKey, attempt } = item;
  await withRun(
    ctx,
    runId,
    async (t) => {
      if (!t.tx.holds(stepKey, item.owner)) {
        ctx.logger.warn('step result discarded: claim lost to another worker', { runId, stepKey });
        return;
      }
      const termination = terminationOf(t.tx.control, ctx.storage.clock.now());
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
      t.tx.saveOutput(stepKey, JSON.parse(outputJson));
      if (outcome.inputs)
        t.tx.saveOutput(OutputKeys.stepInput(stepKey), outcome.inputs, `inputs of step '${stepKey}'`);
      const now = ctx.storage.clock.now().getTime();
      const finish = (s: StepStatus, error: string | null, next: Parameters<typeof t.tx.finish>[2]) =>
        t.tx.finish(stepKey, { status: s, outputJson, errorMessage: error, owner: item.owner }, next);

      if (status === 'Failed' && shouldRetry(step.retry, attempt, reason ?? '', outcome.cause)) {
        const delay = retryDelayMs(step.retry!, attempt);
        // Pending keeps the run open and its dependents waiting until the retry settles.
        const note = `Attempt ${attempt} failed; retrying in ${delay} ms: ${reason ?? 'no reason given'}`;
        finish('Pending', note, { kind: 'requeue', visibleAt: new Date(now + delay), attempt: attempt + 1 });
        emitStep(t, flow, stepKey, 'step.failed', 'Failed', note);
        return;
      }
      if (status === 'Pending') {
        ctx.telemetry.count('flow_step_poll_attempts', { flow_id: flow.id, step_key: stepKey });
        const delay = outcome.delayMs ?? ctx.settings.defaultPendingDelayMs;
        finish('Pending', reason, { kind: 'requeue', visibleAt: new Date(now + delay), attempt });
        emitStep(t, flow, stepKey, 'step.pending', status, `Step '${stepKey}' pending for ${delay} ms.`);
        return;
      }
      finish(status, reason, { kind: 'done' });
      emitStep(
        t,
        flow,
        stepKey,
        status === 'Failed' ? 'step.failed' : status === 'Skipped' ? 'step.skipped' : 'step.completed',
        status,
        status === 'Failed'
          ? (reason ?? `Step '${stepKey}' failed.`)
          : `Step '${stepKey}' completed with status ${status}.`,
      );
      await continueRun(ctx, t, flow, {
        delayMs: status === 'Succeeded' ? outcome.delayMs : null,
        completingStepKey: stepKey,
      });
    },
    FREES_OWN_SLOT,
  );
}

function emitStep(
  t: EngineTx,
  flow: FlowDefinition,
  stepKey: string,
  type: 'step.failed' | 'step.pending' | 'step.completed' | 'step.skipped',
  status: string,
  message: string,
): void {
  t.emit({ type, flowId: flow.id, runId: t.tx.runId, stepKey, status, message });
}
