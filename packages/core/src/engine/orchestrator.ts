import { randomUUID } from 'node:crypto';
import { FlowNotFoundError, FlowOrchError, InvalidArgumentError } from '../errors.js';
import type { FlowDefinition } from '../model/types.js';
import { type CronScheduler, createCronScheduler } from '../services/cron/index.js';
import type { FlowStorage } from '../storage/backend.js';
import type { SignalDeliveryResult } from '../storage/records.js';
import { toJsonText } from '../storage/support/json.js';
import { waitForSignalHandler } from './builtins/wait-for-signal.js';
import { EngineEventBus, type EngineEventListener } from './events.js';
import { abortRun, type EngineContext, emit, findFlow, forgetControl } from './execution/context.js';
import { tryCompleteRun } from './execution/continuation.js';
import { EventWriter } from './execution/event-writer.js';
import { type RecoveryReport, recover } from './execution/recovery.js';
import { executeStep } from './execution/run-step.js';
import { scheduleStep } from './execution/scheduling.js';
import { sweepDeadlines } from './execution/sweeper.js';
import { type TriggerRequest, type TriggerResult, triggerRun } from './execution/trigger.js';
import { HandlerRegistry, type StepHandler } from './handlers.js';
import { consoleLogger, type Logger } from './logger.js';
import { descendantsOf, findStep, toManifest } from './model/index.js';
import { type StepDispatcher, systemTimers, type Timers } from './runtime/dispatcher.js';
import { createInProcessRuntime } from './runtime/in-process.js';
import { loadTelemetry, noopTelemetry } from './telemetry.js';
import { validateFlowDefinition } from './validation.js';

/** Options of {@link createFlowOrchestrator}. */
export interface FlowOrchestratorOptions {
  /** The backend; it must implement the `runtime` and `control` contracts. */
  readonly storage: FlowStorage;
  /** Flows defined in code. */
  readonly flows: readonly FlowDefinition[];
  /** Step handlers by type name (matched case-insensitively). */
  readonly handlers?: Readonly<Record<string, StepHandler>>;
  /** The runtime (default: an in-process queue with `concurrency` workers). */
  readonly runtime?: StepDispatcher;
  /** Workers of the default in-process runtime (default 8). */
  readonly concurrency?: number;
  /** Claim lease in ms, renewed while a handler runs (default 30 000). */
  readonly leaseMs?: number;
  /** Delay of a Pending result that names none (default 10 000 ms). */
  readonly defaultPendingDelayMs?: number;
  /** Deadline for runs whose trigger names none (default: none). */
  readonly defaultRunTimeoutMs?: number;
  /** Header carrying an idempotency key (default `Idempotency-Key`). */
  readonly idempotencyHeader?: string;
  /** Persist run events through the outputs repository (default true). */
  readonly persistEvents?: boolean;
  /** How often recovery and the deadline sweeper run (default 15 000 ms; 0 disables). */
  readonly maintenanceIntervalMs?: number;
  /** How long `stop()` waits for running handlers before aborting them (default 30 000 ms). */
  readonly shutdownGraceMs?: number;
  /** Structured logger (default: warnings and errors to the console). */
  readonly logger?: Logger;
  /** Timer functions (default: the real ones); tests inject fakes. */
  readonly timers?: Timers;
  /** Identity of this instance (claim owner); default a random UUID. */
  readonly instanceId?: string;
  /**
   * How long a run's control row, once read, is reused by later steps of the run in this process
   * (default 250 ms; 0 reads it every time). Cancels and timeouts made through this instance take
   * effect at once; those made by another replica within this window.
   */
  readonly controlCacheMs?: number;
  /**
   * Schedule the flows' Cron triggers when started (default true). Replicas ticking together
   * start one run per tick. Turn off to run the scheduler elsewhere (`createCronScheduler`).
   */
  readonly cron?: boolean;
  /** Emit OpenTelemetry spans and metrics when `@opentelemetry/api` is installed (default true). */
  readonly telemetry?: boolean;
}

/** A running engine. Several instances on one database act as replicas. */
export interface FlowOrchestrator {
  /** This instance's id (the owner written on the claims it holds). */
  readonly instanceId: string;
  /** Validates and syncs flows, starts the runtime, recovers interrupted runs, starts maintenance. */
  start(): Promise<void>;
  /** Stops taking work, waits for running handlers (then aborts them), stops maintenance. */
  stop(): Promise<void>;
  /** Starts a run of `flowId`. */
  trigger(flowId: string, request?: TriggerRequest): Promise<TriggerResult>;
  /**
   * Requests cancellation. Running handlers see their signal abort; the run closes as
   * `Cancelled` once nothing is in flight (immediately when nothing is).
   */
  cancelRun(runId: string, reason?: string): Promise<{ accepted: boolean; closedImmediately: boolean }>;
  /** Re-runs a step (normally a Failed one): resets it and its cascade-skipped descendants and dispatches it. */
  retryStep(runId: string, stepKey: string): Promise<void>;
  /** Moves a run's deadline; un-latches a timeout so the run can be retried. */
  extendDeadline(runId: string, deadline: Date): Promise<boolean>;
  /** Enables or disables a flow (disabled flows refuse triggers). */
  setFlowEnabled(flowId: string, enabled: boolean): Promise<void>;
  /** Subscribes to lifecycle events; returns the unsubscribe function. */
  subscribe(listener: EngineEventListener): () => void;
  /** Runs one recovery + deadline pass now (also runs periodically). */
  runMaintenance(): Promise<RecoveryReport & { timedOut: number }>;
  /** The registered flow with this id. */
  getFlow(flowId: string): FlowDefinition | undefined;
  /**
   * Delivers a signal to the run's parked `WaitForSignal` step named `signalName` (oldest
   * undelivered waiter first) and wakes it. Exactly one of concurrent deliveries is `Delivered`.
   */
  signal(runId: string, signalName: string, payload?: unknown): Promise<SignalDeliveryResult>;
  /**
   * Starts a new run of the same flow with the original trigger key, payload and headers (minus
   * the idempotency header, which would return the original run); the new run's `sourceRunId`
   * links it to the original (`runs.getDerivedRuns`).
   */
  rerun(runId: string): Promise<TriggerResult>;
  /** The cron scheduler started with the orchestrator (pause, resume, setCron, jobs), if any. */
  cronScheduler(): CronScheduler | undefined;
}

/** Built-in step types, unless the user registered a handler of the same name. */
function builtins(
  storage: FlowStorage,
  user: Readonly<Record<string, StepHandler>>,
): Record<string, StepHandler> {
  const taken = new Set(Object.keys(user).map((k) => k.toLowerCase()));
  return taken.has('waitforsignal') ? {} : { WaitForSignal: waitForSignalHandler(storage) };
}

/**
 * Creates the engine over a storage backend.
 *
 * @example
 * const orchestrator = createFlowOrchestrator({ storage, flows: [orderFlow], handlers: { ChargeCard: charge } });
 * await orchestrator.start();
 * const { runId } = await orchestrator.trigger(orderFlow.id, { data: { orderId: 42 } });
 */
export function createFlowOrchestrator(options: FlowOrchestratorOptions): FlowOrchestrator {
  const storage = options.storage;
  if (!storage) throw new InvalidArgumentError('storage', 'a storage backend is required');
  if (!storage.runtime || !storage.control) {
    throw new InvalidArgumentError(
      'storage',
      `backend '${storage.name}' must implement the runtime and control contracts`,
    );
  }
  const logger = options.logger ?? consoleLogger({ component: 'floworch' });
  const timers = options.timers ?? systemTimers;
  const flows = new Map<string, FlowDefinition>();
  for (const flow of options.flows) {
    const key = flow.id?.toLowerCase();
    if (!key) throw new InvalidArgumentError('flows', `flow '${flow.name}' has no id`);
    if (flows.has(key)) throw new InvalidArgumentError('flows', `flow id '${flow.id}' is registered twice`);
    flows.set(key, flow);
  }
  const ctx: EngineContext = {
    storage: storage as EngineContext['storage'],
    flows,
    handlers: new HandlerRegistry({ ...options.handlers, ...builtins(storage, options.handlers ?? {}) }),
    dispatcher: options.runtime ?? createInProcessRuntime({ concurrency: options.concurrency ?? 8, timers }),
    settings: {
      leaseMs: options.leaseMs ?? 30_000,
      defaultPendingDelayMs: options.defaultPendingDelayMs ?? 10_000,
      defaultRunTimeoutMs: options.defaultRunTimeoutMs ?? null,
      idempotencyHeader: options.idempotencyHeader ?? 'Idempotency-Key',
      persistEvents: options.persistEvents ?? true,
      controlCacheMs: options.controlCacheMs ?? 250,
    },
    logger,
    bus: new EngineEventBus(logger),
    instanceId: options.instanceId ?? randomUUID(),
    timers,
    running: new Map(),
    telemetry: noopTelemetry,
    triggers: new Map(),
    controls: new Map(),
    events: new EventWriter(storage, logger),
  };
  const maintenanceMs = options.maintenanceIntervalMs ?? 15_000;
  let started = false;
  let stopping = false;
  let maintenanceTimer: unknown;
  let maintenanceRunning: Promise<unknown> | undefined;

  const requireStarted = (): void => {
    if (!started || stopping)
      throw new FlowOrchError('NOT_STARTED', 'The orchestrator is not running; call start() first.');
  };

  const runMaintenance = async (orphans = false) => {
    const report = await recover(ctx, { orphans });
    const timedOut = await sweepDeadlines(ctx);
    return { ...report, timedOut };
  };

  const scheduleMaintenance = (): void => {
    if (maintenanceMs <= 0 || stopping) return;
    maintenanceTimer = timers.setTimeout(() => {
      maintenanceRunning = runMaintenance()
        .catch((error: unknown) => logger.error('maintenance pass failed', { error }))
        .finally(() => {
          maintenanceRunning = undefined;
          scheduleMaintenance();
        });
    }, maintenanceMs);
  };

  let cron: CronScheduler | undefined;
  const orchestrator: FlowOrchestrator = {
    instanceId: ctx.instanceId,
    async start() {
      if (started) return;
      const unhandled: string[] = [];
      const problems = [...flows.values()].flatMap((flow) =>
        validateFlowDefinition(flow, ctx.handlers, unhandled),
      );
      if (problems.length > 0) throw new InvalidArgumentError('flows', problems.join('\n'));
      for (const warning of unhandled) logger.warn(warning);
      for (const flow of flows.values()) {
        const existing = await storage.flows.getById(flow.id);
        await storage.flows.save({
          id: flow.id,
          name: flow.name,
          version: flow.version ?? '1.0',
          manifestJson: JSON.stringify(toManifest(flow)),
          isEnabled: existing?.isEnabled ?? true,
        });
      }
      if (options.telemetry ?? true) ctx.telemetry = await loadTelemetry();
      await ctx.dispatcher.start((message) => executeStep(ctx, message, () => stopping));
      started = true;
      await runMaintenance(true);
      scheduleMaintenance();
      const hasCron = [...flows.values()].some((f) =>
        Object.values(f.triggers ?? {}).some((t) => t.type.toLowerCase() === 'cron'),
      );
      if ((options.cron ?? true) && hasCron) {
        cron = createCronScheduler({ orchestrator, storage, flows: [...flows.values()], timers, logger });
        try {
          await cron.start();
        } catch (error) {
          cron = undefined;
          await orchestrator.stop();
          throw error;
        }
      }
    },
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      await cron?.stop();
      cron = undefined;
      timers.clearTimeout(maintenanceTimer);
      await maintenanceRunning;
      const grace = options.shutdownGraceMs ?? 30_000;
      const drained = ctx.dispatcher.stop(grace);
      // After the grace period, abort whatever still runs; those steps are handed back.
      const abortTimer = setTimeout(() => {
        for (const runId of ctx.running.keys()) abortRun(ctx, runId, 'Orchestrator is shutting down.');
      }, grace);
      abortTimer.unref?.();
      await drained;
      for (const runId of ctx.running.keys()) abortRun(ctx, runId, 'Orchestrator is shutting down.');
      await ctx.dispatcher.stop(1_000);
      clearTimeout(abortTimer);
      await ctx.events.flush();
      started = false;
      stopping = false;
    },
    async trigger(flowId, request) {
      requireStarted();
      return triggerRun(ctx, flowId, request);
    },
    async cancelRun(runId, reason) {
      requireStarted();
      const accepted = await ctx.storage.control.requestCancel(runId, reason ?? null);
      forgetControl(ctx, runId);
      abortRun(ctx, runId, 'Run is Cancelled.');
      const run = await storage.runs.getRunDetail(runId);
      const flow = run && findFlow(ctx, run.flowId);
      let closedImmediately = false;
      if (run && run.status === 'Running') {
        if (flow) closedImmediately = await tryCompleteRun(ctx, flow, runId, 'Cancelled', null);
        else closedImmediately = await storage.runs.completeRunIfActive(runId, 'Cancelled');
      }
      return { accepted, closedImmediately };
    },
    async retryStep(runId, stepKey) {
      requireStarted();
      const run = await storage.runs.getRunDetail(runId);
      if (!run) throw new InvalidArgumentError('runId', `run '${runId}' does not exist`);
      const flow = findFlow(ctx, run.flowId);
      if (!flow) throw new FlowNotFoundError(run.flowId);
      if (!findStep(flow, stepKey))
        throw new InvalidArgumentError('stepKey', `step '${stepKey}' is not in flow '${flow.name}'`);
      ctx.telemetry.count('flow_step_retries', { flow_id: flow.id, step_key: stepKey });
      await storage.runs.retryStep(runId, stepKey);
      await storage.runs.resetCascadeSkippedDependents(runId, descendantsOf(flow, stepKey));
      await emit(ctx, {
        type: 'step.retried',
        flowId: flow.id,
        runId,
        stepKey,
        status: 'Running',
        message: `Step '${stepKey}' retried.`,
      });
      await scheduleStep(ctx, flow.id, runId, stepKey);
    },
    async extendDeadline(runId, deadline) {
      const extended = await ctx.storage.control.extendDeadline(runId, deadline);
      forgetControl(ctx, runId);
      return extended;
    },
    async setFlowEnabled(flowId, enabled) {
      const flow = findFlow(ctx, flowId);
      if (!flow) throw new FlowNotFoundError(flowId);
      await storage.flows.setEnabled(flow.id, enabled);
    },
    subscribe: (listener) => ctx.bus.subscribe(listener),
    runMaintenance: () => runMaintenance(false),
    getFlow: (flowId) => findFlow(ctx, flowId),
    cronScheduler: () => cron,
    async rerun(runId) {
      requireStarted();
      const run = await storage.runs.getRunDetail(runId);
      if (!run) throw new InvalidArgumentError('runId', `run '${runId}' does not exist`);
      const flow = findFlow(ctx, run.flowId);
      if (!flow) throw new FlowNotFoundError(run.flowId);
      const headers = { ...((await storage.outputs.getTriggerHeaders(run.id)) ?? {}) };
      delete headers[ctx.settings.idempotencyHeader.toLowerCase()];
      return triggerRun(ctx, flow.id, {
        triggerKey: run.triggerKey ?? 'manual',
        data: run.triggerDataJson === null ? null : (JSON.parse(run.triggerDataJson) as unknown),
        headers,
        sourceRunId: run.id,
      });
    },
    async signal(runId, signalName, payload = {}) {
      requireStarted();
      const signals = storage.signals;
      if (!signals)
        throw new InvalidArgumentError('storage', `backend '${storage.name}' has no signals contract`);
      const name = signalName.trim();
      if (!name) return { status: 'NotFound', stepKey: null, deliveredAt: null };
      const run = await storage.runs.getRunDetail(runId);
      if (!run) return { status: 'NotFound', stepKey: null, deliveredAt: null };
      const result = await signals.deliverSignal(run.id, name, toJsonText(payload, 'signal payload'));
      const flow = findFlow(ctx, run.flowId);
      if (result.status === 'Delivered' && result.stepKey && flow) {
        // Wake the parked step now; its long park timer stays as a safety net and then loses the claim.
        await ctx.dispatcher.enqueue({
          flowId: flow.id,
          runId: run.id,
          stepKey: result.stepKey,
          scheduledAt: ctx.storage.clock.now().getTime(),
        });
      }
      return result;
    },
  };
  return orchestrator;
}
