import { InvalidArgumentError } from '../../errors.js';
import { consoleLogger, type Logger } from '../../logging/index.js';
import type { FlowStorage } from '../../storage/backend.js';
import type { Clock } from '../../time/index.js';
import { systemTimers, type Timers } from '../../time/index.js';

/** Runs deleted per batch when the caller names no batch size (500 runs per transaction, as the storage contract sets). */
export const DEFAULT_RETENTION_BATCH_SIZE = 500;

/** Options of {@link createRetentionSweeper}. */
export interface RetentionSweeperOptions {
  /** Backend; runs are purged through `storage.retention` (nothing happens without it). */
  readonly storage: FlowStorage;
  /** Age after completion at which a finished run is deleted, in ms (reference default: 30 days). */
  readonly ttlMs: number;
  /** Pause between sweeps, in ms (reference default: 1 hour). */
  readonly intervalMs: number;
  /** Runs deleted per batch (default 500). */
  readonly batchSize?: number;
  /** Timer functions (default: the real ones). */
  readonly timers?: Timers;
  /** Source of "now" for the cutoff (default: `storage.clock`). */
  readonly clock?: Clock;
  /** Logger (default: warnings and errors to the console). */
  readonly logger?: Logger;
  /** Webhook rejection rows older than this are purged (default: kept; needs `storage.webhookRejections`). */
  readonly webhookRejectionTtlMs?: number;
  /** Sweep as soon as `start()` is called (default true), then every `intervalMs`. */
  readonly sweepOnStart?: boolean;
  /** Called after every sweep with its report; exceptions are logged and ignored. */
  readonly onSweep?: (report: RetentionSweepReport) => void;
}

/** Which part of a sweep failed. */
export type RetentionTarget = 'runs' | 'webhookNonces' | 'webhookRejections';

/** What one sweep removed. A failed part counts 0 and is listed in `failures`. */
export interface RetentionSweepReport {
  /** Finished runs deleted (with all their rows). */
  readonly runsDeleted: number;
  /** Expired webhook replay nonces deleted. */
  readonly noncesPurged: number;
  /** Webhook rejection rows deleted. */
  readonly rejectionsPurged: number;
  /** Parts that failed (already logged). */
  readonly failures: ReadonlyArray<{ readonly target: RetentionTarget; readonly error: unknown }>;
}

/** Background purge of old data. */
export interface RetentionSweeper {
  /** Starts sweeping (immediately unless `sweepOnStart: false`, then every interval). Idempotent. */
  start(): void;
  /** Stops the timer and aborts a sweep in progress between batches. Idempotent. */
  stop(): Promise<void>;
  /** Sweeps now (after a sweep already in progress); never rejects, failures are in the report. */
  sweepNow(): Promise<RetentionSweepReport>;
}

function positive(name: string, value: number | undefined, integer = false): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new InvalidArgumentError(
      name,
      `expected a positive ${integer ? 'integer' : 'number'}, got ${value}`,
    );
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Creates the retention sweeper: each sweep deletes runs that completed before `now − ttlMs`
 * (strict cutoff, `Running` runs never), in batches, then purges expired webhook nonces and,
 * when `webhookRejectionTtlMs` is set, old webhook rejections. Safe on several replicas at once.
 *
 * @example
 * const sweeper = createRetentionSweeper({ storage, ttlMs: 30 * 86_400_000, intervalMs: 3_600_000 });
 * sweeper.start();
 */
export function createRetentionSweeper(options: RetentionSweeperOptions): RetentionSweeper {
  const { storage } = options;
  positive('ttlMs', options.ttlMs);
  positive('intervalMs', options.intervalMs);
  positive('batchSize', options.batchSize, true);
  positive('webhookRejectionTtlMs', options.webhookRejectionTtlMs);
  const clock = options.clock ?? storage.clock;
  const timers = options.timers ?? systemTimers;
  const logger = options.logger ?? consoleLogger({ component: 'floworch.retention' });
  const batchSize = options.batchSize ?? DEFAULT_RETENTION_BATCH_SIZE;
  let started = false;
  let timer: unknown;
  let queue: Promise<unknown> = Promise.resolve();
  const inFlight = new Set<AbortController>();

  async function part(
    target: RetentionTarget,
    failures: Array<{ target: RetentionTarget; error: unknown }>,
    work: () => Promise<number>,
  ): Promise<number> {
    try {
      return await work();
    } catch (error) {
      if (isAbort(error)) {
        logger.debug('retention sweep aborted', { target });
      } else {
        logger.error(`retention cleanup failed for ${target}`, { target, error });
        failures.push({ target, error });
      }
      return 0;
    }
  }

  async function sweep(): Promise<RetentionSweepReport> {
    const controller = new AbortController();
    inFlight.add(controller);
    const failures: Array<{ target: RetentionTarget; error: unknown }> = [];
    try {
      const now = clock.now();
      const retention = storage.retention;
      const runsDeleted = retention
        ? await part('runs', failures, async () => {
            const cutoff = new Date(now.getTime() - options.ttlMs);
            return (await retention.cleanup(cutoff, { batchSize, signal: controller.signal })).runsDeleted;
          })
        : 0;
      const replay = storage.webhookReplay;
      const noncesPurged =
        replay && !controller.signal.aborted
          ? await part('webhookNonces', failures, () => replay.purgeExpired(now))
          : 0;
      const rejections = storage.webhookRejections;
      const rejectionTtl = options.webhookRejectionTtlMs;
      const rejectionsPurged =
        rejections && rejectionTtl !== undefined && !controller.signal.aborted
          ? await part('webhookRejections', failures, () =>
              rejections.purgeOlderThan(new Date(now.getTime() - rejectionTtl)),
            )
          : 0;
      const report: RetentionSweepReport = { runsDeleted, noncesPurged, rejectionsPurged, failures };
      logger.debug('retention sweep finished', { runsDeleted, noncesPurged, rejectionsPurged });
      try {
        options.onSweep?.(report);
      } catch (error) {
        logger.warn('retention onSweep callback threw', { error });
      }
      return report;
    } finally {
      inFlight.delete(controller);
    }
  }

  function sweepNow(): Promise<RetentionSweepReport> {
    const result = queue.then(sweep);
    queue = result.catch(() => undefined);
    return result;
  }

  function arm(delayMs: number): void {
    if (!started) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      // sweep() never rejects; the catch guards against a logger that throws.
      sweepNow()
        .catch(() => undefined)
        .finally(() => arm(options.intervalMs));
    }, delayMs);
  }

  return {
    start() {
      if (started) return;
      started = true;
      arm(options.sweepOnStart === false ? options.intervalMs : 0);
    },
    async stop() {
      if (!started) return;
      started = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      for (const controller of inFlight) controller.abort();
      await queue;
    },
    sweepNow,
  };
}
