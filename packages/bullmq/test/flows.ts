import type { FlowDefinition } from '@floworch/core';

/** Fan-out/fan-in: `start` → 5 parallel branches → `join` (7 steps). */
export const FAN_STEPS = ['start', 'b0', 'b1', 'b2', 'b3', 'b4', 'join'] as const;

/** The fan-out/fan-in flow with this id. */
export function fanFlow(id: string): FlowDefinition {
  const branches = FAN_STEPS.slice(1, -1);
  return {
    id,
    name: 'FanOutFanIn',
    steps: {
      start: { type: 'Work' },
      ...Object.fromEntries(branches.map((b) => [b, { type: 'Work', runAfter: { start: ['Succeeded'] } }])),
      join: { type: 'Work', runAfter: Object.fromEntries(branches.map((b) => [b, ['Succeeded']])) },
    },
  };
}
