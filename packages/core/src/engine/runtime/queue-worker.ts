import type { TakenStep } from '../../storage/queue-store.js';
import type { EngineContext, LocalExecutor } from '../execution/context.js';
import type { StepRuntime } from './step-runtime.js';

/** Options of a {@link QueueWorker}. */
export interface QueueWorkerOptions {
  /** Steps executing at once in this process. */
  readonly concurrency: number;
  /** How often an idle worker looks for due rows when nothing woke it (ms). */
  readonly pollIntervalMs: number;
}

/** Executes one taken step; never throws. */
export type TakenStepExecutor = (step: TakenStep) => Promise<void>;

/** Back-off after a failed take, so an unreachable database is not hammered. */
const TAKE_ERROR_BACKOFF_MS = [100, 500, 2_000, 5_000];

/**
 * This process's consumer of the durable step queue. Steps arrive two ways: taken by the
 * instance's own transitions (the fast path: a completing step's successors, a trigger's entry
 * steps — no round trip) and taken from the queue when woken (LISTEN/NOTIFY or a local signal),
 * when a row this instance queued for later falls due, or by the idle poll. At most
 * `concurrency` execute at once; everything taken is held under a lease, so a crash strands
 * nothing: the rows reappear when the leases lapse.
 */
export class QueueWorker implements LocalExecutor, StepRuntime {
  private readonly ready: TakenStep[] = [];
  private readonly inFlight = new Map<Promise<void>, TakenStep>();
  private accepting = false;
  private polling = false;
  private pollAgain = false;
  /** Work may be waiting that this instance had no room for: poll once room frees up. */
  private missedWork = false;
  private failures = 0;
  private idleTimer: unknown;
  private wakeTimer: unknown;
  private wakeTime: number | null = null;
  private unlisten: (() => Promise<void>) | undefined;

  /**
   * @param ctx the engine
   * @param options concurrency and poll interval
   * @param execute runs one taken step
   */
  constructor(
    private readonly ctx: EngineContext,
    private readonly options: QueueWorkerOptions,
    private readonly execute: TakenStepExecutor,
  ) {}

  /** Transitions hand this worker the steps they take for this instance. */
  get local(): LocalExecutor {
    return this;
  }

  capacity(): number {
    if (!this.accepting) return 0;
    return Math.max(0, this.options.concurrency - this.inFlight.size - this.ready.length);
  }

  offer(steps: readonly TakenStep[]): void {
    if (!this.accepting) {
      // Taken while stopping: hand them straight back.
      for (const step of steps) void this.handBack(step);
      return;
    }
    this.ready.push(...steps);
    this.pump();
  }

  wakeAt(at: Date): void {
    if (!this.accepting) return;
    const time = at.getTime();
    if (this.wakeTime !== null && this.wakeTime <= time) return;
    this.ctx.timers.clearTimeout(this.wakeTimer);
    this.wakeTime = time;
    const delay = Math.max(0, time - this.ctx.storage.clock.now().getTime());
    this.wakeTimer = this.ctx.timers.setTimeout(() => {
      this.wakeTime = null;
      this.requestPoll();
      void this.rearm();
    }, delay);
  }

  /**
   * Only the earliest wake-up is kept; once it fired, ask the store when the next row falls due
   * (one read per wake-up, instead of a timer per delayed row).
   */
  private async rearm(): Promise<void> {
    try {
      const next = await this.ctx.storage.queue.nextVisibleAt();
      if (next && next.getTime() > this.ctx.storage.clock.now().getTime()) this.wakeAt(next);
    } catch (error) {
      this.ctx.logger.warn('could not read the next due step; relying on polling', { error });
    }
  }

  /** Starts consuming: subscribes to wake-ups and looks for due rows at once. */
  async start(): Promise<void> {
    this.accepting = true;
    const listen = this.ctx.storage.queue.listen;
    if (listen) {
      try {
        this.unlisten = await listen.call(this.ctx.storage.queue, () => this.requestPoll());
      } catch (error) {
        this.ctx.logger.warn('queue notifications unavailable; polling only', { error });
      }
    }
    this.requestPoll();
  }

  /** Asks for a take as soon as possible (coalesced with one in progress). */
  requestPoll(): void {
    if (!this.accepting) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    void this.poll();
  }

  /**
   * Stops taking work and hands back what was taken but not started; waits up to `graceMs` for
   * executions in flight. Returns the steps still executing afterwards.
   */
  async stop(graceMs: number): Promise<TakenStep[]> {
    this.accepting = false;
    this.ctx.timers.clearTimeout(this.idleTimer);
    this.ctx.timers.clearTimeout(this.wakeTimer);
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.().catch((error: unknown) => this.ctx.logger.warn('unlisten failed', { error }));
    const notStarted = this.ready.splice(0);
    await Promise.all(notStarted.map((step) => this.handBack(step)));
    await this.drain(graceMs);
    return [...this.inFlight.values()];
  }

  /** Waits up to `ms` for executions in flight to settle. */
  async drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: unknown;
    await Promise.race([
      Promise.allSettled([...this.inFlight.keys()]),
      new Promise<void>((resolve) => {
        timer = this.ctx.timers.setTimeout(resolve, ms);
      }),
    ]);
    this.ctx.timers.clearTimeout(timer);
  }

  /** Hands a taken step back to the queue (due now) for any replica. */
  async handBack(step: TakenStep): Promise<void> {
    try {
      await this.ctx.storage.queue.release(step.runId, step.stepKey, step.owner);
    } catch (error) {
      // The lease lapses on its own; another replica takes the step then.
      this.ctx.logger.warn('could not hand a step back', { runId: step.runId, stepKey: step.stepKey, error });
    }
  }

  private async poll(): Promise<void> {
    this.polling = true;
    this.ctx.timers.clearTimeout(this.idleTimer);
    let delay = this.options.pollIntervalMs;
    try {
      do {
        this.pollAgain = false;
        const room = this.capacity();
        if (room <= 0) {
          this.missedWork = true;
          break;
        }
        const taken = await this.ctx.storage.queue.take({
          owner: this.ctx.nextOwner(),
          limit: room,
          leaseMs: this.ctx.settings.leaseMs,
        });
        this.failures = 0;
        this.missedWork = taken.length >= room;
        if (taken.length > 0) this.offer(taken);
        if (taken.length >= room) this.pollAgain = true;
      } while (this.pollAgain && this.accepting);
    } catch (error) {
      delay = TAKE_ERROR_BACKOFF_MS[Math.min(this.failures, TAKE_ERROR_BACKOFF_MS.length - 1)]!;
      this.failures++;
      this.ctx.logger.warn('taking steps from the queue failed; retrying', { error, retryInMs: delay });
    } finally {
      this.polling = false;
    }
    if (this.accepting) this.idleTimer = this.ctx.timers.setTimeout(() => this.requestPoll(), delay);
  }

  private pump(): void {
    while (this.accepting && this.inFlight.size < this.options.concurrency && this.ready.length > 0) {
      const step = this.ready.shift()!;
      const run: Promise<void> = this.execute(step)
        .catch((error: unknown) =>
          this.ctx.logger.error('step execution failed', { runId: step.runId, stepKey: step.stepKey, error }),
        )
        .finally(() => {
          this.inFlight.delete(run);
          this.pump();
          if (this.missedWork && this.capacity() > 0) this.requestPoll();
        });
      this.inFlight.set(run, step);
    }
  }
}
