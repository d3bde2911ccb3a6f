/**
 * The source of "now" for every store and for the engine.
 *
 * Stores stamp times from this clock, never from the database server, so that a test can drive a
 * fake clock against a real database and so that every replica agrees on one time source.
 */
export interface Clock {
  /** The current instant. Implementations must return a fresh `Date` on every call. */
  now(): Date;
}

/** The wall clock of this process. */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/**
 * A clock that only moves when told to. Used by the conformance suite and the flow test host.
 *
 * @example
 * const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
 * clock.advance(5_000); // five seconds later
 */
export class ManualClock implements Clock {
  #ms: number;

  /** @param start the initial instant (default: the current wall-clock time). */
  constructor(start: Date | number = Date.now()) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  /** @inheritdoc */
  now(): Date {
    return new Date(this.#ms);
  }

  /** Moves the clock forward by `ms` milliseconds (negative values move it back). */
  advance(ms: number): void {
    this.#ms += ms;
  }

  /** Sets the clock to an absolute instant. */
  set(instant: Date | number): void {
    this.#ms = typeof instant === 'number' ? instant : instant.getTime();
  }
}
