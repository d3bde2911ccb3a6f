import type { Logger } from '../../logging/index.js';
import type { FlowStorage } from '../../storage/backend.js';
import type { FlowStepQueueStore, TakenStep } from '../../storage/queue-store.js';
import type { Timers } from '../../time/index.js';
import type { LocalExecutor } from '../execution/context.js';
import type { Telemetry } from '../telemetry.js';

/**
 * What delivers queued steps to an orchestrator's handlers. The default is the in-process queue
 * worker (it takes due rows from the storage: polling, notifications and the fast path); a job
 * system (`@floworch/bullmq`) plugs in here. Whatever delivers a step, the storage's claim and
 * lease decide who executes it.
 */
export interface StepRuntime {
  /**
   * Where the engine's own transitions hand steps they take for this instance (the fast path),
   * or `null`: transitions then take nothing here, and every queued step reaches the handlers
   * through this runtime.
   */
  readonly local: LocalExecutor | null;
  /** Starts delivering. */
  start(): Promise<void>;
  /** Asks for due work to be looked at now (after a command queued work; may do nothing). */
  requestPoll(): void;
  /**
   * Stops taking work, hands back what was taken but not started, and waits up to `graceMs`
   * for executions in flight. Returns the steps still executing afterwards.
   */
  stop(graceMs: number): Promise<TakenStep[]>;
  /** Waits up to `ms` for executions in flight to settle. */
  drain(ms: number): Promise<void>;
  /** Hands a taken step back to the queue at once (its claim released, the row due now). */
  handBack(step: TakenStep): Promise<void>;
  /** Releases the runtime's own resources; called last by `stop()`. */
  close?(): Promise<void>;
}

/** What the orchestrator gives a {@link StepRuntime} it creates. */
export interface StepRuntimeHost {
  /** The backend (with the `queue` contract). */
  readonly storage: FlowStorage & { readonly queue: FlowStepQueueStore };
  /** This orchestrator's id (the prefix of its claim owners). */
  readonly instanceId: string;
  /** Steps this instance executes at once. */
  readonly concurrency: number;
  /** Claim lease in ms. */
  readonly leaseMs: number;
  /** The orchestrator's idle poll interval in ms. */
  readonly pollIntervalMs: number;
  /** Logger. */
  readonly logger: Logger;
  /** Timers. */
  readonly timers: Timers;
  /** Spans and metrics (a no-op unless OpenTelemetry is installed). */
  readonly telemetry: Telemetry;
  /** A fresh claim owner for one take. */
  nextOwner(): string;
  /**
   * Executes a step this instance took (its claim held): start, handler, completion. Never
   * throws; resolves once the step's outcome is committed (or it was handed back).
   */
  execute(step: TakenStep): Promise<void>;
}

/** Creates the runtime of one orchestrator (option `runtime` of `createFlowOrchestrator`). */
export type StepRuntimeFactory = (host: StepRuntimeHost) => StepRuntime;
