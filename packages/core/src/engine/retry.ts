import type { RetryPolicy } from '../model/types.js';

/** Defaults of a {@link RetryPolicy}. */
export const RETRY_DEFAULTS = Object.freeze({
  delayMs: 1_000,
  maxDelayMs: 300_000,
  jitter: 0.2,
  backoff: 'exponential',
});

/**
 * Whether a failed attempt should be retried: attempts left, and the policy's predicate (if any)
 * accepts the error.
 */
export function shouldRetry(
  policy: RetryPolicy | undefined,
  attempt: number,
  reason: string,
  cause?: unknown,
): boolean {
  if (!policy || attempt >= policy.maxAttempts) return false;
  if (!policy.retryOn) return true;
  try {
    return policy.retryOn({ message: reason, cause });
  } catch {
    return false;
  }
}

/**
 * Delay before retry number `attempt` (1 = the retry after the first failure). Exponential
 * backoff doubles per attempt; jitter spreads retries of many runs so they do not arrive together.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = policy.delayMs ?? RETRY_DEFAULTS.delayMs;
  const max = policy.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? RETRY_DEFAULTS.jitter));
  const raw =
    (policy.backoff ?? RETRY_DEFAULTS.backoff) === 'fixed' ? base : base * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(max, raw);
  const spread = capped * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(capped + spread));
}
