import { randomUUID } from 'node:crypto';
import type { FlowRunRecord, FlowStorage } from '@floworch/core';
import {
  createFlowOrchestrator,
  type EngineEvent,
  type FlowOrchestrator,
  type FlowOrchestratorOptions,
  ManualClock,
  silentLogger,
} from '@floworch/core';
import { createInMemoryStorage, type InMemoryStorage } from '@floworch/inmemory';
import { FakeTimers, waitForRun as waitForRunOf } from '@floworch/testkit';

/** The instant fake-time tests start at. */
export const T0 = new Date('2030-01-01T00:00:00.000Z');

/**
 * {@link startEngine} on fake time: the store's clock and the engine's timers are one
 * `ManualClock`, so nothing time-driven happens until the test advances `timers`.
 */
export async function startFakeTimeEngine(
  options: Omit<FlowOrchestratorOptions, 'storage' | 'timers'> & {
    storage?: FlowOrchestratorOptions['storage'];
  },
): Promise<Awaited<ReturnType<typeof startEngine>> & { clock: ManualClock; timers: FakeTimers }> {
  const clock = new ManualClock(T0);
  const timers = new FakeTimers(clock);
  const storage = options.storage ?? createInMemoryStorage({ clock });
  return { ...(await startEngine({ ...options, storage, timers })), clock, timers };
}

/** An orchestrator on a fresh in-memory store, started, with every event recorded. */
export async function startEngine(
  options: Omit<FlowOrchestratorOptions, 'storage'> & { storage?: FlowOrchestratorOptions['storage'] },
): Promise<{ orchestrator: FlowOrchestrator; storage: InMemoryStorage; events: EngineEvent[] }> {
  const storage = (options.storage as InMemoryStorage | undefined) ?? createInMemoryStorage();
  const orchestrator = createFlowOrchestrator({
    logger: silentLogger,
    maintenanceIntervalMs: 0,
    ...options,
    storage,
  });
  const events: EngineEvent[] = [];
  orchestrator.subscribe((e) => {
    events.push(e);
  });
  await orchestrator.start();
  return { orchestrator, storage, events };
}

/** Polls until the run leaves Running (or throws after `budgetMs`, 5 s by default here). */
export const waitForRun = (storage: FlowStorage, runId: string, budgetMs = 5_000): Promise<FlowRunRecord> =>
  waitForRunOf(storage, runId, budgetMs);

/** Step statuses of a run detail, by key. */
export function statusesOf(run: FlowRunRecord): Record<string, string> {
  return Object.fromEntries((run.steps ?? []).map((s) => [s.stepKey, s.status]));
}

/** A new flow id. */
export const flowId = (): string => randomUUID();

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
