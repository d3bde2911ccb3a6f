import type { FlowScheduleState, FlowScheduleStateInput } from './records.js';

/** Pause and cron-override state of recurring triggers. */
export interface FlowScheduleStateStore {
  /** The state of one job, or `null`. */
  get(jobId: string): Promise<FlowScheduleState | null>;
  /** Every state, ordered by `jobId` (ordinal). */
  getAll(): Promise<FlowScheduleState[]>;
  /** Upsert by `jobId`, overwriting every field; `updatedAt = now`. Returns the stored state. */
  save(state: FlowScheduleStateInput): Promise<FlowScheduleState>;
  /** Deletes; idempotent. */
  delete(jobId: string): Promise<void>;
}
