import { type Clock, systemClock } from '@floworch/core';

/** Limits applied to one key. */
export interface RateLimitPolicy {
  /** Sustained rate; tokens refill continuously at this many per second (fractions allowed). */
  readonly permitsPerSecond: number;
  /** Bucket size (default: `max(1, ceil(permitsPerSecond))`). */
  readonly burst?: number | null;
}

/** Outcome of one acquisition. */
export interface RateLimitDecision {
  /** Whether a token was taken. */
  readonly allowed: boolean;
  /** When refused: milliseconds until one token is available. */
  readonly retryAfterMs: number;
}

/**
 * Swappable limiter (e.g. for a Redis-backed one shared by replicas); may be async.
 */
export interface WebhookRateLimiter {
  /** Takes one token for `key` under `policy`. */
  tryAcquire(key: string, policy: RateLimitPolicy): RateLimitDecision | Promise<RateLimitDecision>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  rate: number;
  capacity: number;
}

/** Bucket capacity for a policy. */
export function bucketCapacity(policy: RateLimitPolicy): number {
  return policy.burst ?? Math.max(1, Math.ceil(policy.permitsPerSecond));
}

/** Options of {@link TokenBucketRateLimiter}. */
export interface TokenBucketOptions {
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** How often, at most, a new sweep pass over idle buckets starts (default 60 s). */
  readonly sweepIntervalMs?: number;
  /**
   * Most buckets held at once (default 50 000). When full, idle buckets are dropped first, then
   * the least recently used one, so memory stays bounded whatever keys clients invent.
   */
  readonly maxKeys?: number;
  /** Buckets examined per call while a sweep pass is running (default 32). */
  readonly sweepBatch?: number;
}

/**
 * In-process token buckets, one per key. Buckets start full, refill fractionally and continuously
 * (0.5 permits/s really is one token every two seconds), and are rebuilt when a key's policy
 * changes. A bucket that has refilled completely is indistinguishable from a new one, so sweeping
 * drops such idle buckets without changing any decision. The sweep is incremental (a few buckets
 * per call, never one long pause) and the map is capped at `maxKeys`, evicting least recently used
 * buckets when idle ones do not make room.
 */
export class TokenBucketRateLimiter implements WebhookRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: Clock;
  readonly #sweepIntervalMs: number;
  readonly #maxKeys: number;
  readonly #sweepBatch: number;
  #lastSweep: number;
  #cursor: Iterator<[string, Bucket]> | null = null;

  /** @param options clock, sweep pacing and the key cap */
  constructor(options: TokenBucketOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.#maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 50_000));
    this.#sweepBatch = Math.max(1, Math.floor(options.sweepBatch ?? 32));
    this.#lastSweep = this.#clock.now().getTime();
  }

  /** Number of buckets currently held (for tests and diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }

  /** @inheritdoc */
  tryAcquire(key: string, policy: RateLimitPolicy): RateLimitDecision {
    const now = this.#clock.now().getTime();
    if (!(policy.permitsPerSecond > 0)) return { allowed: true, retryAfterMs: 0 };
    this.#sweep(now);
    const capacity = bucketCapacity(policy);
    const rate = policy.permitsPerSecond;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      this.#makeRoom();
      bucket = { tokens: capacity, updatedAt: now, rate, capacity };
      this.#buckets.set(key, bucket);
    } else {
      // Re-insert so that map order is least-recently-used first.
      this.#buckets.delete(key);
      this.#buckets.set(key, bucket);
      this.#refill(bucket, now);
      if (bucket.rate !== rate || bucket.capacity !== capacity) {
        // Policy changed: keep what was earned, within the new size.
        bucket.rate = rate;
        bucket.capacity = capacity;
        bucket.tokens = Math.min(bucket.tokens, capacity);
      }
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / rate)) };
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (elapsed * bucket.rate) / 1000);
    bucket.updatedAt = now;
  }

  /** Advances the sweep by one batch; a new pass starts at most once per sweep interval. */
  #sweep(now: number): void {
    if (!this.#cursor) {
      if (now - this.#lastSweep < this.#sweepIntervalMs) return;
      this.#lastSweep = now;
      this.#cursor = this.#buckets.entries();
    }
    this.#sweepSome(now, this.#sweepBatch);
  }

  /** Examines up to `count` buckets from the cursor, dropping idle ones. */
  #sweepSome(now: number, count: number): void {
    for (let i = 0; i < count && this.#cursor; i++) {
      const next = this.#cursor.next();
      if (next.done) {
        this.#cursor = null;
        return;
      }
      const [key, bucket] = next.value;
      if (bucket.tokens + ((now - bucket.updatedAt) * bucket.rate) / 1000 >= bucket.capacity) {
        this.#buckets.delete(key);
      }
    }
  }

  /** Keeps the map under the cap: the oldest (least recently used) bucket goes. */
  #makeRoom(): void {
    if (this.#buckets.size < this.#maxKeys) return;
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) this.#buckets.delete(oldest.value);
  }
}
