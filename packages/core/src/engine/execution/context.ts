import type { FlowDefinition } from '../../model/types.js';
import type { FlowStorage } from '../../storage/backend.js';
import type { FlowRunControlRecord } from '../../storage/records.js';
import { type FlowEventType, RUN_EVENT_STEP_KEY } from '../../storage/statuses.js';
import type { EngineEventBus } from '../events.js';
import type { HandlerRegistry } from '../handlers.js';
import type { Logger } from '../logger.js';
import type { StepDispatcher, Timers } from '../runtime/dispatcher.js';
import type { Telemetry } from '../telemetry.js';
import type { EventWriter } from './event-writer.js';

/** Engine settings after defaults were applied. */
export interface EngineSettings {
  /** Claim lease length; renewed every third of it while a handler runs. */
  readonly leaseMs: number;
  /** Delay of a Pending result that names none. */
  readonly defaultPendingDelayMs: number;
  /** Deadline of runs whose trigger names none (null: no deadline). */
  readonly defaultRunTimeoutMs: number | null;
  /** Header carrying the idempotency key. */
  readonly idempotencyHeader: string;
  /** Persist run events through the outputs repository. */
  readonly persistEvents: boolean;
  /** How long a read control row may be reused (0: always read). */
  readonly controlCacheMs: number;
}

/** Everything the execution modules share. One per orchestrator instance. */
export interface EngineContext {
  /** The backend (must implement `runtime` and `control`). */
  readonly storage: Required<Pick<FlowStorage, 'runtime' | 'control'>> & FlowStorage;
  /** Registered flows by lower-cased id. */
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  /** Step handlers. */
  readonly handlers: HandlerRegistry;
  /** The runtime. */
  readonly dispatcher: StepDispatcher;
  /** Settings. */
  readonly settings: EngineSettings;
  /** Logger. */
  readonly logger: Logger;
  /** In-process notifications. */
  readonly bus: EngineEventBus;
  /** Identity of this instance; claim owner of the steps it executes. */
  readonly instanceId: string;
  /** Timers (lease renewal). */
  readonly timers: Timers;
  /** Abort controllers of handlers running here, by run id. */
  readonly running: Map<string, Set<AbortController>>;
  /** Spans and metrics (a no-op until `start()` finds `@opentelemetry/api`). */
  telemetry: Telemetry;
  /**
   * Recently read control rows by run id (`at` = `performance.now()`), so consecutive steps of a
   * run spare the read. Local cancels/timeouts invalidate it; other replicas' are seen within
   * `settings.controlCacheMs`.
   */
  readonly controls: Map<string, { readonly at: number; readonly control: FlowRunControlRecord | null }>;
  /** Persists run events in the background, batched. */
  readonly events: EventWriter;
  /** Trigger data and headers of recent runs (immutable per run), to spare a read per step. */
  readonly triggers: Map<
    string,
    { readonly data: unknown; readonly headers: Readonly<Record<string, string>> | null }
  >;
}

/** The flow with this id, or undefined. */
export function findFlow(ctx: EngineContext, flowId: string): FlowDefinition | undefined {
  return ctx.flows.get(flowId.toLowerCase());
}

/**
 * Persists (when enabled) and publishes one event. Failures are logged and swallowed: events
 * are observability and must never fail a run.
 */
export async function emit(
  ctx: EngineContext,
  event: {
    type: FlowEventType;
    flowId: string;
    runId: string;
    stepKey: string | null;
    status?: string;
    message: string;
  },
): Promise<void> {
  const at = ctx.storage.clock.now();
  if (ctx.settings.persistEvents) {
    ctx.events.enqueue(event.runId, {
      type: event.type,
      message: event.message,
      timestamp: at,
      stepKey: event.stepKey ?? RUN_EVENT_STEP_KEY,
    });
    // A run's events are all stored before anyone hears it completed, so listeners (and a
    // retention sweep they trigger) never race the batch writer.
    if (event.type === 'run.completed') await ctx.events.flush();
  }
  ctx.bus.publish({ ...event, at });
}

/** Forgets the cached control row of `runId` (after this process changed it). */
export function forgetControl(ctx: EngineContext, runId: string): void {
  ctx.controls.delete(runId.toLowerCase());
}

/** Aborts every handler of `runId` running in this process. */
export function abortRun(ctx: EngineContext, runId: string, reason: string): void {
  for (const controller of ctx.running.get(runId.toLowerCase()) ?? []) controller.abort(new Error(reason));
}
