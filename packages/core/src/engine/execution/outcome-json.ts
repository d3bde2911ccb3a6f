/**
 * The one rule for what a handler may hand the engine as JSON: a value is storable when
 * `JSON.stringify` would keep all of it. `undefined` follows JSON (stored as `null` at the top and
 * in arrays, omitted as a property); `toJSON` is honoured (so a `Date` is a string). Functions,
 * Symbols, BigInts and cycles are refused anywhere in the value — JSON would silently drop the
 * first two, and throw on the others.
 */

/** Longest reason text built from a thrown value; the rest is cut with an ellipsis. */
export const MAX_THROWN_JSON_CHARS = 2_000;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.a`, `$.a[2]`, `$["odd key"]`: a path readers can paste into a debugger. */
function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Applies `toJSON` the way `JSON.stringify` does (with the property key). */
function jsonView(value: unknown, key: string): unknown {
  if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (k: string) => unknown).call(value, key);
  }
  return value;
}

/**
 * What keeps `value` from being stored as JSON, e.g. `"a function at $.callback"`, or `null`
 * when it can be stored. Pure; never throws on ordinary values (a throwing `toJSON` or getter is
 * reported as the problem).
 */
export function findJsonProblem(value: unknown): string | null {
  // Only the objects on the current path: a shared (non-circular) reference is fine in JSON.
  const ancestors: object[] = [];
  const visit = (raw: unknown, key: string, path: string): string | null => {
    let current: unknown;
    try {
      current = jsonView(raw, key);
    } catch (error) {
      return `toJSON threw at ${path} (${error instanceof Error ? error.message : String(error)})`;
    }
    switch (typeof current) {
      case 'function':
        return `a function at ${path}`;
      case 'symbol':
        return `a Symbol at ${path}`;
      case 'bigint':
        return `a BigInt at ${path}`;
      case 'object':
        break;
      default:
        return null; // string, number, boolean, undefined
    }
    if (current === null) return null;
    const at = ancestors.indexOf(current);
    if (at >= 0) return `a circular reference at ${path}`;
    ancestors.push(current);
    try {
      if (Array.isArray(current)) {
        for (let i = 0; i < current.length; i++) {
          const problem = visit(current[i], String(i), childPath(path, i));
          if (problem) return problem;
        }
        return null;
      }
      for (const name of Object.keys(current)) {
        const problem = visit((current as Record<string, unknown>)[name], name, childPath(path, name));
        if (problem) return problem;
      }
      return null;
    } catch (error) {
      return `an unreadable property under ${path} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      ancestors.pop();
    }
  };
  return visit(value, '', '$');
}

/** The reason recorded for a step whose output cannot be stored as JSON. */
export function unstorableOutputReason(stepKey: string, problem: string): string {
  return `Step '${stepKey}' returned an output that cannot be stored as JSON: ${problem}.`;
}

function clip(text: string): string {
  return text.length > MAX_THROWN_JSON_CHARS ? `${text.slice(0, MAX_THROWN_JSON_CHARS)}…` : text;
}

/** `name`, `code`, `message` first (when present), then the other own properties. */
function orderedFields(value: object): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of ['name', 'code', 'message']) {
    if (name in source && source[name] !== undefined) out[name] = source[name];
  }
  for (const name of Object.keys(source)) if (!(name in out)) out[name] = source[name];
  return out;
}

/**
 * The failure reason for something a handler threw. An `Error` gives its message (as before);
 * a string is used as is; anything else is shown in its JSON form — `name`, `code` and `message`
 * first where present — so `throw { code: 'E1', message: 'boom' }` records
 * `Step handler threw a non-Error value: {"code":"E1","message":"boom"}` instead of
 * `[object Object]`. Never throws.
 */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || `Step handler threw ${thrown.name || 'an error'}.`;
  if (typeof thrown === 'string') return thrown || 'Step handler threw an empty string.';
  return `Step handler threw a non-Error value: ${clip(thrownJson(thrown))}`;
}

function thrownJson(thrown: unknown): string {
  switch (typeof thrown) {
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${thrown}n`;
    case 'symbol':
      return thrown.toString();
    case 'function':
      return `a function${thrown.name ? ` (${thrown.name})` : ''}`;
    case 'object':
      break;
    default:
      return JSON.stringify(thrown); // number, boolean
  }
  if (thrown === null) return 'null';
  try {
    const whole = orderedFields(thrown);
    if (findJsonProblem(whole) === null) return JSON.stringify(whole);
    // Not JSON as a whole (a cycle, a function…): keep the identifying fields that are.
    const picked: Record<string, unknown> = {};
    for (const name of ['name', 'code', 'message']) {
      if (name in whole && findJsonProblem(whole[name]) === null) picked[name] = whole[name];
    }
    return Object.keys(picked).length > 0
      ? JSON.stringify(picked)
      : `an object that cannot be shown as JSON (${Object.prototype.toString.call(thrown)})`;
  } catch {
    return 'an unreadable object';
  }
}
