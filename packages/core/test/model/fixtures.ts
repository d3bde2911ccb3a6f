import type { FlowDefinition, StepDefinition } from '../../src/model/types.js';
import type { StepStatus } from '../../src/storage/statuses.js';

/** A flow with the given steps and a fixed identity. */
export function flow(steps: FlowDefinition['steps'], extra: Partial<FlowDefinition> = {}): FlowDefinition {
  return { id: '00000000-0000-4000-8000-000000000001', name: 'TestFlow', steps, ...extra };
}

/** A plain step of type `Work` with the given runAfter. */
export function step(runAfter: StepDefinition['runAfter'] = {}, type = 'Work'): StepDefinition {
  return { type, runAfter };
}

/** A status map from an object literal. */
export function statuses(record: Record<string, StepStatus>): Map<string, StepStatus> {
  return new Map(Object.entries(record));
}
