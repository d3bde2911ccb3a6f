import { parentPort, workerData } from 'node:worker_threads';
import type { AbortMarker, HostRequest, HostResponse, StoreShape } from './protocol.js';
import { methodNames, toWireError } from './protocol.js';

/** What the spawning side hands the worker. */
export interface WorkerHostData {
  /** File URL of the module exporting the store factory. */
  readonly module: string;
  /** Name of the factory export. */
  readonly exportName: string;
  /** Cloneable options for the factory. */
  readonly options: unknown;
  /** The caller's clock when the worker was started. */
  readonly now: number;
}

/** A store factory as the worker calls it. */
type Factory = (options: unknown, context: { clock: { now(): Date } }) => unknown;

/**
 * Runs inside the worker: opens the store through the factory module and serves calls from the
 * main thread until told to close. Exported for the spawner; not part of the public API.
 */
export async function runWorkerHost(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runWorkerHost must run inside a worker thread');
  const data = workerData as WorkerHostData;
  const send = (message: HostResponse) => port.postMessage(message);
  // The store stamps time from the caller's clock as of the latest call.
  let now = data.now;
  const clock = { now: () => new Date(now) };
  const controllers = new Map<number, AbortController>();

  let storage: Record<string, unknown>;
  try {
    const mod = (await import(data.module)) as Record<string, unknown>;
    const factory = mod[data.exportName];
    if (typeof factory !== 'function')
      throw new TypeError(`module ${data.module} has no function export '${data.exportName}'`);
    storage = (await (factory as Factory)(data.options, { clock })) as Record<string, unknown>;
  } catch (error) {
    send({ type: 'failed', error: toWireError(error) });
    return;
  }
  send({ type: 'ready', shape: shapeOf(storage) });

  /** The worker-side signal for a marker, shared by every call that passed the same signal. */
  const signalFor = (marker: AbortMarker, used: AbortController[]): AbortSignal => {
    const id = marker.__floworchAbortSignal;
    const controller = controllers.get(id) ?? new AbortController();
    controllers.set(id, controller);
    if ('abortedWith' in marker && !controller.signal.aborted) controller.abort(marker.abortedWith);
    used.push(controller);
    return controller.signal;
  };
  // Signals travel as a top-level argument (`ping(signal)`) or an option (`cleanup(at, { signal })`).
  const decode = (arg: unknown, used: AbortController[]): unknown => {
    if (isMarker(arg)) return signalFor(arg, used);
    if (isPlainObject(arg) && Object.values(arg).some(isMarker)) {
      return Object.fromEntries(
        Object.entries(arg).map(([k, v]) => [k, isMarker(v) ? signalFor(v, used) : v]),
      );
    }
    return arg;
  };

  port.on('message', async (message: HostRequest) => {
    if (message.type === 'abort') {
      const controller = controllers.get(message.signalId) ?? new AbortController();
      controllers.set(message.signalId, controller);
      controller.abort(message.reason);
      return;
    }
    if (message.type === 'close') {
      await (storage.close as () => Promise<void>)();
      send({ type: 'closed' });
      return;
    }
    now = message.now;
    const signals: AbortController[] = [];
    const args = message.args.map((arg) => decode(arg, signals));
    try {
      const [first, second] = message.path;
      const target = (second === undefined ? storage : storage[first!]) as Record<string, unknown>;
      const method = (second === undefined ? first : second)!;
      const value = await (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      send({ type: 'result', id: message.id, value });
    } catch (error) {
      const aborted = signals.some((c) => c.signal.aborted && c.signal.reason === error);
      send({ type: 'error', id: message.id, error: toWireError(error), aborted });
    }
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

function isMarker(value: unknown): value is AbortMarker {
  return isPlainObject(value) && typeof value.__floworchAbortSignal === 'number';
}

function shapeOf(storage: Record<string, unknown>): StoreShape {
  const contracts: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(storage)) {
    if (key === 'clock' || !value || typeof value !== 'object' || Array.isArray(value)) continue;
    contracts[key] = methodNames(value);
  }
  return {
    name: String(storage.name),
    capabilities: [...((storage.capabilities as string[] | undefined) ?? [])],
    contracts,
    hasPing: typeof storage.ping === 'function',
  };
}
