import type { FlowEventInput, FlowEventRecord, Uuid } from './records.js';

/**
 * Trigger data and headers, step inputs and outputs, and the event log, stored as JSON text.
 * Values are JS values serialised with `JSON.stringify` (object keys kept as written). A stored
 * JSON `null` reads back as `null`, the same as "absent". Required of every backend.
 *
 * Reserved keys share one key space per run: `<stepKey>` (output), `<stepKey>:input`,
 * `__trigger:data`, `__trigger:headers`.
 */
export interface OutputsRepository {
  /** Upserts the step's output. */
  saveStepOutput(runId: Uuid, stepKey: string, value: unknown): Promise<void>;
  /** Upserts the step's inputs (key `<stepKey>:input`). */
  saveStepInput(runId: Uuid, stepKey: string, inputs: unknown): Promise<void>;
  /** Upserts the trigger payload. */
  saveTriggerData(runId: Uuid, data: unknown): Promise<void>;
  /** Upserts the trigger headers with lower-cased names; a no-op for `null`. */
  saveTriggerHeaders(runId: Uuid, headers: Readonly<Record<string, string>> | null): Promise<void>;
  /** The trigger payload, or `null`. */
  getTriggerData(runId: Uuid): Promise<unknown>;
  /** The trigger headers (lower-cased names), or `null` when absent or not an object. */
  getTriggerHeaders(runId: Uuid): Promise<Record<string, string> | null>;
  /** The step's output (or any raw key, e.g. `step:input`), or `null`. */
  getStepOutput(runId: Uuid, stepKey: string): Promise<unknown>;
  /** The step's inputs, or `null`. */
  getStepInput(runId: Uuid, stepKey: string): Promise<unknown>;
  /**
   * Appends an event; the store assigns a sequence strictly increasing within the run.
   * `event.stepKey ?? defaultStepKey` is stored as the step key.
   */
  recordEvent(runId: Uuid, event: FlowEventInput, defaultStepKey?: string | null): Promise<void>;
  /**
   * Optional bulk form of {@link recordEvent}: appends the events in array order, atomically
   * (all or none), with sequences increasing in that order within each run. The engine batches
   * event persistence through it when present.
   */
  recordEvents?(
    events: ReadonlyArray<{ readonly runId: Uuid; readonly event: FlowEventInput }>,
  ): Promise<void>;
}

/** Paging of {@link FlowEventReader.getRunEvents}. */
export interface EventPage {
  /** Events to skip (negative ⇒ 0). */
  readonly skip?: number;
  /** Page size (default 200, < 1 ⇒ 1, capped at 1 000). */
  readonly take?: number;
}

/** Query of {@link FlowEventReader.readEventLog}. */
export interface EventLogQuery {
  /** Only events with a sequence greater than this (default 0: from the start). */
  readonly after?: number;
  /** Page size (default 200, < 1 ⇒ 1, capped at 1 000). */
  readonly take?: number;
}

/** Reads a run's event log. */
export interface FlowEventReader {
  /** Events of the run ordered by sequence; `[]` for unknown runs. */
  getRunEvents(runId: Uuid, page?: EventPage): Promise<FlowEventRecord[]>;
  /**
   * Optional: the event log of every run, ascending by sequence, from `after` on. For backends
   * whose sequence is global (one counter for every run). A sequence is drawn when the event is
   * inserted, not when its transaction commits, so a reader that has seen sequence N can later
   * see a smaller one appear: readers that follow the log re-read a short window behind their
   * cursor (see the dashboard's event feed).
   */
  readEventLog?(query?: EventLogQuery): Promise<FlowEventRecord[]>;
  /** Optional (with `readEventLog`): the highest sequence stored, 0 when the log is empty. */
  lastEventSequence?(): Promise<number>;
  /**
   * Optional: calls `onAppended` when events may have been appended, by any process (PostgreSQL:
   * LISTEN). A hint to read again early; polling alone is correct. Resolves with the unsubscribe.
   */
  listen?(onAppended: () => void): Promise<() => Promise<void>>;
}
