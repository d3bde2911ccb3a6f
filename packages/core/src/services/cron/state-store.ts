import type { FlowScheduleState } from '../../storage/records.js';
import type { FlowScheduleStateStore } from '../../storage/schedule-store.js';
import type { Clock } from '../../time/index.js';

/**
 * An in-process {@link FlowScheduleStateStore}, used when the backend has none. Pause and
 * overrides then live only as long as this process (and are not shared with replicas).
 */
export function createEphemeralScheduleStore(clock: Clock): FlowScheduleStateStore {
  const states = new Map<string, FlowScheduleState>();
  return {
    async get(jobId) {
      const state = states.get(jobId);
      return state ? { ...state, updatedAt: new Date(state.updatedAt) } : null;
    },
    async getAll() {
      return [...states.values()]
        .sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0))
        .map((s) => ({ ...s, updatedAt: new Date(s.updatedAt) }));
    },
    async save(input) {
      const state: FlowScheduleState = {
        jobId: input.jobId,
        flowId: input.flowId,
        flowName: input.flowName ?? '',
        triggerKey: input.triggerKey,
        isPaused: input.isPaused ?? false,
        cronOverride: input.cronOverride ?? null,
        updatedAt: clock.now(),
      };
      states.set(state.jobId, state);
      return { ...state, updatedAt: new Date(state.updatedAt) };
    },
    async delete(jobId) {
      states.delete(jobId);
    },
  };
}
