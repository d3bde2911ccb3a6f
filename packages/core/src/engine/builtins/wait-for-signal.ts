import type { FlowStorage } from '../../storage/backend.js';
import { type StepHandlerFn, StepResults } from '../handlers.js';

/** How long a step without a timeout stays parked before it checks again. */
const PARK_WITHOUT_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** Parses a delivered payload: JSON when it parses, the raw text otherwise, null when blank. */
function parsePayload(text: string | null): unknown {
  if (text === null || text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The built-in `WaitForSignal` step (inputs `signalName` — default `"default"` — and optional
 * `timeoutSeconds`): parks the step until `orchestrator.signal(runId, signalName, payload)`
 * delivers, then succeeds with the payload as output; fails once the timeout passes. The waiter
 * stays behind as a tombstone so a repeated invocation gives the same answer.
 */
export function waitForSignalHandler(storage: FlowStorage): StepHandlerFn {
  return async ({ runId, stepKey, inputs }) => {
    const signals = storage.signals;
    if (!signals)
      return StepResults.failed(
        'WaitForSignal needs a storage backend that implements the signals contract.',
      );
    const raw = inputs.signalName;
    const name = raw === undefined || raw === null ? 'default' : String(raw).trim();
    if (!name) return StepResults.failed("WaitForSignal step requires a non-empty 'signalName' input.");
    const timeoutSeconds = Number(inputs.timeoutSeconds ?? 0);
    const now = storage.clock.now().getTime();
    const waiter = await signals.getWaiter(runId, stepKey);
    if (waiter?.deliveredAt) return StepResults.succeeded(parsePayload(waiter.payloadJson));
    if (waiter?.expiresAt && now >= waiter.expiresAt.getTime()) {
      const waited = Math.round((waiter.expiresAt.getTime() - waiter.createdAt.getTime()) / 1000);
      return StepResults.failed(`Signal '${name}' not received within ${waited}s.`);
    }
    let expiresAt = waiter?.expiresAt ?? null;
    if (!waiter) {
      expiresAt =
        Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? new Date(now + timeoutSeconds * 1000) : null;
      await signals.registerWaiter(runId, stepKey, name, expiresAt);
    }
    const delay = expiresAt ? Math.max(expiresAt.getTime() - now + 1000, 1000) : PARK_WITHOUT_TIMEOUT_MS;
    return StepResults.pending(delay);
  };
}
