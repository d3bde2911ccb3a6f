import type {
  Clock,
  EventLogQuery,
  EventPage,
  FlowEventInput,
  FlowEventReader,
  FlowEventRecord,
  OutputsRepository,
} from '@floworch/core';
import {
  fromJsonText,
  headersFromJsonText,
  lowerCaseHeaders,
  OutputKeys,
  toJsonText,
} from '@floworch/core/backend';
import { toDate } from './copy.js';
import type { EventRow, MemoryState } from './state.js';

/** In-memory {@link OutputsRepository} and {@link FlowEventReader}. Values are kept as JSON text. */
export class InMemoryOutputs implements OutputsRepository, FlowEventReader {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  private put(runId: string, key: string, value: unknown, what: string): void {
    const text = toJsonText(value, what);
    this.state.runData(runId).outputs.set(key, text);
  }

  private read(runId: string, key: string): unknown {
    return fromJsonText(this.state.peekRunData(runId)?.outputs.get(key) ?? null);
  }

  async saveStepOutput(runId: string, stepKey: string, value: unknown): Promise<void> {
    // Stryker disable next-line StringLiteral: error messages are not part of the contract.
    this.put(runId, stepKey, value, `output of step '${stepKey}'`);
  }

  async saveStepInput(runId: string, stepKey: string, inputs: unknown): Promise<void> {
    // Stryker disable next-line StringLiteral: error messages are not part of the contract.
    this.put(runId, OutputKeys.stepInput(stepKey), inputs, `inputs of step '${stepKey}'`);
  }

  async saveTriggerData(runId: string, data: unknown): Promise<void> {
    // Stryker disable next-line StringLiteral: error messages are not part of the contract.
    this.put(runId, OutputKeys.triggerData, data, 'trigger data');
  }

  async saveTriggerHeaders(runId: string, headers: Readonly<Record<string, string>> | null): Promise<void> {
    if (headers === null || headers === undefined) return;
    // Stryker disable next-line StringLiteral: error messages are not part of the contract.
    this.put(runId, OutputKeys.triggerHeaders, lowerCaseHeaders(headers), 'trigger headers');
  }

  async getTriggerData(runId: string): Promise<unknown> {
    return this.read(runId, OutputKeys.triggerData);
  }

  async getTriggerHeaders(runId: string): Promise<Record<string, string> | null> {
    return headersFromJsonText(this.state.peekRunData(runId)?.outputs.get(OutputKeys.triggerHeaders) ?? null);
  }

  async getStepOutput(runId: string, stepKey: string): Promise<unknown> {
    return this.read(runId, stepKey);
  }

  async getStepInput(runId: string, stepKey: string): Promise<unknown> {
    return this.read(runId, OutputKeys.stepInput(stepKey));
  }

  /** Builds an event row without storing it (sequence assigned on append). */
  private eventRow(event: FlowEventInput, defaultStepKey?: string | null): Omit<EventRow, 'sequence'> {
    return {
      timestamp: (event.timestamp ?? this.clock.now()).getTime(),
      type: event.type,
      stepKey: event.stepKey ?? defaultStepKey ?? null,
      message: event.message ?? null,
    };
  }

  async recordEvent(runId: string, event: FlowEventInput, defaultStepKey?: string | null): Promise<void> {
    const row = this.eventRow(event, defaultStepKey);
    this.state.appendEvent(runId, row);
  }

  async recordEvents(
    events: ReadonlyArray<{ readonly runId: string; readonly event: FlowEventInput }>,
  ): Promise<void> {
    // Build every row before appending any, so a bad element leaves the log untouched (all or none).
    const rows = events.map(({ runId, event }) => ({ runId, row: this.eventRow(event) }));
    for (const { runId, row } of rows) this.state.appendEvent(runId, row);
  }

  async getRunEvents(runId: string, page?: EventPage): Promise<FlowEventRecord[]> {
    // The guard in front of this store has clamped the page already.
    const { skip = 0, take = 0 } = page ?? {};
    const id = runId.toLowerCase();
    const events = this.state.peekRunData(id)?.events ?? [];
    return events.slice(skip, skip + take).map((e) => ({
      sequence: e.sequence,
      runId: id,
      timestamp: toDate(e.timestamp),
      type: e.type,
      stepKey: e.stepKey,
      message: e.message,
    }));
  }

  async readEventLog(query?: EventLogQuery): Promise<FlowEventRecord[]> {
    const { after = 0, take = 0 } = query ?? {};
    const found: FlowEventRecord[] = [];
    for (const [runId, data] of this.state.perRun) {
      for (const e of data.events) {
        if (e.sequence <= after) continue;
        found.push({
          sequence: e.sequence,
          runId,
          timestamp: toDate(e.timestamp),
          type: e.type,
          stepKey: e.stepKey,
          message: e.message,
        });
      }
    }
    return found.sort((a, b) => a.sequence - b.sequence).slice(0, take);
  }

  async lastEventSequence(): Promise<number> {
    let last = 0;
    for (const data of this.state.perRun.values()) {
      const tail = data.events.at(-1);
      if (tail && tail.sequence > last) last = tail.sequence;
    }
    return last;
  }

  async listen(onAppended: () => void): Promise<() => Promise<void>> {
    const listener = () => onAppended();
    this.state.eventListeners.add(listener);
    return async () => {
      this.state.eventListeners.delete(listener);
    };
  }
}
