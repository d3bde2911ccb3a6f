import type { FlowDefinition } from '@floworch/core';

/** Id of the chaos flow (fixed, so every replica and the checker agree). */
export const CHAOS_FLOW_ID = '6f1d3c2a-9b7e-4c55-8a41-3e0c9d7b5a12';

/** Schema of the engine's tables in the chaos database. */
export const ENGINE_SCHEMA = 'floworch';

/** Fan-out steps between `a` and the join `c`. */
export const BRANCHES = ['b1', 'b2', 'b3'] as const;

/** Every step of the flow, in graph order. */
export const STEP_KEYS = ['a', ...BRANCHES, 'c', 'd'] as const;

/** Steps that wait for more than one predecessor or follow one (the fan-in and after). */
export const JOIN_STEPS = ['c', 'd'] as const;

/** The idempotency key of the i-th triggered run. */
export const idempotencyKeyOf = (index: number): string => `chaos-${index}`;

/** a → b1..b3 → c → d, every step of type `Record` (it records its execution, then returns). */
export const chaosFlow: FlowDefinition = {
  id: CHAOS_FLOW_ID,
  name: 'ChaosFanOutFanIn',
  steps: {
    a: { type: 'Record' },
    ...Object.fromEntries(BRANCHES.map((b) => [b, { type: 'Record', runAfter: { a: ['Succeeded'] } }])),
    c: { type: 'Record', runAfter: Object.fromEntries(BRANCHES.map((b) => [b, ['Succeeded']])) },
    d: { type: 'Record', runAfter: { c: ['Succeeded'] } },
  },
};

/**
 * The side table every handler writes: one row per execution, inserted when the handler starts
 * and stamped `finished_at` when it returns. Outside the engine's schema, so the engine never
 * sees it.
 */
export const EXECUTIONS_DDL = `
CREATE TABLE IF NOT EXISTS public.chaos_executions (
  id          uuid PRIMARY KEY,
  run_id      uuid NOT NULL,
  step_key    text NOT NULL,
  pid         integer NOT NULL,
  slot        integer NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS chaos_executions_run ON public.chaos_executions (run_id, step_key);`;
