import type { ArgumentRule } from './argument-rules.js';
import { type StorageErrorTranslator, storageClosedError, translateStorageError } from './error-codes.js';

/** What a guarded store needs to know about the bundle it belongs to. */
export interface GuardContext {
  /** The backend's name, for messages. */
  readonly backend: string;
  /** True once the bundle's `close()` was called. */
  isClosed(): boolean;
  /** The backend's driver-error translator, if any. */
  readonly translateError?: StorageErrorTranslator;
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Wraps one store: every method call is refused after close, has its arguments checked by
 * `rules`, runs with the original store as `this`, and has its errors translated. A proxy is used
 * so that a method the store lacks stays absent (`typeof guarded.m === 'undefined'`), and
 * non-function members read through unchanged.
 */
export function guardStore<T extends object>(
  store: T,
  storeName: string,
  rules: Readonly<Record<string, ArgumentRule>> | undefined,
  context: GuardContext,
): T {
  // Keyed by the method itself, so a method replaced on the store later (a test spy) is seen.
  const wrapped = new WeakMap<AnyFunction, AnyFunction>();
  // The proxy's own target is a blank object so that frozen stores raise no proxy invariant errors.
  const handler: ProxyHandler<object> = {
    get(_blank, property) {
      const target = store;
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') {
        return value;
      }
      let guarded = wrapped.get(value as AnyFunction);
      if (!guarded) {
        guarded = guardMethod(
          target,
          value as AnyFunction,
          `${storeName}.${property}`,
          rules?.[property],
          context,
        );
        wrapped.set(value as AnyFunction, guarded);
      }
      return guarded;
    },
    // Writes, reflection and prototype lookups go to the store, so the guarded view behaves like it.
    // An object inheriting from the guarded store keeps its own writes (receiver), as with any prototype.
    set: (_blank, property, value, receiver) =>
      Reflect.set(store, property, value, receiver === view ? store : receiver),
    defineProperty: (_blank, property, descriptor) => Reflect.defineProperty(store, property, descriptor),
    deleteProperty: (_blank, property) => Reflect.deleteProperty(store, property),
    has: (_blank, property) => property in store,
    ownKeys: () => Reflect.ownKeys(store),
    getOwnPropertyDescriptor: (_blank, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(store, property);
      // The blank target has no such property, so it may only be reported as configurable.
      return descriptor ? { ...descriptor, configurable: true } : undefined;
    },
    getPrototypeOf: () => Object.getPrototypeOf(store),
  };
  const view = new Proxy({}, handler) as T;
  return view;
}

/** One guarded method: always async, so checks and translation surface as rejections. */
function guardMethod(
  target: object,
  method: AnyFunction,
  operation: string,
  rule: ArgumentRule | undefined,
  context: GuardContext,
): AnyFunction {
  return async (...args: unknown[]) => {
    if (context.isClosed()) throw storageClosedError(context.backend, operation);
    const checked = rule ? rule(args) : args;
    try {
      return await method.apply(target, checked as unknown[]);
    } catch (error) {
      if (isAbortReason(error, checked)) throw error;
      throw translateStorageError(error, operation, context.backend, context.translateError);
    }
  };
}

/**
 * True when `error` is the reason of an aborted signal the caller passed (directly or as an
 * option's `signal`): a call cut short on purpose rejects with the caller's own reason.
 */
export function isAbortReason(error: unknown, args: readonly unknown[]): boolean {
  for (const arg of args) {
    const signal = arg instanceof AbortSignal ? arg : (arg as { signal?: unknown } | null)?.signal;
    if (signal instanceof AbortSignal && signal.aborted && signal.reason === error) return true;
  }
  return false;
}
