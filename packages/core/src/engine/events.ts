import type { Logger } from '../logging/index.js';
import type { FlowEventType } from '../storage/statuses.js';

/** A lifecycle notification published in-process (and persisted as a run event). */
export interface EngineEvent {
  /** What happened. */
  readonly type: FlowEventType;
  /** The flow. */
  readonly flowId: string;
  /** The run. */
  readonly runId: string;
  /** The step, or null for run-level events. */
  readonly stepKey: string | null;
  /** Step or run status after the event, when it has one. */
  readonly status?: string;
  /** Human-readable description (also the persisted event message). */
  readonly message: string;
  /** When it happened (engine clock). */
  readonly at: Date;
}

/** Receives engine events; exceptions it throws are logged and ignored. */
export type EngineEventListener = (event: EngineEvent) => void | Promise<void>;

/** In-process fan-out of {@link EngineEvent}s to subscribers. A failing listener never fails a run. */
export class EngineEventBus {
  private readonly listeners = new Set<EngineEventListener>();

  /** @param logger where listener failures go */
  constructor(private readonly logger: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  subscribe(listener: EngineEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes to every listener without waiting for async listeners. */
  publish(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.report(error, event));
      } catch (error) {
        this.report(error, event);
      }
    }
  }

  private report(error: unknown, event: EngineEvent): void {
    this.logger.warn('event listener failed', { eventType: event.type, runId: event.runId, error });
  }
}
