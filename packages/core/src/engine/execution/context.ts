import type { Logger } from '../../logging/index.js';
import type { FlowDefinition } from '../../model/types.js';
import type { FlowStorage } from '../../storage/backend.js';
import type { TakenStep } from '../../storage/queue-store.js';
import type { Timers } from '../../time/index.js';
import type { EngineEventBus } from '../events.js';
import type { HandlerRegistry } from '../handlers.js';
import type { Telemetry } from '../telemetry.js';

/** Engine settings after defaults were applied. */
export interface EngineSettings {
  /** Claim lease length; renewed every third of it while a handler runs. */
  readonly leaseMs: number;
  /** Delay of a Pending result that names none. */
  readonly defaultPendingDelayMs: number;
  /** Deadline of runs whose trigger names none (null: no deadline). */
  readonly defaultRunTimeoutMs: number | null;
  /** Time a handler may take before its attempt fails (null: no limit unless the step sets one). */
  readonly defaultStepTimeoutMs: number | null;
  /** Header carrying the idempotency key. */
  readonly idempotencyHeader: string;
  /** Persist run events with the transitions. */
  readonly persistEvents: boolean;
}

/** Where locally taken steps go to be executed (the queue worker of this instance). */
export interface LocalExecutor {
  /** How many more taken steps this instance wants right now (0 when saturated or stopped). */
  capacity(): number;
  /** Hands steps this instance has taken (claims held) to its workers. */
  offer(steps: readonly TakenStep[]): void;
  /** Makes the worker look for due rows at `at` (a row this instance queued for later). */
  wakeAt(at: Date): void;
  /** Makes the worker look for due rows now. */
  requestPoll(): void;
}

/** Everything the execution modules share. One per orchestrator instance. */
export interface EngineContext {
  /** The backend (must implement `runtime`, `control` and `queue`). */
  readonly storage: Required<Pick<FlowStorage, 'runtime' | 'control' | 'queue'>> & FlowStorage;
  /** Registered flows by lower-cased id. */
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  /** Step handlers. */
  readonly handlers: HandlerRegistry;
  /** Settings. */
  readonly settings: EngineSettings;
  /** Logger. */
  readonly logger: Logger;
  /** In-process notifications. */
  readonly bus: EngineEventBus;
  /** Identity of this instance; the prefix of every claim owner it uses. */
  readonly instanceId: string;
  /**
   * A fresh claim owner (`<instanceId>#<n>`) for one take. Owners are per take, not per
   * instance, so a step this instance takes again after its own lease lapsed fences out the
   * stale execution.
   */
  nextOwner(): string;
  /** Timers (lease renewal, step timeouts, polling). */
  readonly timers: Timers;
  /** Abort controllers of handlers running here, by run id. */
  readonly running: Map<string, Set<AbortController>>;
  /** Spans and metrics (a no-op until `start()` finds `@opentelemetry/api`). */
  telemetry: Telemetry;
  /** The local consumer of the queue, while started (null: take nothing locally). */
  local: LocalExecutor | null;
  /** True once `stop()` gave up: nothing may be written for work still finishing. */
  halted: boolean;
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

/** Aborts every handler of `runId` running in this process. */
export function abortRun(ctx: EngineContext, runId: string, reason: string): void {
  for (const controller of ctx.running.get(runId.toLowerCase()) ?? []) controller.abort(new Error(reason));
}
