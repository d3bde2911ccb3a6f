import { type FlowStorage, STORAGE_CAPABILITIES } from '@floworch/core';
import type { RunTransaction } from '@floworch/core/backend';

/** Options of {@link withLatency}. */
export interface LatencyOptions {
  /** Largest delay added before each call, in ms (uniformly random from 0). */
  readonly maxMs: number;
  /** Random source in [0, 1) (default `Math.random`), for reproducible runs. */
  readonly random?: () => number;
}

/** Every contract of a storage bundle: the required ones and each optional capability. */
const CONTRACTS = ['flows', 'runs', 'outputs', ...STORAGE_CAPABILITIES] as const;

/**
 * Wraps a backend so that every storage call — and the time between a run transaction's lock and
 * its writes — takes a random extra delay. Races that depend on timing (a run closed before its
 * join step, two branches missing each other) show up under it; a correct engine and store are
 * indifferent to it. Methods run on the original store objects, so `#private` members keep working.
 */
export function withLatency(storage: FlowStorage, options: LatencyOptions): FlowStorage {
  const random = options.random ?? Math.random;
  const pause = (): Promise<void> =>
    new Promise((resolve) => setTimeout(resolve, Math.floor(random() * options.maxMs)));
  const wrap = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (property === 'transact') {
          return async (runId: string, work: (tx: RunTransaction) => Promise<unknown>) => {
            await pause();
            return (value as (...a: unknown[]) => Promise<unknown>).call(
              target,
              runId,
              async (tx: RunTransaction) => {
                await pause(); // widen the window between the lock and the writes
                return work(tx);
              },
            );
          };
        }
        return async (...args: unknown[]) => {
          await pause();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const wrapped: Record<string, unknown> = {
    name: `${storage.name}+latency`,
    clock: storage.clock,
    capabilities: storage.capabilities,
    close: () => storage.close(),
  };
  if (storage.ping) wrapped.ping = (signal?: AbortSignal) => storage.ping!(signal);
  for (const contract of CONTRACTS) {
    const store = storage[contract];
    if (store) wrapped[contract] = wrap(store as object);
  }
  return wrapped as unknown as FlowStorage;
}
