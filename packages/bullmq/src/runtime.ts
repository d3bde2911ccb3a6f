import type { StepRuntime, StepRuntimeHost } from '@floworch/core';
import type { TakenStep, TakeStepResult } from '@floworch/core/backend';
import { type ConnectionOptions, DelayedError, type Job, Worker } from 'bullmq';
import type { StepDispatcher } from './dispatcher.js';
import type { StepJobData } from './job-id.js';
import type { DelayStats } from './metrics.js';

/** Waits before taking a row again whose run was inside a transaction (ms). */
const LOCKED_RETRY_MS = [2, 5, 10, 20, 40, 80, 160];
/** After that, the job comes back this much later. */
const LOCKED_REQUEUE_MS = 250;

/** Settings of one {@link BullMQStepRuntime}. */
export interface StepWorkerSettings {
  /** Queue name. */
  readonly queueName: string;
  /** Key prefix. */
  readonly prefix: string;
  /** Connection options for the worker's own connections. */
  readonly connection: ConnectionOptions;
  /** Jobs processed at once (default: the orchestrator's concurrency). */
  readonly concurrency?: number;
  /** BullMQ lock duration (ms). */
  readonly lockDurationMs?: number;
  /** BullMQ stalled-job check interval (ms). */
  readonly stalledIntervalMs?: number;
  /** Maintenance sweep, run every `sweepIntervalMs` while the runtime runs (0: never). */
  readonly sweepIntervalMs: number;
  /** One sweep. */
  readonly sweep: () => Promise<unknown>;
}

/**
 * An orchestrator's step runtime on BullMQ: a worker on the deployment's queue whose processor
 * claims the job's row in the flow storage (`takeStep`) and executes it under the storage's
 * lease. A job is only a delivery: when the row is not there to take — finished, executing
 * elsewhere, not due yet — the job ends without running anything. Transitions take nothing
 * locally (`local` is null): every queued step reaches a handler through a job.
 */
export class BullMQStepRuntime implements StepRuntime {
  readonly local = null;
  private worker: Worker<StepJobData> | undefined;
  private readonly inFlight = new Map<Promise<void>, TakenStep>();
  private accepting = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  /**
   * @param host what the orchestrator provides
   * @param dispatcher adds jobs (for rows a job finds queued for later)
   * @param settings queue, connection and maintenance settings
   * @param delays pickup-delay statistics shared with the metrics
   */
  constructor(
    private readonly host: StepRuntimeHost,
    private readonly dispatcher: StepDispatcher,
    private readonly settings: StepWorkerSettings,
    private readonly delays: DelayStats,
  ) {}

  async start(): Promise<void> {
    this.accepting = true;
    const worker = new Worker<StepJobData>(
      this.settings.queueName,
      (job, token) => this.process(job, token),
      {
        connection: this.settings.connection,
        prefix: this.settings.prefix,
        concurrency: this.settings.concurrency ?? this.host.concurrency,
        ...(this.settings.lockDurationMs ? { lockDuration: this.settings.lockDurationMs } : {}),
        ...(this.settings.stalledIntervalMs ? { stalledInterval: this.settings.stalledIntervalMs } : {}),
        name: this.host.instanceId,
      },
    );
    worker.on('error', (error) => this.host.logger.warn('BullMQ worker error', { error }));
    this.worker = worker;
    this.scheduleSweep(0);
  }

  /** Commands that queue work dispatch it themselves (the wrapped storage): nothing to do. */
  requestPoll(): void {}

  async stop(graceMs: number): Promise<TakenStep[]> {
    this.accepting = false;
    clearTimeout(this.sweepTimer);
    await this.sweeping;
    // Fetch no more jobs; the active ones finish (or are handed back by the orchestrator).
    await this.worker
      ?.pause(true)
      .catch((error: unknown) => this.host.logger.warn('pause failed', { error }));
    await this.drain(graceMs);
    return [...this.inFlight.values()];
  }

  async drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.keys()]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async handBack(step: TakenStep): Promise<void> {
    try {
      // The wrapped storage adds a job for the released row at once.
      await this.host.storage.queue.release(step.runId, step.stepKey, step.owner);
    } catch (error) {
      this.host.logger.warn('could not hand a step back', {
        runId: step.runId,
        stepKey: step.stepKey,
        error,
      });
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    // Jobs of handlers that ignored their abort stay active in Redis; BullMQ's stalled check
    // moves them on, and their rows were handed back already.
    await worker?.close(this.inFlight.size > 0);
  }

  private scheduleSweep(delayMs: number): void {
    if (!this.accepting || this.settings.sweepIntervalMs <= 0) return;
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.settings
        .sweep()
        .catch((error: unknown) => this.host.logger.warn('maintenance sweep failed', { error }))
        .finally(() => {
          this.sweeping = undefined;
          this.scheduleSweep(this.settings.sweepIntervalMs);
        });
    }, delayMs);
    this.sweepTimer.unref();
  }

  /** The job processor: take the job's row, execute it, or end the job. */
  private async process(job: Job<StepJobData>, token?: string): Promise<void> {
    const data = job.data;
    if (!this.accepting) {
      // Fetched while stopping: leave it for another worker.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const takeStep = this.host.storage.queue.takeStep!;
    for (let i = 0; ; i++) {
      const result: TakeStepResult = await takeStep.call(this.host.storage.queue, {
        runId: data.runId,
        stepKey: data.stepKey,
        owner: this.host.nextOwner(),
        leaseMs: this.host.leaseMs,
      });
      switch (result.kind) {
        case 'taken': {
          const step: TakenStep = { ...result.step, ...(job.id ? { jobId: job.id } : {}) };
          this.delays.add(Math.max(0, Date.now() - step.visibleAt.getTime()));
          const run = this.host.execute(step);
          this.inFlight.set(run, step);
          try {
            await run;
          } finally {
            this.inFlight.delete(run);
          }
          return;
        }
        case 'later':
          if (result.visibleAt.getTime() === data.visibleAt) {
            // This job came early (clocks differ): wait for the row's time.
            await job.moveToDelayed(result.visibleAt.getTime(), token);
            throw new DelayedError();
          }
          // The row was queued again for later since this job was added: make sure that time
          // has its job (the id dedupes against the one its transition added).
          await this.dispatcher.dispatch([
            {
              runId: data.runId,
              ...(data.flowId ? { flowId: data.flowId } : {}),
              stepKey: data.stepKey,
              attempt: result.attempt,
              visibleAt: result.visibleAt,
            },
          ]);
          return;
        case 'locked': {
          const wait = LOCKED_RETRY_MS[i];
          if (wait === undefined) {
            await job.moveToDelayed(Date.now() + LOCKED_REQUEUE_MS, token);
            throw new DelayedError();
          }
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        default:
          // busy: executing elsewhere (its lease decides; a lapsed one is swept back);
          // gone: finished, or the run closed. Either way this delivery is spent.
          return;
      }
    }
  }
}
