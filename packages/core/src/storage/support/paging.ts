/** Page bounds after clamping. */
export interface ClampedPage {
  /** Rows to skip, ≥ 0. */
  readonly skip: number;
  /** Rows to take, within the limits given. */
  readonly take: number;
}

function toInt(value: number | undefined, fallback: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.trunc(value);
}

/**
 * Run-list paging: `skip < 0 ⇒ 0`; `take` defaults to 50 and is clamped into `[0, 500]`
 * (`take = 0` means an empty page that still reports the total).
 */
export function clampRunPage(skip?: number, take?: number): ClampedPage {
  return {
    skip: Math.max(0, toInt(skip, 0)),
    take: Math.min(500, Math.max(0, toInt(take, 50))),
  };
}

/** Webhook-log paging: `skip < 0 ⇒ 0`, `take ≤ 0 ⇒ 50`, `take > 500 ⇒ 500`. */
export function clampWebhookPage(skip?: number, take?: number): ClampedPage {
  const t = toInt(take, 50);
  return {
    skip: Math.max(0, toInt(skip, 0)),
    take: t <= 0 ? 50 : Math.min(500, t),
  };
}

/** Event paging: `skip < 0 ⇒ 0`, `take` defaults to 200, `< 1 ⇒ 1`, capped at 1 000. */
export function clampEventPage(skip?: number, take?: number): ClampedPage {
  return {
    skip: Math.max(0, toInt(skip, 0)),
    take: Math.min(1000, Math.max(1, toInt(take, 200))),
  };
}

/** Event-log cursor query: `after` ≥ 0 (default 0), `take` defaults to 200, `< 1 ⇒ 1`, capped at 1 000. */
export function clampEventLogQuery(query: { after?: number; take?: number } = {}): {
  after: number;
  take: number;
} {
  return {
    after: Math.max(0, toInt(query.after, 0)),
    take: Math.min(1000, Math.max(1, toInt(query.take, 200))),
  };
}

/** Clamps a batch or page limit into `[min, max]`, defaulting non-finite values to `fallback`. */
export function clampLimit(value: number | undefined, min: number, max: number, fallback: number): number {
  return Math.min(max, Math.max(min, toInt(value, fallback)));
}
