import { InvalidArgumentError } from '../../errors.js';

/**
 * Serialises a value for a JSON column. `undefined` is stored as `null`. Values JSON cannot
 * represent (BigInt, cycles) fail with an error naming `what`.
 */
export function toJsonText(value: unknown, what = 'value'): string {
  if (value === undefined) return 'null';
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  } catch (error) {
    throw new InvalidArgumentError(what, `cannot be stored as JSON (${(error as Error).message})`);
  }
}

/** Parses a JSON column; SQL `NULL` and JSON `null` both read as `null`. */
export function fromJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  return JSON.parse(text) as unknown;
}

/** Parses a stored header map; anything but a JSON object of strings reads as `null`. */
export function headersFromJsonText(text: string | null | undefined): Record<string, string> | null {
  const value = fromJsonText(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    out[name.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}
