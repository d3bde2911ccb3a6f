import type { Context } from 'hono';
import { badRequest } from './errors.js';

/** A query parameter, trimmed; undefined when absent or blank. */
export function text(c: Context, name: string): string | undefined {
  const value = c.req.query(name);
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A non-negative integer query parameter (400 otherwise); `max` caps it. */
export function nonNegativeInt(c: Context, name: string, max?: number): number | undefined {
  const raw = text(c, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(`Query parameter '${name}' must be a non-negative integer.`);
  const value = Number(raw);
  return max === undefined ? value : Math.min(max, value);
}

/** A positive integer query parameter (400 otherwise). */
export function positiveInt(c: Context, name: string, max?: number): number | undefined {
  const value = nonNegativeInt(c, name, max);
  if (value === 0) throw badRequest(`Query parameter '${name}' must be at least 1.`);
  return value;
}

/** An ISO-8601 date query parameter (400 otherwise). */
export function date(c: Context, name: string): Date | undefined {
  const raw = text(c, name);
  if (raw === undefined) return undefined;
  const value = new Date(raw);
  if (Number.isNaN(value.getTime())) throw badRequest(`Query parameter '${name}' must be an ISO-8601 date.`);
  return value;
}

/** A boolean query parameter: `true`/`false`/`1`/`0` (400 otherwise). */
export function bool(c: Context, name: string): boolean | undefined {
  const raw = text(c, name)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw badRequest(`Query parameter '${name}' must be true or false.`);
}

/** One of `allowed` (case-insensitive, answered in the allowed spelling), else 400. */
export function oneOf<T extends string>(c: Context, name: string, allowed: readonly T[]): T | undefined {
  const raw = text(c, name);
  if (raw === undefined) return undefined;
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (!found) throw badRequest(`Query parameter '${name}' must be one of ${allowed.join(', ')}.`);
  return found;
}

/**
 * The request body as JSON: `undefined` for an empty body, 400 for malformed JSON. The size is
 * bounded by the body-limit middleware.
 */
export async function jsonBody(c: Context): Promise<unknown> {
  const raw = await c.req.text();
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON.', 'BAD_JSON');
  }
}

/** The body as a JSON object (`{}` when empty); 400 for anything else. */
export async function objectBody(c: Context): Promise<Record<string, unknown>> {
  const body = await jsonBody(c);
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** An optional string field of a body object (400 when present and not a string). */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`Field '${name}' must be a string.`);
  return value;
}
