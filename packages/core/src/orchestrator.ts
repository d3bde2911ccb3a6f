/**
 * The composition root: builds an engine instance from its parts (storage, flows, handlers,
 * time, logging), gives it a client and, unless told otherwise, a cron scheduler.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { buildFlowClient } from './client/client.js';
import { FlowCatalog, registerFlows } from './client/flows.js';
import type { FlowClient, TriggeredRun } from './client/types.js';
import { waitForSignalHandler } from './engine/builtins/wait-for-signal.js';
import { EngineEventBus, type EngineEventListener } from './engine/events.js';
import { type EngineContext, findFlow } from './engine/execution/context.js';
import type { RecoveryReport } from './engine/execution/recovery.js';
import type { TriggerRequest } from './engine/execution/trigger.js';
import { HandlerRegistry, type StepHandler } from './engine/handlers.js';
import { createLifecycle } from './engine/lifecycle.js';
import type { StepRuntimeFactory } from './engine/runtime/step-runtime.js';
import { noopTelemetry } from './engine/telemetry.js';
import { FlowOrchError, InvalidArgumentError } from './errors.js';
import { tryFlowId } from './ids.js';
import { consoleLogger, type Logger } from './logging/index.js';
import type { FlowDefinition } from './model/types.js';
import { type CronScheduler, type CronSchedulerOptions, createCronScheduler } from './services/cron/index.js';
import type { FlowStorage } from './storage/backend.js';
import type { SignalDeliveryResult } from './storage/records.js';
import { systemTimers, type Timers } from './time/index.js';

/** Builds the cron scheduler an orchestrator starts (option `cronScheduler`). */
export type CronSchedulerFactory = (options: CronSchedulerOptions) => CronScheduler;

/** Options of {@link createFlowOrchestrator}. */
export interface FlowOrchestratorOptions {
  /** The backend; it must implement the `runtime`, `control` and `queue` contracts. */
  readonly storage: FlowStorage;
  /** Flows defined in code. */
  readonly flows: readonly FlowDefinition[];
  /** Step handlers by type name (matched case-insensitively). */
  readonly handlers?: Readonly<Record<string, StepHandler>>;
  /**
   * Start even when a step type has no handler (default false: `start()` refuses). Such steps are
   * logged as a warning and recorded `Skipped` at run time.
   */
  readonly allowMissingHandlers?: boolean;
  /** Steps this instance executes at once (default 8). */
  readonly concurrency?: number;
  /**
   * How often an idle instance looks for due steps queued by others when nothing woke it
   * (default 1 000 ms). Backends with notifications (PostgreSQL) wake it at once; steps this
   * instance queued for later wake it when they fall due.
   */
  readonly pollIntervalMs?: number;
  /** Time a handler may take unless its step sets `timeoutMs` (default: no limit). */
  readonly stepTimeoutMs?: number;
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
   * Schedule the flows' Cron triggers when started (default true). Replicas ticking together
   * start one run per tick. Turn off to run the scheduler elsewhere (`createCronScheduler`).
   */
  readonly cron?: boolean;
  /**
   * Builds the scheduler started for the flows' Cron triggers (default `createCronScheduler`);
   * it receives this orchestrator as its target and its storage, flows, timers and logger.
   */
  readonly cronScheduler?: CronSchedulerFactory;
  /** Emit OpenTelemetry spans and metrics when `@opentelemetry/api` is installed (default true). */
  readonly telemetry?: boolean;
  /**
   * What delivers queued steps to this instance's handlers (default: the in-process queue worker,
   * which takes due rows from the storage). A job system plugs in here, e.g. `@floworch/bullmq`.
   */
  readonly runtime?: StepRuntimeFactory;
}

/** A running engine. Several instances on one database act as replicas. */
export interface FlowOrchestrator {
  /** This instance's id (the owner written on the claims it holds). */
  readonly instanceId: string;
  /**
   * The same operations as {@link createFlowClient} (list, inspect, cancel, retry, re-run,
   * signal, schedules, wait for results) over this orchestrator's flows; runs it starts are
   * handed to this instance's workers at once. Usable before `start()`.
   */
  readonly client: FlowClient;
  /** Validates and syncs flows, repairs runs, starts consuming the step queue and maintenance. */
  start(): Promise<void>;
  /**
   * Graceful stop: stops taking work and hands back steps taken but not started; waits up to
   * `shutdownGraceMs` for running handlers, then aborts them; hands every claim it still holds
   * back at once (another replica continues immediately, not after lease expiry). After it
   * resolves this instance writes nothing and keeps no timer alive.
   */
  stop(): Promise<void>;
  /**
   * Starts a run of `flowId` (a UUID or a slug). `await (await trigger(…)).result()` waits for it.
   */
  trigger(flowId: string, request?: TriggerRequest): Promise<TriggeredRun>;
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
  /** Runs one repair + deadline pass now (the deadline sweep also runs periodically). */
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
  rerun(runId: string): Promise<TriggeredRun>;
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
  const missing = (['runtime', 'control', 'queue'] as const).filter((c) => !storage[c]);
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      'storage',
      `backend '${storage.name}' must implement the ${missing.join(', ')} contract(s) the engine runs on`,
    );
  }
  const logger = options.logger ?? consoleLogger({ component: 'floworch' });
  const timers = options.timers ?? systemTimers;
  // Keyed and re-identified by the stored id (UUID lower-cased, slug → UUID v5): see ids.ts.
  const flows = registerFlows(options.flows);
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(
      'concurrency',
      `must be a positive integer, got ${String(options.concurrency)}`,
    );
  }
  const instanceId = options.instanceId ?? randomUUID();
  let takes = 0;
  const ctx: EngineContext = {
    storage: storage as EngineContext['storage'],
    flows,
    handlers: new HandlerRegistry({ ...options.handlers, ...builtins(storage, options.handlers ?? {}) }),
    settings: {
      leaseMs: options.leaseMs ?? 30_000,
      defaultPendingDelayMs: options.defaultPendingDelayMs ?? 10_000,
      defaultRunTimeoutMs: options.defaultRunTimeoutMs ?? null,
      defaultStepTimeoutMs: options.stepTimeoutMs ?? null,
      idempotencyHeader: options.idempotencyHeader ?? 'Idempotency-Key',
      persistEvents: options.persistEvents ?? true,
    },
    logger,
    bus: new EngineEventBus(logger),
    instanceId,
    nextOwner: () => `${instanceId}#${(++takes).toString(36)}`,
    timers,
    running: new Map(),
    telemetry: noopTelemetry,
    local: null,
    halted: false,
    triggers: new Map(),
  };
  const lifecycle = createLifecycle(ctx, {
    loop: { concurrency, pollIntervalMs: options.pollIntervalMs ?? 1_000, runtime: options.runtime },
    maintenanceIntervalMs: options.maintenanceIntervalMs ?? 15_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 30_000,
    allowMissingHandlers: options.allowMissingHandlers ?? false,
    telemetry: options.telemetry ?? true,
  });
  const requireStarted = (): void => {
    if (!lifecycle.running)
      throw new FlowOrchError('NOT_STARTED', 'The orchestrator is not running; call start() first.');
  };

  let cron: CronScheduler | undefined;
  const startCron = async (): Promise<void> => {
    const hasCron = [...flows.values()].some((f) =>
      Object.values(f.triggers ?? {}).some((t) => t.type.toLowerCase() === 'cron'),
    );
    if (!(options.cron ?? true) || !hasCron) return;
    const build = options.cronScheduler ?? createCronScheduler;
    cron = build({ orchestrator, storage, flows: [...flows.values()], timers, logger });
    try {
      await cron.start();
    } catch (error) {
      cron = undefined;
      await orchestrator.stop();
      throw error;
    }
  };

  const client = buildFlowClient(ctx, new FlowCatalog(storage, true, flows), {
    cron: () => cron,
    poke: () => lifecycle.poke(),
    handlerTypes: () => ctx.handlers.types(),
  });
  const orchestrator: FlowOrchestrator = {
    instanceId: ctx.instanceId,
    client,
    async start() {
      if (await lifecycle.start()) await startCron();
    },
    async stop() {
      await lifecycle.stop(async () => {
        await cron?.stop();
        cron = undefined;
      });
    },
    // Operations delegate to the client, so both speak one vocabulary with one set of checks.
    async trigger(flowId, request) {
      requireStarted();
      return client.trigger(flowId, request);
    },
    async cancelRun(runId, reason) {
      requireStarted();
      return client.cancelRun(runId, reason);
    },
    async retryStep(runId, stepKey) {
      requireStarted();
      return client.retryStep(runId, stepKey);
    },
    extendDeadline: (runId, deadline) => client.extendDeadline(runId, deadline),
    setFlowEnabled: (flowId, enabled) => client.setFlowEnabled(flowId, enabled),
    subscribe: (listener) => ctx.bus.subscribe(listener),
    runMaintenance: () => lifecycle.runMaintenance(),
    getFlow: (flowId) => findFlow(ctx, tryFlowId(flowId) ?? flowId),
    cronScheduler: () => cron,
    async rerun(runId) {
      requireStarted();
      return client.rerun(runId);
    },
    async signal(runId, signalName, payload) {
      requireStarted();
      return client.signal(runId, signalName, payload);
    },
  };
  return orchestrator;
}
