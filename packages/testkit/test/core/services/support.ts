import { randomUUID } from 'node:crypto';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  type FlowRunRecord,
  type LogFields,
  type Logger,
  ManualClock,
  silentLogger,
} from '@floworch/core';
import { createInMemoryStorage, type InMemoryStorage } from '@floworch/inmemory';
import { waitForRun as waitForRunOf } from '@floworch/testkit';

/** A fixed start instant for fake-time tests. */
export const T0 = new Date('2030-01-01T00:00:00.000Z');

/** A new flow id. */
export const flowId = (): string => randomUUID();

/** A logger that records lines. */
export function recordingLogger(): Logger & {
  lines: Array<{ level: string; message: string; fields?: LogFields }>;
} {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const logger = {
    lines,
    debug: (message: string, fields?: LogFields) => lines.push({ level: 'debug', message, fields }),
    info: (message: string, fields?: LogFields) => lines.push({ level: 'info', message, fields }),
    warn: (message: string, fields?: LogFields) => lines.push({ level: 'warn', message, fields }),
    error: (message: string, fields?: LogFields) => lines.push({ level: 'error', message, fields }),
    child: () => logger,
  };
  return logger;
}

/** A started orchestrator with a `Noop` handler over `storage`. */
export async function startOrchestrator(
  storage: InMemoryStorage,
  flows: readonly FlowDefinition[],
): Promise<FlowOrchestrator> {
  const orchestrator = createFlowOrchestrator({
    storage,
    flows,
    handlers: { Noop: () => null },
    logger: silentLogger,
    maintenanceIntervalMs: 0,
  });
  await orchestrator.start();
  return orchestrator;
}

/** In-memory storage on a manual clock at {@link T0}. */
export function fakeTimeStorage(): { clock: ManualClock; storage: InMemoryStorage } {
  const clock = new ManualClock(T0);
  return { clock, storage: createInMemoryStorage({ clock }) };
}

/** Every run of a flow, oldest first. */
export async function runsOf(storage: InMemoryStorage, id: string): Promise<FlowRunRecord[]> {
  const runs = await storage.runs.getRuns({ flowId: id, take: 500 });
  return [...runs].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
}

/** Polls until the run leaves Running (fails after `budgetMs`, 5 s by default here). */
export const waitForRun = (
  storage: InMemoryStorage,
  runId: string,
  budgetMs = 5_000,
): Promise<FlowRunRecord> => waitForRunOf(storage, runId, budgetMs);

/** A flow with one cron trigger and one `Noop` step. */
export function cronFlow(
  cronExpression: string,
  extra: { timezone?: string; triggerKey?: string } = {},
): FlowDefinition {
  const inputs = extra.timezone ? { cronExpression, timezone: extra.timezone } : { cronExpression };
  return {
    id: flowId(),
    name: 'Nightly',
    triggers: { [extra.triggerKey ?? 'every']: { type: 'Cron', inputs } },
    steps: { work: { type: 'Noop' } },
  };
}
