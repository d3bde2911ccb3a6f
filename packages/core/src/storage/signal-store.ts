import type { FlowSignalWaiter, SignalDeliveryResult, Uuid } from './records.js';

/**
 * Parked `WaitForSignal` steps. Signal names are trimmed by callers and compared
 * case-sensitively.
 */
export interface FlowSignalStore {
  /**
   * Upsert on `(runId, stepKey)`. New rows get `createdAt = now`. Re-registering updates only the
   * name and expiry (it never un-delivers).
   */
  registerWaiter(runId: Uuid, stepKey: string, signalName: string, expiresAt: Date | null): Promise<void>;

  /**
   * Delivers to the oldest *undelivered* waiter of the run with that name, atomically setting
   * `deliveredAt = now` and the payload. `AlreadyDelivered` (with the first delivery time) only
   * when every matching waiter is delivered; `NotFound` when none matches. Of N concurrent
   * deliveries to one waiter exactly one is `Delivered`, the rest `AlreadyDelivered`. Expiry is
   * not enforced here.
   */
  deliverSignal(runId: Uuid, signalName: string, payloadJson: string): Promise<SignalDeliveryResult>;

  /** The waiter, whatever its state, or `null`. */
  getWaiter(runId: Uuid, stepKey: string): Promise<FlowSignalWaiter | null>;

  /** Deletes the waiter; idempotent. */
  removeWaiter(runId: Uuid, stepKey: string): Promise<void>;
}
