export {
  createRetentionSweeper,
  DEFAULT_RETENTION_BATCH_SIZE,
  type RetentionSweeper,
  type RetentionSweeperOptions,
  type RetentionSweepReport,
  type RetentionTarget,
} from './sweeper.js';
