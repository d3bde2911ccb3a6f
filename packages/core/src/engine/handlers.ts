import type { z } from 'zod';
import type { Logger } from '../logging/index.js';
import type { FlowDefinition } from '../model/types.js';

/** Everything a step handler gets for one attempt. */
export interface StepContext<TInput = Record<string, unknown>> {
  /** The flow being run. */
  readonly flow: FlowDefinition;
  /** The run id. */
  readonly runId: string;
  /** The step's key (a runtime key such as `loop.0.child` inside a ForEach). */
  readonly stepKey: string;
  /** The step's handler type. */
  readonly stepType: string;
  /** Inputs with expressions resolved (and parsed by the handler's zod schema, when it has one). */
  readonly inputs: TInput;
  /** The trigger payload of the run. */
  readonly triggerData: unknown;
  /** The trigger headers (lower-cased names), or null. */
  readonly triggerHeaders: Readonly<Record<string, string>> | null;
  /** 1 for the first attempt of this step, then 2, 3, … (manual retries and polls count too). */
  readonly attempt: number;
  /** Fires on run cancel, run timeout, lease loss and shutdown: stop work and return or throw. */
  readonly signal: AbortSignal;
  /** Logger scoped to this run and step. */
  readonly logger: Logger;
  /** The engine clock's "now" (fake in tests). */
  now(): Date;
  /**
   * Small durable state of this step that survives reschedules and restarts (polling counters,
   * cursors). Cleared by the handler when done.
   */
  readonly state: StepState;
  /** The ForEach iteration this step runs in (`@loopItem()` in inputs reads the same item), or null. */
  readonly loop: { readonly key: string; readonly index: number; readonly item: unknown } | null;
}

/** Durable per-step state (see {@link StepContext.state}). */
export interface StepState {
  /** The stored value, or null. */
  get(): Promise<unknown>;
  /** Replaces the stored value (JSON). */
  set(value: unknown): Promise<void>;
  /** Removes it. */
  clear(): Promise<void>;
}

const RESULT = Symbol.for('floworch.stepResult');

/** An explicit step outcome; return one from a handler instead of a plain value to control status. */
export interface StepResult {
  /** Brand that tells results apart from plain output values. */
  readonly [RESULT]: true;
  /** Outcome of the attempt. */
  readonly status: 'Succeeded' | 'Failed' | 'Skipped' | 'Pending';
  /** Output stored for `@steps('key').output` (default null). */
  readonly output?: unknown;
  /** Why the step failed or was skipped. */
  readonly reason?: string;
  /** Pending: run the step again after this many ms (default 10 000). Succeeded: delay successors. */
  readonly delayMs?: number;
}

/** Builders for {@link StepResult}s. */
export const StepResults = Object.freeze({
  /** Succeeded with `output`; `delayMs` delays the successors. */
  succeeded: (output?: unknown, options: { delayMs?: number } = {}): StepResult => ({
    [RESULT]: true,
    status: 'Succeeded',
    output,
    ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
  }),
  /** Failed with `reason` (retried if the step has a retry policy). */
  failed: (reason: string, output?: unknown): StepResult => ({
    [RESULT]: true,
    status: 'Failed',
    reason,
    output,
  }),
  /** Skipped with `reason`; dependents see `Skipped`. */
  skipped: (reason: string): StepResult => ({ [RESULT]: true, status: 'Skipped', reason }),
  /** Not done yet: run this step again after `delayMs` (polling, parking). */
  pending: (delayMs = 10_000, output?: unknown): StepResult => ({
    [RESULT]: true,
    status: 'Pending',
    delayMs,
    output,
  }),
});

/** True when `value` is a {@link StepResult}. */
export function isStepResult(value: unknown): value is StepResult {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RESULT] === true;
}

/** A handler as a plain function. */
export type StepHandlerFn<TInput = Record<string, unknown>> = (
  context: StepContext<TInput>,
) => unknown | StepResult | Promise<unknown | StepResult>;

/** A handler with a zod schema: inputs are parsed first and a mismatch fails the step, naming the field. */
export interface TypedStepHandler<TSchema extends z.ZodType = z.ZodType> {
  /** Schema of the resolved inputs. */
  readonly input: TSchema;
  /** The work. */
  readonly execute: StepHandlerFn<z.output<TSchema>>;
}

/** Either handler form. */
export type StepHandler = StepHandlerFn | TypedStepHandler;

/**
 * Declares a typed handler (identity function that lets TypeScript infer the input type).
 *
 * @example
 * const sendEmail = defineHandler({ input: z.object({ to: z.string().email() }), execute: ({ inputs }) => send(inputs.to) });
 */
export function defineHandler<TSchema extends z.ZodType>(
  handler: TypedStepHandler<TSchema>,
): TypedStepHandler<TSchema> {
  return handler;
}

/** Handlers by type name, matched case-insensitively. */
export class HandlerRegistry {
  private readonly byType = new Map<string, StepHandler>();
  private readonly names = new Map<string, string>();

  /** @param handlers type name → handler */
  constructor(handlers: Readonly<Record<string, StepHandler>> = {}) {
    for (const [type, handler] of Object.entries(handlers)) this.register(type, handler);
  }

  /** Adds a handler; the first registration of a type (case-insensitively) wins. */
  register(type: string, handler: StepHandler): void {
    const key = type.toLowerCase();
    if (this.byType.has(key)) return;
    this.byType.set(key, handler);
    this.names.set(key, type);
  }

  /** Registered type names as first written, in registration order. */
  types(): string[] {
    return [...this.names.values()];
  }

  /** The handler for `type`, or undefined. */
  get(type: string): StepHandler | undefined {
    return this.byType.get(type.toLowerCase());
  }

  /** True when a handler exists for `type`. */
  has(type: string): boolean {
    return this.byType.has(type.toLowerCase());
  }
}
