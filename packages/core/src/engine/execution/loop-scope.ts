import type { FlowDefinition } from '../../model/types.js';
import { resolvePath, splitPath } from '../expressions/index.js';
import { runtimeScopes } from '../model/index.js';
import type { EngineContext } from './context.js';

/** The ForEach iteration a step runs in. */
export interface LoopIteration {
  /** The loop step's runtime key. */
  readonly key: string;
  /** Zero-based iteration index. */
  readonly index: number;
  /** The item of this iteration. */
  readonly item: unknown;
}

/** Items a started loop iterates, as stored in its step input. */
export async function loopItems(ctx: EngineContext, runId: string, loopKey: string): Promise<unknown[]> {
  const stored = (await ctx.storage.outputs.getStepInput(runId, loopKey)) as { items?: unknown } | null;
  return Array.isArray(stored?.items) ? stored.items : [];
}

/** The innermost iteration `stepKey` belongs to, or null for a step outside any loop. */
export async function iterationOf(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  stepKey: string,
): Promise<LoopIteration | null> {
  const scopes = runtimeScopes(flow, stepKey);
  const inner = scopes[scopes.length - 1];
  if (!inner) return null;
  const cut = inner.prefix.lastIndexOf('.');
  const key = inner.prefix.slice(0, cut);
  const index = Number(inner.prefix.slice(cut + 1));
  const items = await loopItems(ctx, runId, key);
  return { key, index, item: items[index] ?? null };
}

const LOOP_ITEM = /^\s*@loopItem\(\)/i;
const LOOP_INDEX = /^\s*@loopIndex\(\)\s*$/i;

/**
 * Replaces whole-value `@loopItem()` (optionally with a path: `@loopItem().sku`,
 * `@loopItem()?.lines[0]`) and `@loopIndex()` strings with the iteration's item and index.
 */
export function resolveLoopExpressions(value: unknown, iteration: LoopIteration): unknown {
  if (typeof value === 'string') {
    if (LOOP_INDEX.test(value)) return iteration.index;
    const match = LOOP_ITEM.exec(value);
    if (!match) return value;
    const trail = value.slice(match[0].length).trim().replace(/^\?\./, '.');
    if (trail === '') return iteration.item;
    if (!trail.startsWith('.') && !trail.startsWith('[')) return value;
    return resolvePath(iteration.item, splitPath(trail)) ?? null;
  }
  if (Array.isArray(value)) return value.map((v) => resolveLoopExpressions(v, iteration));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        resolveLoopExpressions(v, iteration),
      ]),
    );
  }
  return value;
}
