export {
  type CronSchedule,
  DEFAULT_CRON_TIMEZONE,
  latestOccurrence,
  parseCron,
  validateCronExpression,
} from './expression.js';
export { type CronTriggerDeclaration, cronJobId, cronTriggersOf } from './job-id.js';
export {
  type CronFire,
  type CronJobInfo,
  type CronJobState,
  type CronScheduler,
  type CronSchedulerOptions,
  type CronTriggerState,
  createCronScheduler,
} from './scheduler.js';
export { createEphemeralScheduleStore } from './state-store.js';
export type { CronTarget } from './target.js';
