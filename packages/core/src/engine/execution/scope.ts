import type { FlowDefinition } from '../../model/types.js';
import type { ExpressionScope } from '../expressions/index.js';
import { findStep } from '../model/index.js';
import type { EngineContext } from './context.js';

/** Trigger data and headers of a run, read once. */
export interface TriggerSnapshot {
  /** Parsed trigger payload. */
  readonly data: unknown;
  /** Lower-cased header map, or null. */
  readonly headers: Readonly<Record<string, string>> | null;
}

/** How many runs' trigger payloads are kept in memory. */
const TRIGGER_CACHE_SIZE = 1_000;

/** Remembers a run's trigger (it never changes), evicting the oldest beyond the cache size. */
export function rememberTrigger(ctx: EngineContext, runId: string, trigger: TriggerSnapshot): void {
  const key = runId.toLowerCase();
  ctx.triggers.delete(key);
  ctx.triggers.set(key, trigger);
  if (ctx.triggers.size > TRIGGER_CACHE_SIZE) ctx.triggers.delete(ctx.triggers.keys().next().value as string);
}

/** The trigger payload and headers of a run: from the cache, else read from the outputs repository. */
export async function loadTrigger(ctx: EngineContext, runId: string): Promise<TriggerSnapshot> {
  const cached = ctx.triggers.get(runId.toLowerCase());
  if (cached) return cached;
  const [data, headers] = await Promise.all([
    ctx.storage.outputs.getTriggerData(runId),
    ctx.storage.outputs.getTriggerHeaders(runId),
  ]);
  const trigger = { data, headers };
  rememberTrigger(ctx, runId, trigger);
  return trigger;
}

/**
 * An expression scope over one run. Step outputs and records are fetched lazily, at most once
 * per scope, so an expression referring to the same step twice costs one read. For a step inside
 * a ForEach iteration (`stepKey` = `loop.3.pack`), an undotted key naming a sibling child
 * (`@steps('price')`) means that sibling in the same iteration (`loop.3.price`), as in runAfter.
 */
export function runScope(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  trigger: TriggerSnapshot,
  stepKey?: string,
): ExpressionScope {
  const cut = stepKey?.lastIndexOf('.') ?? -1;
  const iteration = stepKey && cut > 0 ? stepKey.slice(0, cut) : null;
  const local = (key: string): string => {
    if (!iteration || key.includes('.')) return key;
    const sibling = `${iteration}.${key}`;
    return findStep(flow, sibling) ? sibling : key;
  };
  const outputs = new Map<string, Promise<unknown>>();
  let records: Promise<Map<string, { status: string; errorMessage: string | null }>> | undefined;
  return {
    triggerData: trigger.data,
    triggerHeaders: trigger.headers,
    hasStep: (key) => findStep(flow, local(key)) !== undefined,
    getStepOutput: (raw) => {
      const key = local(raw);
      let value = outputs.get(key);
      if (!value) {
        value = ctx.storage.outputs.getStepOutput(runId, key);
        outputs.set(key, value);
      }
      return value;
    },
    getStepRecord: async (key) => {
      records ??= ctx.storage.runs
        .getRunDetail(runId)
        .then(
          (detail) =>
            new Map(
              (detail?.steps ?? []).map((s) => [
                s.stepKey,
                { status: s.status, errorMessage: s.errorMessage },
              ]),
            ),
        );
      return (await records).get(local(key)) ?? null;
    },
  };
}
