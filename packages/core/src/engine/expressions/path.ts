/**
 * The path syntax shared by `@triggerBody()` and `@steps('k').output`: `a.b[0].c`.
 * `[` acts as a separator and `]` is dropped, so `items[0]` and `items.0` are the same path.
 * Property names are case-sensitive; array segments must be in-bounds non-negative integers.
 * @module
 */

/**
 * Splits a path trail into segments. Segments are trimmed and empty ones dropped, so a blank
 * trail yields `[]` (the root). Only a leading `?.` is meaningful; an inner `?.` stays part of
 * the segment (`a?.b` → `a?`, `b`), as in the reference.
 */
export function splitPath(trail: string): string[] {
  return trail
    .replaceAll('[', '.')
    .replaceAll(']', '')
    .split('.')
    .map((segment) => segment.trim())
    .filter((segment) => segment.length > 0);
}

/** Strips one leading `?.` or `.` from a trail (both mean the same: null-safe navigation). */
export function stripLeadingDot(trail: string): string {
  if (trail.startsWith('?.')) return trail.slice(2);
  if (trail.startsWith('.')) return trail.slice(1);
  return trail;
}

const ARRAY_INDEX = /^\d+$/;

/** True for plain data objects (object literals, `JSON.parse` output, null-prototype maps). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Walks `segments` from `root`. Any miss — a missing property, an out-of-range or non-numeric
 * array index, or stepping into a primitive — yields `null`; this never throws.
 */
export function resolvePath(root: unknown, segments: readonly string[]): unknown {
  let current: unknown = root;
  for (const segment of segments) {
    if (current === null || current === undefined) return null;
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(segment)) return null;
      const index = Number(segment);
      if (index >= current.length) return null;
      current = current[index];
    } else if (typeof current === 'object') {
      // Own properties only: `constructor` or `__proto__` must not leak out of the prototype.
      if (!Object.hasOwn(current, segment)) return null;
      current = (current as Record<string, unknown>)[segment];
    } else {
      return null;
    }
  }
  return current === undefined ? null : current;
}

/**
 * Deep-copies arrays and plain objects (other values are returned as they are), so resolved
 * inputs never alias trigger data or cached step outputs that another input also references.
 * `undefined` becomes `null`, matching what a JSON round trip would give.
 */
export function cloneData(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(cloneData);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) setOwn(copy, key, cloneData(item));
    return copy;
  }
  return value;
}

/**
 * Sets an own enumerable property. Plain assignment of a `__proto__` key (which `JSON.parse`
 * can produce) would replace the prototype instead of creating a property.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
