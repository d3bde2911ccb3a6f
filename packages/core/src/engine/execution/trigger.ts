import { randomUUID } from 'node:crypto';
import { FlowNotFoundError, InvalidArgumentError } from '../../errors.js';
import { toJsonText } from '../../storage/support/json.js';
import { lowerCaseHeaders } from '../../storage/support/text.js';
import { entryStepKeys } from '../model/index.js';
import { type EngineContext, emit, findFlow } from './context.js';
import { continueRun } from './continuation.js';
import { scheduleStep } from './scheduling.js';
import { rememberTrigger } from './scope.js';
import { skipIfWhenFalse } from './when.js';

/** What starts a run. */
export interface TriggerRequest {
  /** Trigger key from the flow's `triggers` (default `manual`). */
  readonly triggerKey?: string;
  /** JSON payload (the trigger body). */
  readonly data?: unknown;
  /** Request headers; names are stored lower-cased. */
  readonly headers?: Readonly<Record<string, string>> | null;
  /** Deduplication key; defaults to the idempotency header when present. */
  readonly idempotencyKey?: string;
  /** Use this run id instead of a new UUID. */
  readonly runId?: string;
  /** Runtime job id that caused the trigger (cron job id, message id). */
  readonly jobId?: string;
  /** The run this one re-runs. */
  readonly sourceRunId?: string;
  /** Deadline in ms from now (overrides `runTimeoutSeconds` in the data and the default). */
  readonly timeoutMs?: number;
}

/** Outcome of a trigger. */
export interface TriggerResult {
  /** The new run, the existing one for a duplicate, or null when the flow is disabled. */
  readonly runId: string | null;
  /** True when the idempotency key matched an earlier run (no new run was started). */
  readonly duplicate: boolean;
  /** True when the flow is disabled (no run was started). */
  readonly disabled: boolean;
}

/** Deadline from the request, the trigger body's `runTimeoutSeconds`, or the default. */
function timeoutMs(ctx: EngineContext, request: TriggerRequest): number | null {
  if (request.timeoutMs !== undefined) return request.timeoutMs > 0 ? request.timeoutMs : null;
  const data = request.data;
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const raw = (data as Record<string, unknown>).runTimeoutSeconds;
    const seconds = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0) return seconds * 1000;
  }
  return ctx.settings.defaultRunTimeoutMs;
}

/**
 * Starts a run: disabled gate, idempotency, run + control rows, trigger data, then the entry
 * steps (each `when` evaluated first). Entry steps are dispatched after `run.started` is
 * published, so listeners always see it first.
 */
export async function triggerRun(
  ctx: EngineContext,
  flowId: string,
  request: TriggerRequest = {},
): Promise<TriggerResult> {
  const triggerKey = request.triggerKey ?? 'manual';
  return ctx.telemetry.span(
    'flow.trigger',
    { 'flow.id': flowId, 'trigger.key': triggerKey },
    async (span) => {
      const result = await startRun(ctx, flowId, request);
      span.set({
        'run.id': result.runId ?? '',
        duplicate: result.duplicate,
        'flow.disabled': result.disabled,
      });
      if (result.runId && !result.duplicate) {
        ctx.telemetry.count('flow_runs_started', { flow_id: flowId.toLowerCase(), trigger_key: triggerKey });
      }
      return result;
    },
  );
}

async function startRun(ctx: EngineContext, flowId: string, request: TriggerRequest): Promise<TriggerResult> {
  const flow = findFlow(ctx, flowId);
  if (!flow) throw new FlowNotFoundError(flowId);
  const triggerKey = request.triggerKey ?? 'manual';
  if (triggerKey !== 'manual' && flow.triggers && !(triggerKey in flow.triggers)) {
    throw new InvalidArgumentError('triggerKey', `flow '${flow.name}' has no trigger '${triggerKey}'`);
  }
  const stored = await ctx.storage.flows.getById(flow.id);
  if (stored && !stored.isEnabled) {
    ctx.logger.warn('trigger refused: flow is disabled', { flowId: flow.id, triggerKey });
    return { runId: null, duplicate: false, disabled: true };
  }
  const headers = request.headers ? lowerCaseHeaders(request.headers) : null;
  const idempotencyKey =
    (request.idempotencyKey ?? headers?.[ctx.settings.idempotencyHeader.toLowerCase()])?.trim() || null;
  let runId = (request.runId ?? randomUUID()).toLowerCase();
  if (idempotencyKey) {
    const control = ctx.storage.control;
    const existing = await control.findRunIdByIdempotencyKey(flow.id, triggerKey, idempotencyKey);
    if (existing) return { runId: existing, duplicate: true, disabled: false };
    if (!(await control.tryRegisterIdempotencyKey(flow.id, triggerKey, idempotencyKey, runId))) {
      const winner = await control.findRunIdByIdempotencyKey(flow.id, triggerKey, idempotencyKey);
      if (winner) return { runId: winner, duplicate: true, disabled: false };
      runId = randomUUID();
    }
  }
  const dataJson = request.data === undefined ? null : toJsonText(request.data, 'trigger data');
  await ctx.storage.runs.startRun({
    runId,
    flowId: flow.id,
    flowName: flow.name,
    triggerKey,
    triggerDataJson: dataJson,
    jobId: request.jobId ?? null,
    sourceRunId: request.sourceRunId ?? null,
  });
  const timeout = timeoutMs(ctx, request);
  await ctx.storage.control.configureRun({
    runId,
    flowId: flow.id,
    triggerKey,
    idempotencyKey,
    timeoutAt: timeout === null ? null : new Date(ctx.storage.clock.now().getTime() + timeout),
  });
  await ctx.storage.outputs.saveTriggerData(runId, request.data ?? null);
  await ctx.storage.outputs.saveTriggerHeaders(runId, headers);
  await emit(ctx, {
    type: 'run.started',
    flowId: flow.id,
    runId,
    stepKey: null,
    status: 'Running',
    message: `Flow run started via trigger '${triggerKey}'.`,
  });

  // Stored as JSON and read back as JSON: cache the round-tripped value, as a reader would see it.
  const trigger = { data: dataJson === null ? null : (JSON.parse(dataJson) as unknown), headers };
  rememberTrigger(ctx, runId, trigger);
  let scheduled = 0;
  let skipped = 0;
  for (const key of entryStepKeys(flow)) {
    if (await skipIfWhenFalse(ctx, flow, runId, key, trigger)) skipped++;
    else if (await scheduleStep(ctx, flow.id, runId, key)) scheduled++;
  }
  // Every entry was When-skipped: let the continuation cascade the skips and close the run.
  if (scheduled === 0 && skipped > 0) await continueRun(ctx, flow, runId, null, null, trigger);
  return { runId, duplicate: false, disabled: false };
}
