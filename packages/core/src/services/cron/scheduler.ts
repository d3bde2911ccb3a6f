import type { TriggerResult } from '../../engine/execution/trigger.js';
import { FlowNotFoundError, InvalidArgumentError } from '../../errors.js';
import { toFlowId, tryFlowId } from '../../ids.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import type { FlowDefinition } from '../../model/types.js';
import type { FlowStorage } from '../../storage/backend.js';
import type { FlowScheduleState } from '../../storage/records.js';
import type { Clock } from '../../time/index.js';
import { systemTimers, type Timers } from '../../time/index.js';
import { type CronSchedule, latestOccurrence, parseCron } from './expression.js';
import { type CronTriggerDeclaration, cronTriggersOf } from './job-id.js';
import { createEphemeralScheduleStore } from './state-store.js';
import type { CronTarget } from './target.js';

/** Options of {@link createCronScheduler}. */
export interface CronSchedulerOptions {
  /** What starts the runs: usually the orchestrator (only `trigger` is used). */
  readonly orchestrator: CronTarget;
  /** Backend; `storage.schedules` holds pause/override state (an in-process store when absent). */
  readonly storage: FlowStorage;
  /** Flows whose `Cron` triggers are scheduled. */
  readonly flows: readonly FlowDefinition[];
  /** Timer functions (default: the real ones). */
  readonly timers?: Timers;
  /** Source of "now" for due checks (default: `storage.clock`). */
  readonly clock?: Clock;
  /** Logger (default: warnings and errors to the console). */
  readonly logger?: Logger;
  /**
   * Apply stored pause/override state at start and before each fire (default true). When false,
   * pause/resume/setCron still write the store but only this instance's memory is honoured.
   */
  readonly persistOverrides?: boolean;
  /** Longest sleep between due checks in ms (default 1 000, the reference's tick). */
  readonly tickIntervalMs?: number;
  /** How often stored state is re-read for every job, picking up other replicas' changes (default 15 000 ms). */
  readonly stateSyncIntervalMs?: number;
}

/** Outcome of the latest fire of a job. */
export type CronJobState = 'Succeeded' | 'Duplicate' | 'Disabled' | 'Failed';

/** A flow's cron trigger with its stored pause / override state. */
export interface CronTriggerState {
  /** Flow id. */
  readonly flowId: string;
  /** Flow name. */
  readonly flowName: string;
  /** Trigger key. */
  readonly triggerKey: string;
  /** Effective expression (the override when one is set). */
  readonly cron: string;
  /** Expression declared in code. */
  readonly manifestCron: string;
  /** Stored override, or null. */
  readonly cronOverride: string | null;
  /** IANA time zone. */
  readonly timezone: string;
  /** Paused jobs do not fire. */
  readonly isPaused: boolean;
}

/** A scheduled cron trigger as seen by this instance. */
export interface CronJobInfo extends CronTriggerState {
  /** `flow-<flowId>-<triggerKey>`. */
  readonly id: string;
  /** Next due instant (null when paused, not started, or the pattern never fires again). */
  readonly nextExecution: Date | null;
  /** When this instance last fired the job. */
  readonly lastExecution: Date | null;
  /** Run started (or matched) by the last fire. */
  readonly lastRunId: string | null;
  /** Outcome of the last fire. */
  readonly lastJobState: CronJobState | null;
  /** Error of the last fire when it failed. */
  readonly lastError: string | null;
}

/** One fire performed by {@link CronScheduler.tick}. */
export interface CronFire {
  /** Job id. */
  readonly jobId: string;
  /** The tick instant fired (also in the idempotency key). */
  readonly scheduledFor: Date;
  /** Outcome; `Duplicate` means another replica fired this tick first. */
  readonly state: CronJobState;
  /** Run id (null when disabled or failed). */
  readonly runId: string | null;
}

/** Fires cron triggers. Several instances on one storage fire each tick once between them. */
export interface CronScheduler {
  /** Loads state, validates every expression (rejecting on the first invalid one) and starts ticking. */
  start(): Promise<void>;
  /** Stops ticking and waits for a fire in progress. Idempotent. */
  stop(): Promise<void>;
  /** Fires every job due now (by the clock) and returns what it did; also driven by the timer. */
  tick(): Promise<CronFire[]>;
  /** Re-reads stored state of every job (pause, resume, overrides made by other replicas). */
  sync(): Promise<void>;
  /** Pauses a trigger (stored), keeping its override or pinning the current cron as one. */
  pause(flowId: string, triggerKey: string): Promise<void>;
  /** Resumes a paused trigger (stored); the next tick is computed from now. */
  resume(flowId: string, triggerKey: string): Promise<void>;
  /**
   * Stores a cron override (validated first) that wins over the code's expression; `null`
   * clears it. Takes effect at once unless the trigger is paused.
   */
  setCron(flowId: string, triggerKey: string, cron: string | null): Promise<void>;
  /** Starts a run now (no deduplication); the schedule is unchanged. Works while paused. */
  triggerNow(flowId: string, triggerKey: string): Promise<TriggerResult>;
  /** Every cron job, ordered by id. */
  jobs(): CronJobInfo[];
}

interface Job {
  readonly declaration: CronTriggerDeclaration;
  schedule: CronSchedule | null;
  override: string | null;
  paused: boolean;
  next: Date | null;
  lastExecution: Date | null;
  lastRunId: string | null;
  lastJobState: CronJobState | null;
  lastError: string | null;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const overrideOf = (state: FlowScheduleState | null): string | null => state?.cronOverride?.trim() || null;

/** Parses with croner, naming the flow and trigger in any error. */
function scheduleFor(d: CronTriggerDeclaration, expression: string): CronSchedule {
  return parseCron(expression, d.timezone, `of trigger '${d.triggerKey}' in flow '${d.flow.name}'`);
}

/**
 * Creates the cron scheduler for the `Cron` triggers of `flows` (croner: 5- or 6-field
 * expressions, IANA `timezone` input, default UTC).
 *
 * Each fire calls `orchestrator.trigger` with the idempotency key `cron:<jobId>:<tick ISO>`, so
 * replicas ticking together start one run per tick without any lock. Missed ticks are skipped:
 * a late wake-up fires only the latest due tick.
 *
 * @example
 * const cron = createCronScheduler({ orchestrator, storage, flows });
 * await cron.start();
 */
export function createCronScheduler(options: CronSchedulerOptions): CronScheduler {
  const { orchestrator, storage } = options;
  const clock = options.clock ?? storage.clock;
  const timers = options.timers ?? systemTimers;
  const logger = options.logger ?? consoleLogger({ component: 'floworch.cron' });
  const persist = options.persistOverrides ?? true;
  const tickMs = Math.max(1, options.tickIntervalMs ?? 1_000);
  const syncMs = options.stateSyncIntervalMs ?? 15_000;
  const store = storage.schedules ?? createEphemeralScheduleStore(clock);
  const declarations = cronTriggersOf(options.flows);
  const jobs = new Map<string, Job>(
    declarations.map((declaration) => [declaration.jobId, blankJob(declaration)]),
  );
  let started = false;
  let timer: unknown;
  let loop: Promise<unknown> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let lastSync = 0;

  function blankJob(declaration: CronTriggerDeclaration): Job {
    return {
      declaration,
      schedule: null,
      override: null,
      paused: false,
      next: null,
      lastExecution: null,
      lastRunId: null,
      lastJobState: null,
      lastError: null,
    };
  }

  function jobFor(flowId: string, triggerKey: string): Job {
    const id = toFlowId(flowId);
    const forFlow = declarations.filter((d) => d.flow.id === id);
    if (forFlow.length === 0 && !options.flows.some((f) => tryFlowId(f.id) === id)) {
      throw new FlowNotFoundError(flowId);
    }
    const declaration = forFlow.find((d) => d.triggerKey === triggerKey);
    if (!declaration)
      throw new InvalidArgumentError('triggerKey', `flow '${flowId}' has no cron trigger '${triggerKey}'`);
    return jobs.get(declaration.jobId) as Job;
  }

  /** Applies a stored state to a job; re-plans `next` only when the effective cron changed or it resumed. */
  function apply(job: Job, state: FlowScheduleState | null, now: Date): void {
    const d = job.declaration;
    const override = overrideOf(state);
    const paused = state?.isPaused ?? false;
    const expression = override ?? d.manifestCron;
    const changed = job.schedule?.expression !== expression || job.schedule?.timezone !== d.timezone;
    if (changed) job.schedule = scheduleFor(d, expression);
    const resumed = job.paused && !paused;
    job.override = override;
    job.paused = paused;
    if (paused) job.next = null;
    else if (changed || resumed || job.next === null) job.next = job.schedule?.next(now) ?? null;
  }

  async function refresh(job: Job, now: Date): Promise<void> {
    try {
      apply(job, await store.get(job.declaration.jobId), now);
    } catch (error) {
      // A bad stored override or an unreachable store must not stop the schedule.
      logger.error('cron: could not apply stored schedule state', { jobId: job.declaration.jobId, error });
    }
  }

  function saveState(job: Job, isPaused: boolean, cronOverride: string | null) {
    const d = job.declaration;
    return store.save({
      jobId: d.jobId,
      flowId: d.flow.id,
      flowName: d.flow.name,
      triggerKey: d.triggerKey,
      isPaused,
      cronOverride,
    });
  }

  async function fire(job: Job, scheduledFor: Date, now: Date): Promise<CronFire> {
    const d = job.declaration;
    let state: CronJobState;
    let runId: string | null = null;
    try {
      const result = await orchestrator.trigger(d.flow.id, {
        triggerKey: d.triggerKey,
        idempotencyKey: `cron:${d.jobId}:${scheduledFor.toISOString()}`,
        jobId: d.jobId,
      });
      runId = result.runId;
      state = result.disabled ? 'Disabled' : result.duplicate ? 'Duplicate' : 'Succeeded';
      job.lastError = null;
      logger.debug('cron: fired', { jobId: d.jobId, scheduledFor, runId, state });
    } catch (error) {
      state = 'Failed';
      job.lastError = errorText(error);
      logger.error('cron: trigger failed', { jobId: d.jobId, scheduledFor, error });
    }
    job.lastExecution = now;
    job.lastRunId = runId;
    job.lastJobState = state;
    // Plan from "now", not from the fired tick: missed ticks are skipped, never replayed in a burst.
    if (!job.paused) job.next = job.schedule?.next(now) ?? null;
    return { jobId: d.jobId, scheduledFor, state, runId };
  }

  async function fireDue(): Promise<CronFire[]> {
    if (!started) return [];
    const now = clock.now();
    if (persist && syncMs > 0 && now.getTime() - lastSync >= syncMs) await syncAll(now);
    const fired: CronFire[] = [];
    for (const job of [...jobs.values()].sort(byId)) {
      if (job.paused || !job.next || job.next.getTime() > now.getTime()) continue;
      // Another replica may have paused or re-timed the job since we last looked.
      if (persist) {
        const before = job.schedule;
        await refresh(job, now);
        if (job.paused || job.schedule !== before || !job.next || job.next > now) continue;
      }
      const schedule = job.schedule as CronSchedule;
      fired.push(await fire(job, latestOccurrence(schedule, job.next, now), now));
    }
    return fired;
  }

  async function syncAll(now: Date): Promise<void> {
    lastSync = now.getTime();
    for (const job of jobs.values()) await refresh(job, now);
  }

  function serialised<T>(work: () => Promise<T>): Promise<T> {
    // Timer ticks, manual ticks and admin calls never interleave on one job's local state.
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  }

  function arm(): void {
    if (!started) return;
    const now = clock.now().getTime();
    let delay = tickMs;
    for (const job of jobs.values()) {
      if (job.next && !job.paused) delay = Math.min(delay, job.next.getTime() - now);
    }
    timer = timers.setTimeout(
      () => {
        timer = undefined;
        loop = serialised(fireDue)
          .catch((error: unknown) => logger.error('cron: tick failed', { error }))
          .finally(() => {
            loop = undefined;
            arm();
          });
      },
      Math.max(1, delay),
    );
  }

  return {
    async start() {
      if (started) return;
      const now = clock.now();
      // Validate everything first so a bad expression leaves nothing half-started.
      const states = new Map<string, FlowScheduleState | null>();
      for (const d of declarations) {
        const state = persist ? await store.get(d.jobId) : null;
        scheduleFor(d, d.manifestCron);
        scheduleFor(d, overrideOf(state) ?? d.manifestCron);
        states.set(d.jobId, state);
      }
      for (const d of declarations) {
        const job = blankJob(d);
        apply(job, states.get(d.jobId) ?? null, now);
        jobs.set(d.jobId, job);
      }
      lastSync = now.getTime();
      started = true;
      arm();
    },
    async stop() {
      if (!started) return;
      started = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await loop;
      await queue;
    },
    tick: () => serialised(fireDue),
    sync: () => serialised(() => syncAll(clock.now())),
    pause: (flowId, triggerKey) =>
      serialised(async () => {
        const job = jobFor(flowId, triggerKey);
        const stored = await store.get(job.declaration.jobId);
        // As the reference does: pin the cron in force so the paused row shows what was running.
        const override = overrideOf(stored) ?? job.override ?? job.declaration.manifestCron;
        await saveState(job, true, override || null);
        job.paused = true;
        job.override = override || null;
        job.next = null;
      }),
    resume: (flowId, triggerKey) =>
      serialised(async () => {
        const job = jobFor(flowId, triggerKey);
        const stored = await store.get(job.declaration.jobId);
        const override = overrideOf(stored) ?? (persist ? null : job.override);
        const schedule = scheduleFor(job.declaration, override ?? job.declaration.manifestCron);
        await saveState(job, false, override);
        job.schedule = schedule;
        job.override = override;
        job.paused = false;
        job.next = started ? schedule.next(clock.now()) : null;
      }),
    setCron: (flowId, triggerKey, cron) =>
      serialised(async () => {
        const job = jobFor(flowId, triggerKey);
        const override = cron === null ? null : cron.trim();
        if (override === '')
          throw new InvalidArgumentError('cronExpression', 'a cron expression is required');
        const schedule = scheduleFor(job.declaration, override ?? job.declaration.manifestCron);
        const stored = await store.get(job.declaration.jobId);
        const paused = persist ? (stored?.isPaused ?? job.paused) : job.paused;
        await saveState(job, paused, override);
        job.schedule = schedule;
        job.override = override;
        job.paused = paused;
        job.next = started && !paused ? schedule.next(clock.now()) : null;
      }),
    async triggerNow(flowId, triggerKey) {
      const job = jobFor(flowId, triggerKey);
      const d = job.declaration;
      const result = await orchestrator.trigger(d.flow.id, { triggerKey: d.triggerKey, jobId: d.jobId });
      if (!job.paused) {
        job.lastExecution = clock.now();
        job.lastRunId = result.runId;
        job.lastJobState = result.disabled ? 'Disabled' : 'Succeeded';
        job.lastError = null;
      }
      return result;
    },
    jobs() {
      return [...jobs.values()].sort(byId).map((job) => {
        const d = job.declaration;
        return {
          id: d.jobId,
          flowId: d.flow.id,
          flowName: d.flow.name,
          triggerKey: d.triggerKey,
          cron: job.override ?? d.manifestCron,
          manifestCron: d.manifestCron,
          cronOverride: job.override,
          timezone: d.timezone,
          isPaused: job.paused,
          nextExecution: started && !job.paused && job.next ? new Date(job.next) : null,
          lastExecution: job.lastExecution && new Date(job.lastExecution),
          lastRunId: job.lastRunId,
          lastJobState: job.lastJobState,
          lastError: job.lastError,
        };
      });
    },
  };
}

function byId(a: Job, b: Job): number {
  const x = a.declaration.jobId;
  const y = b.declaration.jobId;
  return x < y ? -1 : x > y ? 1 : 0;
}
