import { cancelRun, deliverSignal, extendDeadline, retryStep } from '../engine/commands.js';
import type { EngineContext } from '../engine/execution/context.js';
import { type TriggerRequest, type TriggerResult, triggerRun } from '../engine/execution/trigger.js';
import { findStep } from '../engine/model/index.js';
import { validateFlowDefinition } from '../engine/validation.js';
import {
  FlowDisabledError,
  FlowNotFoundError,
  InvalidArgumentError,
  RunFailedError,
  RunNotFoundError,
  StepNotFoundError,
} from '../errors.js';
import { toFlowId, toRunId, toStepKey } from '../ids.js';
import { consoleLogger } from '../logging/index.js';
import type { FlowDefinition } from '../model/types.js';
import type { CronScheduler } from '../services/cron/scheduler.js';
import type { FlowRunRecord } from '../storage/records.js';
import { SkipReasons } from '../storage/statuses.js';
import { passiveContext, requireWritable } from './context.js';
import { FlowCatalog, registerFlows } from './flows.js';
import { insightMethods } from './insights.js';
import { listRuns } from './list.js';
import { scheduleCommands } from './schedules.js';
import type { FlowClient, FlowClientOptions, RunView, TriggeredRun, WaitOptions } from './types.js';
import { toEventView, toRunView, toStepView } from './views.js';
import { pollUntilTerminal, QueueWakeups } from './wait.js';

/** What an orchestrator adds when it exposes its client. */
export interface ClientHooks {
  /** The orchestrator's running cron scheduler (schedule commands then apply at once). */
  readonly cron?: () => CronScheduler | undefined;
  /** Makes the local worker look for due steps now. */
  readonly poke?: () => void;
  /** Handler type names registered in this process. */
  readonly handlerTypes?: () => readonly string[];
}

/** Steps that explain why a run did not succeed. */
function failedSteps(run: RunView) {
  const terminated =
    run.status === 'Cancelled' || run.status === 'TimedOut' ? SkipReasons.runTerminated(run.status) : null;
  return run.steps
    .filter(
      (s) =>
        s.status === 'Failed' || (terminated !== null && s.status === 'Skipped' && s.error === terminated),
    )
    .map((s) => ({ stepKey: s.key, status: s.status, error: s.error }));
}

/**
 * Builds a client over an engine context. The orchestrator passes its own context (so its local
 * worker takes what a trigger queues, and its subscribers see the events); a standalone client
 * passes a passive one.
 */
export function buildFlowClient(
  ctx: EngineContext,
  catalog: FlowCatalog,
  hooks: ClientHooks = {},
): FlowClient {
  const storage = ctx.storage;
  const wakeups = new QueueWakeups(storage.queue, ctx.logger);

  const readRun = async (runId: string): Promise<FlowRunRecord> => {
    const run = await storage.runs.getRunDetail(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  };

  const viewOf = async (run: FlowRunRecord, events = true): Promise<RunView> => {
    const stored = events && storage.events ? await storage.events.getRunEvents(run.id, { take: 1_000 }) : [];
    return toRunView(run, stored);
  };

  const flowOfRun = async (run: FlowRunRecord) => {
    const flow = await catalog.find(run.flowId);
    if (!flow) throw new FlowNotFoundError(run.flowId);
    return flow;
  };

  const waitForRun = async (runId: string, options?: WaitOptions): Promise<RunView> => {
    const id = toRunId(runId);
    const run = await pollUntilTerminal(
      id,
      { read: () => storage.runs.getRunDetail(id), bus: ctx.bus, wakeups, timers: ctx.timers },
      options,
    );
    if (!run) throw new RunNotFoundError(id);
    return viewOf(run);
  };

  const resultOf = async (runId: string, options?: WaitOptions): Promise<RunView> => {
    const run = await waitForRun(runId, options);
    if (run.status === 'Failed' || run.status === 'Cancelled' || run.status === 'TimedOut') {
      throw new RunFailedError(run.id, run.status, failedSteps(run));
    }
    return run;
  };

  /** The trigger result with a non-enumerable `result()`: it still compares and serialises as data. */
  const withResult = (result: TriggerResult, flowId: string): TriggeredRun => {
    const handle = { ...result } as TriggeredRun;
    Object.defineProperty(handle, 'result', {
      enumerable: false,
      value: (options?: WaitOptions) =>
        result.runId === null
          ? Promise.reject(new FlowDisabledError(flowId))
          : resultOf(result.runId, options),
    });
    return handle;
  };

  const start = async (flowId: string, request: TriggerRequest): Promise<TriggeredRun> => {
    const flow = await catalog.get(flowId);
    requireWritable(storage, 'start runs');
    const checked: TriggerRequest = {
      ...request,
      ...(request.runId !== undefined && { runId: toRunId(request.runId) }),
      ...(request.sourceRunId !== undefined && { sourceRunId: toRunId(request.sourceRunId, 'sourceRunId') }),
    };
    return withResult(await triggerRun(ctx, flow.id, checked), flow.id);
  };

  return {
    trigger: (flowId, request = {}) => start(toFlowId(flowId), request),

    async cancelRun(runId, reason) {
      const id = toRunId(runId);
      const run = await readRun(id);
      requireWritable(storage, 'cancel runs');
      const flow = run.status === 'Running' ? await catalog.find(run.flowId) : undefined;
      return cancelRun(ctx, run, flow, reason ?? null);
    },

    async retryStep(runId, stepKey) {
      const id = toRunId(runId);
      const key = toStepKey(stepKey);
      const run = await readRun(id);
      const flow = await flowOfRun(run);
      if (!findStep(flow, key)) throw new StepNotFoundError(id, key);
      requireWritable(storage, 'retry steps');
      await retryStep(ctx, flow, id, key);
      hooks.poke?.();
    },

    async rerun(runId) {
      const id = toRunId(runId);
      const run = await readRun(id);
      const flow = await flowOfRun(run);
      const headers = { ...((await storage.outputs.getTriggerHeaders(id)) ?? {}) };
      delete headers[ctx.settings.idempotencyHeader.toLowerCase()];
      return start(flow.id, {
        triggerKey: run.triggerKey ?? 'manual',
        data: run.triggerDataJson === null ? null : (JSON.parse(run.triggerDataJson) as unknown),
        headers,
        sourceRunId: id,
      });
    },

    async signal(runId, signalName, payload = {}) {
      const signals = storage.signals;
      if (!signals)
        throw new InvalidArgumentError('storage', `backend '${storage.name}' has no signals contract`);
      const id = toRunId(runId);
      const name = typeof signalName === 'string' ? signalName.trim() : '';
      if (!name) throw new InvalidArgumentError('signalName', 'a non-blank signal name is required');
      await readRun(id);
      // The parked step is woken now instead of at the end of its park delay.
      const { result, woke } = await deliverSignal(ctx, id, name, payload);
      if (woke) hooks.poke?.();
      return result;
    },

    async extendDeadline(runId, deadline) {
      const id = toRunId(runId);
      if (!(deadline instanceof Date) || Number.isNaN(deadline.getTime())) {
        throw new InvalidArgumentError('deadline', 'must be a valid Date');
      }
      await readRun(id);
      requireWritable(storage, 'extend deadlines');
      return extendDeadline(ctx, id, deadline);
    },

    async setFlowEnabled(flowId, enabled) {
      const flow = await catalog.get(toFlowId(flowId));
      await storage.flows.setEnabled(flow.id, enabled);
    },

    ...scheduleCommands(storage, catalog, hooks.cron),

    listRuns: (query) => listRuns(storage.runs, query),

    async getRun(runId, options) {
      const run = await readRun(toRunId(runId));
      return viewOf(run, options?.events ?? true);
    },

    async getStep(runId, stepKey) {
      const id = toRunId(runId);
      const key = toStepKey(stepKey);
      const run = await readRun(id);
      const record = run.steps?.find((s) => s.stepKey === key);
      if (record) return toStepView(record);
      const flow = await catalog.find(run.flowId);
      if (flow && findStep(flow, key)) return null;
      throw new StepNotFoundError(id, key);
    },

    async getRunEvents(runId, page) {
      const id = toRunId(runId);
      await readRun(id);
      return storage.events ? (await storage.events.getRunEvents(id, page)).map(toEventView) : [];
    },

    waitForRun,

    ...insightMethods({
      storage,
      catalog,
      bus: ctx.bus,
      logger: ctx.logger,
      ...(hooks.handlerTypes && { handlerTypes: hooks.handlerTypes }),
      start: (flowId, request) => start(flowId, request),
    }),
  };
}

/**
 * Creates a client that operates flows and runs through storage alone and executes nothing.
 * Runs it starts are executed by whichever orchestrator runs on the same storage, in any process.
 *
 * @example
 * const client = createFlowClient({ storage });
 * const run = await client.trigger('hello-flow', { data: { name: 'ada' } });
 * const done = await run.result({ timeoutMs: 30_000 });
 * console.log(done.outputs.greet);
 */
export function createFlowClient(options: FlowClientOptions): FlowClient {
  const storage = options?.storage;
  if (!storage) throw new InvalidArgumentError('storage', 'a storage backend is required');
  const logger = options.logger ?? consoleLogger({ component: 'floworch.client' });
  const known = new Map<string, FlowDefinition>();
  if (options.flows) {
    registerFlows(options.flows, known);
    const problems = [...known.values()].flatMap((flow) =>
      validateFlowDefinition(flow, { checkHandlers: false }),
    );
    if (problems.length > 0) throw new InvalidArgumentError('flows', problems.join('\n'));
  }
  const ctx = passiveContext(
    storage,
    logger,
    { idempotencyHeader: options.idempotencyHeader ?? 'Idempotency-Key' },
    known,
  );
  return buildFlowClient(ctx, new FlowCatalog(storage, options.flows !== undefined, known));
}
