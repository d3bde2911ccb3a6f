/**
 * The key space of the outputs repository, shared by every backend and the engine: one key per
 * value per run. Step keys may not contain `:` nor start with `__`, so these never collide with a
 * step's own output key.
 */
export const OutputKeys = Object.freeze({
  /** The run's trigger payload. */
  triggerData: '__trigger:data',
  /** The run's trigger headers (lower-cased names). */
  triggerHeaders: '__trigger:headers',
  /** A step's resolved inputs. */
  stepInput: (stepKey: string): string => `${stepKey}:input`,
  /** A step's durable handler state (`StepContext.state`). */
  stepState: (stepKey: string): string => `${stepKey}:state`,
});
