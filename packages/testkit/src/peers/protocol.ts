/**
 * Messages between a worker-thread peer (`openWorkerPeer`) and the host running the store inside
 * the worker. Everything crosses by structured clone, so values keep `Date`, `Map`, `Set`,
 * `BigInt` and cycles; an `AbortSignal` argument is replaced by a marker and re-created inside.
 */

/** Stands in for an `AbortSignal` argument; the worker builds its own controller for it. */
export interface AbortMarker {
  readonly __floworchAbortSignal: number;
  /** Present when the signal was already aborted at call time: its (cloned) reason. */
  readonly abortedWith?: unknown;
}

/** Main → worker. */
export type HostRequest =
  | {
      readonly type: 'call';
      readonly id: number;
      /** `[contract, method]`, or `[method]` for a method of the bundle itself (`ping`). */
      readonly path: readonly string[];
      readonly args: readonly unknown[];
      /** The caller's clock at the time of the call; the worker's store reads it as "now". */
      readonly now: number;
    }
  | { readonly type: 'abort'; readonly signalId: number; readonly reason: unknown }
  | { readonly type: 'close' };

/** An error as it crosses the thread boundary (class, code and own fields kept). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** The shape of the store inside the worker, sent once it is open. */
export interface StoreShape {
  readonly name: string;
  readonly capabilities: readonly string[];
  /** Contract name → its method names (own and inherited). */
  readonly contracts: Readonly<Record<string, readonly string[]>>;
  readonly hasPing: boolean;
}

/** Worker → main. */
export type HostResponse =
  | { readonly type: 'ready'; readonly shape: StoreShape }
  | { readonly type: 'failed'; readonly error: WireError }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly error: WireError;
      /** The call rejected with the reason of its own aborted signal. */
      readonly aborted: boolean;
    }
  | { readonly type: 'closed' };

/** Captures an error's class name, message, stack and own enumerable fields (e.g. `code`). */
export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), props: {} };
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'cause' && isCloneablePrimitive(value)) props[key] = value;
  }
  return { name: error.name, message: error.message, stack: error.stack, props };
}

function isCloneablePrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof value);
}

/** Every function-valued property name of `target`, own or inherited (excluding `Object`'s). */
export function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key !== 'constructor' && typeof (target as Record<string, unknown>)[key] === 'function')
        names.add(key);
    }
  }
  return [...names];
}
