import { randomUUID } from 'node:crypto';
import { FlowNotFoundError, InvalidArgumentError } from '../../errors.js';
import type { FlowDefinition } from '../../model/types.js';
import type { FlowEventInput } from '../../storage/records.js';
import { RUN_EVENT_STEP_KEY } from '../../storage/statuses.js';
import { toJsonText } from '../../storage/support/json.js';
import { lowerCaseHeaders } from '../../storage/support/text.js';
import { entryStepKeys } from '../model/index.js';
import { type EngineContext, findFlow } from './context.js';
import { rememberTrigger } from './scope.js';

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
 * Starts a run: the disabled gate, then one atomic trigger transition (idempotency key, run,
 * trigger data and headers, control row, `run.started`, entry steps queued — and taken for this
 * instance while it has room). A failure leaves nothing behind, so a retried trigger starts it.
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
  const runId = (request.runId ?? randomUUID()).toLowerCase();
  const dataJson = request.data === undefined ? null : toJsonText(request.data, 'trigger data');
  const timeout = timeoutMs(ctx, request);
  const at = ctx.storage.clock.now();
  const message = `Flow run started via trigger '${triggerKey}'.`;
  const events: FlowEventInput[] = ctx.settings.persistEvents
    ? [{ type: 'run.started', message, stepKey: RUN_EVENT_STEP_KEY, timestamp: at }]
    : [];
  const room = ctx.local?.capacity() ?? 0;
  const result = await ctx.storage.queue.startRun({
    run: {
      runId,
      flowId: flow.id,
      flowName: flow.name,
      triggerKey,
      triggerDataJson: dataJson,
      jobId: request.jobId ?? null,
      sourceRunId: request.sourceRunId ?? null,
    },
    triggerHeaders: headers,
    idempotencyKey,
    timeoutAt: timeout === null ? null : new Date(at.getTime() + timeout),
    events,
    entrySteps: entryStepKeys(flow),
    ...(room > 0 ? { takeFor: { owner: ctx.nextOwner(), leaseMs: ctx.settings.leaseMs, limit: room } } : {}),
  });
  if (result.duplicate) return { runId: result.runId, duplicate: true, disabled: false };
  // Stored as JSON and read back as JSON: cache the round-tripped value, as a reader would see it.
  rememberTrigger(ctx, runId, {
    data: dataJson === null ? null : (JSON.parse(dataJson) as unknown),
    headers,
  });
  publishStarted(ctx, flow, runId, message, at);
  if (result.taken.length > 0) ctx.local?.offer(result.taken);
  return { runId, duplicate: false, disabled: false };
}

function publishStarted(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  message: string,
  at: Date,
): void {
  ctx.bus.publish({
    type: 'run.started',
    flowId: flow.id,
    runId,
    stepKey: null,
    status: 'Running',
    message,
    at,
  });
}
