import { type FlowStorage, STORAGE_CAPABILITIES } from '../backend.js';
import { ARGUMENT_RULES, type StoreName } from './argument-rules.js';
import { type StorageErrorTranslator, storageClosedError, translateStorageError } from './error-codes.js';
import { type GuardContext, guardStore, isAbortReason } from './guard-store.js';

/** The store members of a bundle: the three every backend has, then every optional capability. */
const STORE_NAMES: readonly StoreName[] = ['flows', 'runs', 'outputs', ...STORAGE_CAPABILITIES];

/** Options of {@link guardStorage}. */
export interface GuardStorageOptions {
  /** Maps the backend's driver errors to library errors; the rest become `STORAGE_FAILURE`. */
  readonly translateError?: StorageErrorTranslator;
}

/**
 * Puts the checks every backend shares in front of a storage bundle:
 * - arguments are validated (ids present, leases positive and finite) and paging is clamped
 *   before the backend sees them, so backends need not repeat it;
 * - after `close()` every call rejects with `StorageError('STORAGE_CLOSED')`, and `close()`
 *   itself runs the backend's close once however often it is called;
 * - errors other than library errors go through `translateError`, and what it does not know
 *   becomes `StorageError('STORAGE_FAILURE')` with the original as `cause`.
 *
 * Members the backend lacks stay absent, and members the guard does not know (a backend's extras
 * such as `schema` or `db`) are copied as they are.
 */
export function guardStorage<S extends FlowStorage>(storage: S, options: GuardStorageOptions = {}): S {
  let closing: Promise<void> | undefined;
  const context: GuardContext = {
    backend: storage.name,
    isClosed: () => closing !== undefined,
    ...(options.translateError ? { translateError: options.translateError } : {}),
  };
  const guarded: Record<string, unknown> = { ...(storage as object) };
  for (const name of STORE_NAMES) {
    const store = storage[name];
    if (store != null) guarded[name] = guardStore(store, name, ARGUMENT_RULES[name], context);
  }
  for (const probe of ['ping', 'schemaStatus'] as const) {
    const method = storage[probe];
    if (typeof method !== 'function') continue;
    guarded[probe] = async (...args: unknown[]) => {
      if (context.isClosed()) throw storageClosedError(context.backend, probe);
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>).apply(storage, args);
      } catch (error) {
        if (isAbortReason(error, args)) throw error;
        throw translateStorageError(error, probe, context.backend, context.translateError);
      }
    };
  }
  guarded.close = () => {
    closing ??= storage.close.call(storage);
    return closing;
  };
  return guarded as S;
}

/** What a backend hands to {@link defineStorage}. */
export type StorageDefinition<S extends FlowStorage> = S & {
  /** Maps the backend's driver errors to library errors (optional). */
  readonly translateError?: StorageErrorTranslator;
};

/**
 * Assembles a backend's bundle and guards it: the backend lists its name, clock, capabilities,
 * stores, `close` and (optionally) `ping`, `schemaStatus`, `translateError` and its own extras;
 * it gets back the bundle with {@link guardStorage} in front.
 *
 * @example
 * return defineStorage({
 *   name: 'mydb', clock, capabilities: ['runtime'],
 *   flows, runs, outputs, runtime,
 *   close: () => pool.end(),
 *   translateError: (e) => (isUniqueViolation(e) ? new StorageError(...) : undefined),
 * });
 */
export function defineStorage<S extends FlowStorage>(definition: StorageDefinition<S>): S {
  const { translateError, ...storage } = definition;
  return guardStorage(storage as unknown as S, translateError ? { translateError } : {});
}
