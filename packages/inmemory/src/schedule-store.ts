import type {
  Clock,
  FlowScheduleState,
  FlowScheduleStateInput,
  FlowScheduleStateStore,
} from '@floworch/core';
import { compareOrdinal } from './order.js';
import type { MemoryState } from './state.js';

const copy = (s: FlowScheduleState): FlowScheduleState => ({
  ...s,
  updatedAt: new Date(s.updatedAt.getTime()),
});

/** In-memory {@link FlowScheduleStateStore}. */
export class InMemoryScheduleStore implements FlowScheduleStateStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  async get(jobId: string): Promise<FlowScheduleState | null> {
    const s = this.state.schedules.get(jobId);
    return s ? copy(s) : null;
  }

  async getAll(): Promise<FlowScheduleState[]> {
    return [...this.state.schedules.values()].sort((a, b) => compareOrdinal(a.jobId, b.jobId)).map(copy);
  }

  async save(state: FlowScheduleStateInput): Promise<FlowScheduleState> {
    const stored: FlowScheduleState = {
      jobId: state.jobId,
      flowId: state.flowId.toLowerCase(),
      flowName: state.flowName ?? '',
      triggerKey: state.triggerKey,
      isPaused: state.isPaused ?? false,
      cronOverride: state.cronOverride ?? null,
      updatedAt: this.clock.now(),
    };
    this.state.schedules.set(stored.jobId, stored);
    return copy(stored);
  }

  async delete(jobId: string): Promise<void> {
    this.state.schedules.delete(jobId);
  }
}
