import type { z } from 'zod';
import { WebhookConfigError } from '../errors.js';

/** Turns zod issues into one readable line each: `path.to.field: problem`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

/** Parses `value` with `schema` or throws a {@link WebhookConfigError} naming every problem. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new WebhookConfigError(where, describeIssues(result.error));
  return result.data;
}
