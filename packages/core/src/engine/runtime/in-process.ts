import { InvalidArgumentError } from '../../errors.js';
import {
  type StepDispatcher,
  type StepExecutor,
  type StepMessage,
  systemTimers,
  type Timers,
} from './dispatcher.js';

/** Options of {@link createInProcessRuntime}. */
export interface InProcessRuntimeOptions {
  /** Steps executing at once in this process (default 8). */
  readonly concurrency?: number;
  /** Timer functions (default: the real ones). */
  readonly timers?: Timers;
}

/**
 * The default runtime: an in-memory queue with bounded concurrency and timers for delayed steps.
 * Messages live in this process only; after a crash, engine recovery re-dispatches what was lost.
 */
export function createInProcessRuntime(options: InProcessRuntimeOptions = {}): StepDispatcher {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(
      'concurrency',
      `must be a positive integer, got ${String(options.concurrency)}`,
    );
  }
  const timers = options.timers ?? systemTimers;
  const queue: StepMessage[] = [];
  const delayed = new Set<unknown>();
  const inFlight = new Set<Promise<void>>();
  let execute: StepExecutor | undefined;
  let accepting = false;

  const pump = (): void => {
    while (execute && accepting && inFlight.size < concurrency && queue.length > 0) {
      const message = queue.shift()!;
      const run = execute(message).finally(() => {
        inFlight.delete(run);
        pump();
      });
      inFlight.add(run);
    }
  };

  return {
    async start(executor) {
      execute = executor;
      accepting = true;
      pump();
    },
    async enqueue(message) {
      if (!accepting) return null;
      queue.push(message);
      // Deliver on a later tick so the caller finishes its own bookkeeping first.
      queueMicrotask(pump);
      return null;
    },
    async schedule(message, delayMs) {
      if (!accepting) return null;
      const handle = timers.setTimeout(
        () => {
          delayed.delete(handle);
          if (!accepting) return;
          queue.push(message);
          pump();
        },
        Math.max(0, delayMs),
      );
      delayed.add(handle);
      return null;
    },
    async stop(graceMs) {
      accepting = false;
      for (const handle of delayed) timers.clearTimeout(handle);
      delayed.clear();
      queue.length = 0;
      if (inFlight.size === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
