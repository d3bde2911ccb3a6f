import type { Logger } from '@floworch/core';
import { createPostgresStorage, type PostgresStorage } from '@floworch/postgresql';
import { sql } from 'kysely';
import type { Execution, RunSnapshot } from './checks.js';
import { CHAOS_FLOW_ID, ENGINE_SCHEMA, idempotencyKeyOf } from './flow.js';

/** What the checks read from the chaos database, through the public storage API (and the side table). */
export interface Collected {
  readonly runs: RunSnapshot[];
  readonly idempotencyKeys: Map<number, string | null>;
  readonly executions: Execution[];
}

/** Opens the chaos database through the public backend API (after the faults stopped). */
export function openChecker(url: string, logger: Logger): Promise<PostgresStorage> {
  return createPostgresStorage({
    connectionString: url,
    schema: ENGINE_SCHEMA,
    migrate: false,
    applicationName: 'floworch_chaos_checker',
    logger,
  });
}

/** Every run of the chaos flow (with steps), the idempotency keys of `triggers` indexes, and every execution. */
export async function collect(storage: PostgresStorage, triggers: number): Promise<Collected> {
  const runs: RunSnapshot[] = [];
  for (let skip = 0; ; skip += 500) {
    const page = await storage.runs.getRunsPage({ flowId: CHAOS_FLOW_ID, skip, take: 500 });
    for (const summary of page.runs) {
      const detail = await storage.runs.getRunDetail(summary.id);
      if (!detail) continue;
      runs.push({
        runId: detail.id,
        status: detail.status,
        steps: (detail.steps ?? []).map((s) => ({
          stepKey: s.stepKey,
          status: s.status,
          error: s.errorMessage,
        })),
      });
    }
    if (page.runs.length < 500) break;
  }
  const idempotencyKeys = new Map<number, string | null>();
  for (let index = 0; index < triggers; index++) {
    idempotencyKeys.set(
      index,
      await storage.control.findRunIdByIdempotencyKey(CHAOS_FLOW_ID, 'manual', idempotencyKeyOf(index)),
    );
  }
  const { rows } = await sql<{ run_id: string; step_key: string; pid: number; finished: boolean }>`
    SELECT run_id, step_key, pid, finished_at IS NOT NULL AS finished FROM public.chaos_executions`.execute(
    storage.db,
  );
  const executions = rows.map((r) => ({
    runId: r.run_id,
    stepKey: r.step_key,
    pid: r.pid,
    finished: r.finished,
  }));
  return { runs, idempotencyKeys, executions };
}

/** Polls until every run in `runIds` is terminal or `budgetMs` passed; returns how many are still open. */
export async function waitForTerminal(
  storage: PostgresStorage,
  runIds: readonly string[],
  budgetMs: number,
): Promise<number> {
  const open = new Set(runIds);
  const deadline = Date.now() + budgetMs;
  while (open.size > 0 && Date.now() < deadline) {
    for (const runId of [...open]) {
      const run = await storage.runs.getRunDetail(runId);
      // A run id with no run will not appear later: the checks report it, waiting cannot help.
      if (run?.status !== 'Running') open.delete(runId);
    }
    if (open.size > 0) await new Promise((r) => setTimeout(r, 500));
  }
  return open.size;
}

/** Every run id to wait for: those the triggers were answered with, and every run of the flow stored. */
export async function runIdsToWatch(
  storage: PostgresStorage,
  router: { readonly acknowledged: ReadonlyMap<number, string | null> },
): Promise<string[]> {
  const ids = new Set([...router.acknowledged.values()].filter((id): id is string => id !== null));
  for (let skip = 0; ; skip += 500) {
    const page = await storage.runs.getRunsPage({ flowId: CHAOS_FLOW_ID, skip, take: 500 });
    for (const run of page.runs) ids.add(run.id);
    if (page.runs.length < 500) break;
  }
  return [...ids];
}
