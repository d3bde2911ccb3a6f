import { InvalidArgumentError } from '../errors.js';
import { toFlowId } from '../ids.js';
import { parseCron } from '../services/cron/expression.js';
import { type CronTriggerDeclaration, cronTriggersOf } from '../services/cron/job-id.js';
import type { CronScheduler } from '../services/cron/scheduler.js';
import type { FlowStorage } from '../storage/backend.js';
import type { FlowScheduleState } from '../storage/records.js';
import type { FlowScheduleStateStore } from '../storage/schedule-store.js';
import type { FlowCatalog } from './flows.js';
import type { FlowClient, ScheduleView } from './types.js';

type ScheduleCommands = Pick<
  FlowClient,
  'listSchedules' | 'pauseSchedule' | 'resumeSchedule' | 'setScheduleCron'
>;

const overrideOf = (state: FlowScheduleState | null): string | null => state?.cronOverride?.trim() || null;

/**
 * Pause, resume and override of cron triggers through the schedule store. Every orchestrator
 * re-reads a job's stored state before firing it, so a change made here holds from the next
 * tick on; a new override's timing is picked up within the orchestrators' state sync interval.
 * `local` is the in-process scheduler of an orchestrator, which then applies the change at once.
 */
export function scheduleCommands(
  storage: FlowStorage,
  catalog: FlowCatalog,
  local: () => CronScheduler | undefined = () => undefined,
): ScheduleCommands {
  const store = (): FlowScheduleStateStore => {
    if (!storage.schedules) {
      throw new InvalidArgumentError('storage', `backend '${storage.name}' has no schedules contract`);
    }
    return storage.schedules;
  };

  const declaration = async (flowId: string, triggerKey: string): Promise<CronTriggerDeclaration> => {
    const flow = await catalog.get(toFlowId(flowId));
    const found = cronTriggersOf([flow]).find((d) => d.triggerKey === triggerKey);
    if (!found) {
      throw new InvalidArgumentError('triggerKey', `flow '${flow.name}' has no cron trigger '${triggerKey}'`);
    }
    return found;
  };

  const save = (d: CronTriggerDeclaration, isPaused: boolean, cronOverride: string | null) =>
    store().save({
      jobId: d.jobId,
      flowId: d.flow.id,
      flowName: d.flow.name,
      triggerKey: d.triggerKey,
      isPaused,
      cronOverride,
    });

  return {
    async listSchedules() {
      const declarations = cronTriggersOf(await catalog.all());
      const views: ScheduleView[] = [];
      for (const d of declarations) {
        const state = storage.schedules ? await storage.schedules.get(d.jobId) : null;
        const cronOverride = overrideOf(state);
        views.push({
          jobId: d.jobId,
          flowId: d.flow.id,
          flowName: d.flow.name,
          triggerKey: d.triggerKey,
          cron: cronOverride ?? d.manifestCron,
          manifestCron: d.manifestCron,
          cronOverride,
          timezone: d.timezone,
          isPaused: state?.isPaused ?? false,
        });
      }
      return views.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
    },
    async pauseSchedule(flowId, triggerKey) {
      const d = await declaration(flowId, triggerKey);
      const cron = local();
      if (cron) return cron.pause(d.flow.id, triggerKey);
      // As the scheduler does: pin the expression in force so the paused row shows what ran.
      const stored = await store().get(d.jobId);
      await save(d, true, overrideOf(stored) ?? (d.manifestCron || null));
    },
    async resumeSchedule(flowId, triggerKey) {
      const d = await declaration(flowId, triggerKey);
      const cron = local();
      if (cron) return cron.resume(d.flow.id, triggerKey);
      const stored = await store().get(d.jobId);
      await save(d, false, overrideOf(stored));
    },
    async setScheduleCron(flowId, triggerKey, expression) {
      const d = await declaration(flowId, triggerKey);
      const cron = local();
      if (cron) return cron.setCron(d.flow.id, triggerKey, expression);
      const override = expression === null ? null : expression.trim();
      if (override === '') throw new InvalidArgumentError('cronExpression', 'a cron expression is required');
      parseCron(
        override ?? d.manifestCron,
        d.timezone,
        `of trigger '${triggerKey}' in flow '${d.flow.name}'`,
      );
      const stored = await store().get(d.jobId);
      await save(d, stored?.isPaused ?? false, override);
    },
  };
}
