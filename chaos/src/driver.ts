import type { ChaosConfig } from './config.js';
import type { ReplicaMessage } from './protocol.js';
import type { ReplicaSet } from './replicas.js';

/**
 * Hands trigger `index` to a random ready replica and retries — same idempotency key, another
 * replica — when the replica fails it or dies before answering, as a client of a real service would.
 */
export class TriggerRouter {
  /** index → run id, once a replica answered. */
  readonly acknowledged = new Map<number, string | null>();
  /** Triggers a replica rejected (each retried). */
  failures = 0;
  /** Triggers resent because their replica went away. */
  resent = 0;
  private readonly waiting: number[] = [];
  private readonly inFlight = new Map<number, number>(); // index → slot
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly replicas: ReplicaSet) {}

  /** Queues trigger `index`. */
  submit(index: number): void {
    this.waiting.push(index);
    this.pump();
  }

  /** Feeds replica messages in. */
  onMessage(slot: number, message: ReplicaMessage): void {
    if (message.type === 'triggered') {
      this.inFlight.delete(message.index);
      this.acknowledged.set(message.index, message.runId);
    } else if (message.type === 'trigger-failed') {
      this.inFlight.delete(message.index);
      this.failures++;
      setTimeout(() => this.submit(message.index), 200);
    }
    void slot;
  }

  /** A replica went away: what it had not answered goes to another. */
  onGone(slot: number): void {
    for (const [index, owner] of this.inFlight) {
      if (owner !== slot) continue;
      this.inFlight.delete(index);
      this.resent++;
      this.submit(index);
    }
  }

  /** Indexes not yet acknowledged. */
  outstanding(): number[] {
    return [...this.waiting, ...this.inFlight.keys()].filter((i) => !this.acknowledged.has(i));
  }

  /** Stops retrying. */
  close(): void {
    clearTimeout(this.timer);
  }

  private pump(): void {
    while (this.waiting.length > 0) {
      const ready = this.replicas.readySlots();
      if (ready.length === 0) {
        // Nobody up (all restarting): try again shortly.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.pump(), 100);
        return;
      }
      const index = this.waiting.shift() as number;
      if (this.acknowledged.has(index)) continue;
      const slot = ready[Math.floor(Math.random() * ready.length)] as number;
      if (this.replicas.send(slot, { type: 'trigger', index })) {
        this.inFlight.set(index, slot);
      } else {
        // The replica is going away; its exit will be seen shortly.
        this.waiting.unshift(index);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.pump(), 100);
        return;
      }
    }
  }
}

/** What the fault injectors did. */
export interface FaultLog {
  kills: number;
  terminationRounds: number;
  connectionsTerminated: number;
  terminationErrors: number;
  gracefulStops: number;
}

/** Milestones of the timeline, relative to its start (ms). */
export function schedule(config: ChaosConfig): {
  killsAt: number[];
  triggersAt: number[];
  terminationsAt: number[];
} {
  const killsAt = Array.from({ length: config.kills }, (_, i) => (i + 1) * config.killEveryMs);
  const triggersAt = Array.from({ length: config.runs }, (_, i) =>
    Math.floor((i * config.triggerWindowMs) / Math.max(1, config.runs)),
  );
  const terminationsAt: number[] = [];
  for (let t = config.terminateEveryMs; t <= config.terminateForMs; t += config.terminateEveryMs)
    terminationsAt.push(t);
  return { killsAt, triggersAt, terminationsAt };
}
