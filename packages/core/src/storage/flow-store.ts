import type { FlowDefinitionInput, FlowDefinitionRecord, Uuid } from './records.js';

/**
 * Persisted flow definitions and their enabled flag. Required of every backend.
 */
export interface FlowStore {
  /** Every definition, ordered by `name` ascending (ties by `id`). Also the health probe. */
  getAll(): Promise<FlowDefinitionRecord[]>;

  /** The definition with this id, or `null`. */
  getById(id: Uuid): Promise<FlowDefinitionRecord | null>;

  /**
   * Atomic upsert by `id`. Insert: `createdAt = updatedAt = now`. Update: overwrites `name`,
   * `version`, `manifestJson` and `isEnabled`, refreshes `updatedAt`, keeps `createdAt`.
   * Concurrent first saves of one id from several connections all succeed and leave one row.
   * @returns the record as persisted
   */
  save(definition: FlowDefinitionInput): Promise<FlowDefinitionRecord>;

  /** Hard delete; a no-op for unknown ids. */
  delete(id: Uuid): Promise<void>;

  /**
   * Sets `isEnabled` and refreshes `updatedAt`.
   * @throws FlowNotFoundError when no definition has this id
   */
  setEnabled(id: Uuid, enabled: boolean): Promise<FlowDefinitionRecord>;
}
