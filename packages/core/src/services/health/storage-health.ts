import { InvalidArgumentError } from '../../errors.js';
import type { FlowStorage } from '../../storage/backend.js';
import { monotonicNow, systemTimers, type Timers } from '../../time/index.js';

/** Name and tags of the storage health check, as the reference registers it. */
export const STORAGE_HEALTH_CHECK = Object.freeze({
  name: 'flow-orchestrator-storage',
  tags: Object.freeze(['flow-orchestrator', 'storage']),
});

/** Options of {@link checkStorageHealth}. */
export interface StorageHealthOptions {
  /** Budget of the probe in ms (default 2 000). */
  readonly timeoutMs?: number;
  /** Caller cancellation: the check rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Timer functions for the timeout (default: the real ones). */
  readonly timers?: Timers;
}

/** Result of {@link checkStorageHealth}. */
export interface StorageHealth {
  /** `healthy` when the probe answered within the budget. */
  readonly status: 'healthy' | 'unhealthy';
  /** Time the probe took (or the budget, on timeout), in ms. */
  readonly latencyMs: number;
  /** Which call probed storage. */
  readonly probe: 'ping' | 'flows.getAll';
  /** Why it is unhealthy. */
  readonly error?: string;
}

class ProbeTimeout extends Error {}

/**
 * Probes storage with `storage.ping()` (or `flows.getAll()` when the backend has no ping) and
 * reports `unhealthy` on an error or when the probe outlasts `timeoutMs`. Never rejects, except
 * when the caller's `signal` aborts.
 *
 * @example
 * const health = await checkStorageHealth(storage, { timeoutMs: 1_000 });
 * if (health.status === 'unhealthy') console.warn(health.error);
 */
export async function checkStorageHealth(
  storage: FlowStorage,
  options: StorageHealthOptions = {},
): Promise<StorageHealth> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidArgumentError('timeoutMs', `expected a positive number, got ${timeoutMs}`);
  }
  options.signal?.throwIfAborted();
  const timers = options.timers ?? systemTimers;
  const probe = storage.ping ? 'ping' : 'flows.getAll';
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let timer: unknown;
  const started = monotonicNow(timers);
  const elapsed = () => Math.round((monotonicNow(timers) - started) * 1000) / 1000;
  try {
    const call = storage.ping ? storage.ping(controller.signal) : storage.flows.getAll();
    // A probe that never settles must not hold the check: race it against the budget and the caller.
    const limit = new Promise<never>((_, reject) => {
      timer = timers.setTimeout(() => reject(new ProbeTimeout()), timeoutMs);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    await Promise.race([call, limit]);
    return { status: 'healthy', latencyMs: elapsed(), probe };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof ProbeTimeout) {
      controller.abort();
      return {
        status: 'unhealthy',
        latencyMs: elapsed(),
        probe,
        error: `Storage probe timed out after ${timeoutMs.toLocaleString('en-US')} ms.`,
      };
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { status: 'unhealthy', latencyMs: elapsed(), probe, error: `Storage is unreachable: ${detail}` };
  } finally {
    timers.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}
