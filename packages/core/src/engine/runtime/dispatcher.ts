/** One unit of work for a runtime: "run step `stepKey` of run `runId`". */
export interface StepMessage {
  /** The flow. */
  readonly flowId: string;
  /** The run. */
  readonly runId: string;
  /** The step's runtime key. */
  readonly stepKey: string;
  /** When the step became eligible (epoch ms), for queue-delay metrics. */
  readonly scheduledAt: number;
  /** Automatic-retry attempt this delivery is for (1 = first try). */
  readonly attempt?: number;
}

/** What a runtime calls for every delivered message. Never throws. */
export type StepExecutor = (message: StepMessage) => Promise<void>;

/**
 * The contract between the engine and a runtime (in-process queue, a job system, a message
 * broker). Delivery may be at-least-once and broadcast to several workers: the engine's claim
 * ledger makes sure each step executes once.
 */
export interface StepDispatcher {
  /** Starts delivering messages to `execute`. */
  start(execute: StepExecutor): Promise<void>;
  /** Delivers as soon as possible. Returns a job id when the runtime has one. */
  enqueue(message: StepMessage): Promise<string | null>;
  /** Delivers after `delayMs`. Returns a job id when the runtime has one. */
  schedule(message: StepMessage, delayMs: number): Promise<string | null>;
  /** Stops taking new work and waits (up to `graceMs`) for executions in flight. */
  stop(graceMs: number): Promise<void>;
}

/** Timer functions, injectable so tests can drive time. */
export interface Timers {
  /** Like `setTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The real timers; handles are unref'd so pending timers never keep a process alive. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
