import { Cron } from 'croner';
import { InvalidArgumentError } from '../../errors.js';

/** Time zone used when a cron trigger names none. */
export const DEFAULT_CRON_TIMEZONE = 'UTC';

/** A parsed, validated cron expression bound to a time zone. */
export interface CronSchedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** IANA time zone the fields are evaluated in. */
  readonly timezone: string;
  /** The first occurrence strictly after `after`, or `null` when the pattern never fires again. */
  next(after: Date): Date | null;
}

/**
 * Parses a 5-field (minute precision) or 6-field (leading seconds) cron expression with croner,
 * evaluated in `timezone` (an IANA name, default UTC).
 *
 * @param subject appended to the field name in error messages, e.g. `of trigger 'x' in flow 'y'`
 * @throws InvalidArgumentError naming the expression and carrying croner's own message
 * @example
 * parseCron('0 9 * * MON-FRI', 'Europe/Paris').next(new Date());
 */
export function parseCron(
  expression: string,
  timezone: string = DEFAULT_CRON_TIMEZONE,
  subject = '',
): CronSchedule {
  const field = (name: string) => (subject ? `${name} ${subject}` : name);
  const text = typeof expression === 'string' ? expression.trim() : '';
  if (text.length === 0)
    throw new InvalidArgumentError(field('cronExpression'), 'a cron expression is required');
  const zone = timezone.trim() || DEFAULT_CRON_TIMEZONE;
  let cron: Cron;
  try {
    // `paused` and no callback: croner only computes occurrences, it never starts a timer.
    cron = new Cron(text, { paused: true, timezone: zone });
  } catch (error) {
    throw new InvalidArgumentError(field('cronExpression'), `'${text}' is not valid: ${messageOf(error)}`);
  }
  try {
    // Croner checks the time zone lazily; probe once so a bad zone fails here, not on a tick.
    cron.nextRun(new Date(0));
  } catch (error) {
    throw new InvalidArgumentError(field('timezone'), `'${zone}' is not usable: ${messageOf(error)}`);
  }
  return {
    expression: text,
    timezone: zone,
    next: (after) => cron.nextRun(after) ?? null,
  };
}

/**
 * Checks a cron expression (and optional time zone) without keeping the result; use it where an
 * expression is saved (API, dashboard) so a bad one is refused with croner's message.
 *
 * @throws InvalidArgumentError when either is invalid
 */
export function validateCronExpression(expression: string, timezone?: string): void {
  parseCron(expression, timezone);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Look-back windows for latestOccurrence, growing ×~60 so a walk stays short for any cadence.
const LOOK_BACK_MS = [1_000, 60_000, 3_600_000, 86_400_000, 31 * 86_400_000, 366 * 86_400_000];

/**
 * The latest occurrence of `schedule` at or before `now`, given that `due` (≤ now) is one.
 * A scheduler that woke late fires this instant and skips the older missed ones, so a late
 * replica still names the same tick as a punctual one.
 */
export function latestOccurrence(schedule: CronSchedule, due: Date, now: Date): Date {
  const limit = now.getTime();
  for (const window of LOOK_BACK_MS) {
    const from = Math.max(due.getTime(), limit - window);
    let candidate = schedule.next(new Date(from - 1));
    if (!candidate || candidate.getTime() > limit) continue;
    for (;;) {
      const following = schedule.next(candidate);
      if (!following || following.getTime() > limit) return candidate;
      candidate = following;
    }
  }
  return due;
}
