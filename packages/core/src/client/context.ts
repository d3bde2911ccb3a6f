import { randomUUID } from 'node:crypto';
import { EngineEventBus } from '../engine/events.js';
import type { EngineContext } from '../engine/execution/context.js';
import { HandlerRegistry } from '../engine/handlers.js';
import { noopTelemetry } from '../engine/telemetry.js';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import type { FlowDefinition } from '../model/types.js';
import type { FlowStorage } from '../storage/backend.js';
import { systemTimers } from '../time/index.js';

/** Settings a client shares with the orchestrators it talks to. */
export interface PassiveSettings {
  /** Header carrying an idempotency key. */
  readonly idempotencyHeader: string;
}

/**
 * An engine context that executes nothing: no local worker (so transitions take no steps for
 * this process), no handlers, no telemetry. Lets a client run the engine's own transitions —
 * trigger, cancel continuation, retry — so a command means the same from a client as from an
 * orchestrator. `flows` is filled as the client resolves definitions.
 */
export function passiveContext(
  storage: FlowStorage,
  logger: Logger,
  settings: PassiveSettings,
  flows: Map<string, FlowDefinition>,
): EngineContext {
  const instanceId = `client-${randomUUID()}`;
  let takes = 0;
  return {
    // Checked per command (requireQueue): a client over a backend without a queue can still read.
    storage: storage as EngineContext['storage'],
    flows,
    handlers: new HandlerRegistry(),
    settings: {
      leaseMs: 30_000,
      defaultPendingDelayMs: 10_000,
      defaultRunTimeoutMs: null,
      defaultStepTimeoutMs: null,
      idempotencyHeader: settings.idempotencyHeader,
      persistEvents: true,
    },
    logger,
    bus: new EngineEventBus(logger),
    instanceId,
    // A client takes nothing; owners exist only to satisfy the context's shape.
    nextOwner: () => `${instanceId}#${(++takes).toString(36)}`,
    timers: systemTimers,
    running: new Map(),
    telemetry: noopTelemetry,
    local: null,
    halted: false,
    triggers: new Map(),
  };
}

/** Throws unless the backend implements the contracts that change runs. */
export function requireWritable(storage: FlowStorage, what: string): void {
  const missing = (['queue', 'control'] as const).filter((c) => !storage[c]);
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      'storage',
      `backend '${storage.name}' lacks the ${missing.join(', ')} contract(s) needed to ${what}`,
    );
  }
}
