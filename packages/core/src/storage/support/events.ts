import { InvalidArgumentError } from '../../errors.js';
import type { FlowEventInput } from '../records.js';

/** Longest event type a store keeps. */
export const MAX_EVENT_TYPE_LENGTH = 128;

/** Throws when an event cannot be stored (blank or over-long type), before anything is written. */
export function checkEventInput(event: FlowEventInput): void {
  if (!event.type || event.type.length > MAX_EVENT_TYPE_LENGTH) {
    throw new InvalidArgumentError(
      'event.type',
      `must be 1 to ${MAX_EVENT_TYPE_LENGTH} characters, got ${event.type?.length ?? 0}`,
    );
  }
}
