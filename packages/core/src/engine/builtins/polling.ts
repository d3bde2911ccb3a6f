import type { z } from 'zod';
import { resolvePath, splitPath } from '../expressions/index.js';
import {
  type StepContext,
  type StepHandlerFn,
  type StepResult,
  StepResults,
  type TypedStepHandler,
} from '../handlers.js';

/** How a polling step decides it is done. */
export interface PollingOptions<TInput, TValue> {
  /** Fetches the current value (an HTTP call, a query …). Throwing fails the step. */
  readonly fetch: (context: StepContext<TInput>) => Promise<TValue> | TValue;
  /** True when `value` means "done". Without it, the `pollConditionPath`/`pollConditionEquals` inputs decide. */
  readonly until?: (value: TValue, context: StepContext<TInput>) => boolean;
  /** Delay between attempts (default 10 s; input `pollIntervalSeconds` overrides). */
  readonly intervalMs?: number;
  /** Budget since the first attempt (default 120 s; input `pollTimeoutSeconds` overrides). */
  readonly timeoutMs?: number;
  /** Attempts required before a match counts (default 1; input `pollMinAttempts` overrides). */
  readonly minAttempts?: number;
  /** Zod schema of the inputs (optional). */
  readonly input?: z.ZodType<TInput>;
}

interface PollState {
  readonly startedAt: number;
  readonly attempt: number;
}

const num = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/** Reference semantics of `pollConditionEquals`: null means "has data"; else case-insensitive text equality. */
export function pollConditionMatches(value: unknown, path: string, expected: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const found = resolvePath(value, splitPath(path));
  if (found === null || found === undefined) return false;
  if (expected === null || expected === undefined) {
    if (typeof found === 'string') return found.trim() !== '';
    if (Array.isArray(found)) return found.length > 0;
    if (typeof found === 'object') return Object.keys(found).length > 0;
    return true;
  }
  const text = (v: unknown) =>
    typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text(found).toLowerCase() === text(expected).toLowerCase();
}

/**
 * A handler that polls: it fetches, and while the condition does not hold it returns `Pending`
 * so the engine runs it again after the interval — until it holds (Succeeded with the last value)
 * or the timeout passes (Failed "Polling timed out after N seconds."). The poll clock and attempt
 * counter live in the step's durable state, so they survive restarts; each poll is an attempt.
 *
 * @example
 * const awaitShipment = definePollingHandler({
 *   fetch: async ({ inputs }) => (await fetch(`https://api.example.com/shipments/${inputs.id}`)).json(),
 *   until: (s) => s.status === 'delivered',
 *   intervalMs: 60_000,
 *   timeoutMs: 86_400_000,
 * });
 */
export function definePollingHandler<TInput = Record<string, unknown>, TValue = unknown>(
  options: PollingOptions<TInput, TValue>,
): StepHandlerFn | TypedStepHandler {
  const execute = async (context: StepContext<TInput>): Promise<StepResult> => {
    const inputs = (context.inputs ?? {}) as Record<string, unknown>;
    const value = await options.fetch(context);
    if (inputs.pollEnabled === false) return StepResults.succeeded(value);
    const intervalMs = Math.max(
      1_000,
      (num(inputs.pollIntervalSeconds) ?? 0) * 1000 || options.intervalMs || 10_000,
    );
    const timeoutMs = Math.max(
      intervalMs,
      (num(inputs.pollTimeoutSeconds) ?? 0) * 1000 || options.timeoutMs || 120_000,
    );
    const minAttempts = Math.max(1, num(inputs.pollMinAttempts) ?? options.minAttempts ?? 1);
    const now = context.now().getTime();
    const previous = (await context.state.get()) as PollState | null;
    const state: PollState = { startedAt: previous?.startedAt ?? now, attempt: (previous?.attempt ?? 0) + 1 };
    const path = typeof inputs.pollConditionPath === 'string' ? inputs.pollConditionPath.trim() : '';
    const met = options.until
      ? options.until(value, context)
      : path !== ''
        ? pollConditionMatches(value, path, inputs.pollConditionEquals)
        : true;
    if (state.attempt >= minAttempts && met) {
      await context.state.clear();
      return StepResults.succeeded(value);
    }
    if (now - state.startedAt >= timeoutMs) {
      await context.state.clear();
      return StepResults.failed(`Polling timed out after ${Math.round(timeoutMs / 1000)} seconds.`, value);
    }
    await context.state.set(state);
    return StepResults.pending(intervalMs, value);
  };
  if (options.input) return { input: options.input, execute } as TypedStepHandler;
  return execute as StepHandlerFn;
}
