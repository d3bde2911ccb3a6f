import {
  type Clock,
  type FlowDefinitionInput,
  type FlowDefinitionRecord,
  FlowNotFoundError,
  type FlowStore,
} from '@floworch/core';
import { compareOrdinal } from './order.js';
import type { MemoryState } from './state.js';

const copy = (r: FlowDefinitionRecord): FlowDefinitionRecord => ({
  ...r,
  createdAt: new Date(r.createdAt.getTime()),
  updatedAt: new Date(r.updatedAt.getTime()),
});

/** In-memory {@link FlowStore}. */
export class InMemoryFlowStore implements FlowStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  async getAll(): Promise<FlowDefinitionRecord[]> {
    return [...this.state.flows.values()]
      .sort((a, b) => compareOrdinal(a.name, b.name) || compareOrdinal(a.id, b.id))
      .map(copy);
  }

  async getById(id: string): Promise<FlowDefinitionRecord | null> {
    const r = this.state.flows.get(id.toLowerCase());
    return r ? copy(r) : null;
  }

  async save(definition: FlowDefinitionInput): Promise<FlowDefinitionRecord> {
    const id = definition.id.toLowerCase();
    const now = this.clock.now();
    const existing = this.state.flows.get(id);
    const record: FlowDefinitionRecord = {
      id,
      name: definition.name,
      version: definition.version ?? '1.0',
      manifestJson: definition.manifestJson ?? null,
      isEnabled: definition.isEnabled ?? true,
      createdAt: existing ? existing.createdAt : now,
      updatedAt: now,
    };
    this.state.flows.set(id, record);
    return copy(record);
  }

  async delete(id: string): Promise<void> {
    this.state.flows.delete(id.toLowerCase());
  }

  async setEnabled(id: string, enabled: boolean): Promise<FlowDefinitionRecord> {
    const existing = this.state.flows.get(id.toLowerCase());
    if (!existing) throw new FlowNotFoundError(id);
    const record = { ...existing, isEnabled: enabled, updatedAt: this.clock.now() };
    this.state.flows.set(record.id, record);
    return copy(record);
  }
}
