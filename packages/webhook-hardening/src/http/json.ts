/** Default nesting limit for JSON bodies: far above any partner's payload, far below a stack risk. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting of `[`/`{` in `text`, counted outside string literals, stopping as soon as it
 * passes `limit`. One linear pass with no allocation, so a hostile 1 MB body of brackets costs
 * microseconds instead of the parser's recursion.
 */
export function exceedsJsonDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Outcome of {@link parseJsonBounded}. */
export type BoundedJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: 'too_deep' | 'syntax' };

/** `JSON.parse` behind a nesting limit; never throws. */
export function parseJsonBounded(text: string, maxDepth: number): BoundedJsonResult {
  if (exceedsJsonDepth(text, maxDepth)) return { ok: false, problem: 'too_deep' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: 'syntax' };
  }
}
