/**
 * Recognises the three value expressions in a string. Expressions are whole-value only: after
 * trimming, the entire string must be the expression; anything that does not match a form
 * exactly (`@triggerBody()[0]`, `@steps(x).output`, `"Order @triggerBody().id"`) is a literal.
 * @module
 */
import { splitPath, stripLeadingDot } from './path.js';

/** `@triggerBody()` (bare: the whole body) or `@triggerBody().a.b` / `@triggerBody()?.a.b`. */
export interface TriggerBodyExpression {
  readonly kind: 'triggerBody';
  /** The trimmed expression text. */
  readonly text: string;
  /** True for the bare form, which yields the whole trigger data. */
  readonly bare: boolean;
  /** Path segments after the leading `.`/`?.`; empty (not bare) means a blank path, which yields null. */
  readonly path: readonly string[];
}

/** `@triggerHeaders()` (bare: the whole header map) or `@triggerHeaders()['Name']` / `["Name"]`. */
export interface TriggerHeadersExpression {
  readonly kind: 'triggerHeaders';
  /** The trimmed expression text. */
  readonly text: string;
  /** Header name, or null for the bare form. */
  readonly name: string | null;
}

/** Which part of a step a `@steps('key').<field>` expression reads. */
export type StepField = 'output' | 'status' | 'error';

/** `@steps('key').output<trail>`, `.status` or `.error`. */
export interface StepExpression {
  readonly kind: 'step';
  /** The trimmed expression text. */
  readonly text: string;
  /** Step key as written between the quotes (case-sensitive). */
  readonly key: string;
  /** Field being read (the field name itself matches case-insensitively). */
  readonly field: StepField;
  /** Output path segments; empty means the whole output. Ignored for `status` and `error`. */
  readonly path: readonly string[];
}

/** Any recognised value expression. */
export type ValueExpression = TriggerBodyExpression | TriggerHeadersExpression | StepExpression;

const BODY_PREFIX = '@triggerbody()';
const HEADERS_PREFIX = '@triggerheaders()';
const STEPS_PREFIX = '@steps(';

// Quote styles must match (`'a'` or `"a"`); the key may not contain either quote.
const STEP_PATTERN = /^@steps\((['"])([^'"]+)\1\)\.(output|status|error)([\s\S]*)$/i;
// Exactly `['Name']` or `["Name"]` as the whole remainder; `[']` is too short to match.
const HEADER_PATTERN = /^\[(['"])([\s\S]*)\1\]$/;

function startsWithIgnoreCase(text: string, prefix: string): boolean {
  return text.length >= prefix.length && text.slice(0, prefix.length).toLowerCase() === prefix;
}

/**
 * Cheap check: could this string be a value expression? True when, after leading whitespace, it
 * starts with `@steps(`, `@triggerBody()` or `@triggerHeaders()` (any casing). A true answer
 * does not promise the string parses; a false one guarantees it is a literal.
 */
export function isExpressionCandidate(value: string): boolean {
  const text = value.trimStart();
  if (!text.startsWith('@')) return false;
  return (
    startsWithIgnoreCase(text, STEPS_PREFIX) ||
    startsWithIgnoreCase(text, BODY_PREFIX) ||
    startsWithIgnoreCase(text, HEADERS_PREFIX)
  );
}

/** True when the string (after leading whitespace) starts with `@steps(`, any casing. */
export function isStepExpressionCandidate(value: string): boolean {
  return startsWithIgnoreCase(value.trimStart(), STEPS_PREFIX);
}

function parseUncached(text: string): ValueExpression | null {
  if (startsWithIgnoreCase(text, STEPS_PREFIX)) {
    const match = STEP_PATTERN.exec(text);
    if (!match) return null;
    const field = match[3]!.toLowerCase() as StepField;
    const path = field === 'output' ? splitPath(stripLeadingDot(match[4]!)) : [];
    return { kind: 'step', text, key: match[2]!, field, path };
  }
  if (startsWithIgnoreCase(text, BODY_PREFIX)) {
    const rest = text.slice(BODY_PREFIX.length);
    if (rest.length === 0) return { kind: 'triggerBody', text, bare: true, path: [] };
    if (!rest.startsWith('.') && !rest.startsWith('?.')) return null;
    return { kind: 'triggerBody', text, bare: false, path: splitPath(stripLeadingDot(rest)) };
  }
  if (startsWithIgnoreCase(text, HEADERS_PREFIX)) {
    const rest = text.slice(HEADERS_PREFIX.length);
    if (rest.length === 0) return { kind: 'triggerHeaders', text, name: null };
    const match = HEADER_PATTERN.exec(rest);
    if (!match) return null;
    return { kind: 'triggerHeaders', text, name: match[2]! };
  }
  return null;
}

// Process-wide parse cache keyed by trimmed text. Flows reuse a small set of expressions, so a
// bounded insertion-ordered map (oldest evicted first) is plenty.
const CACHE_LIMIT = 2048;
const cache = new Map<string, ValueExpression | null>();

/**
 * Parses a value expression, or returns null when the string is a literal. Leading and trailing
 * whitespace is ignored; results are cached by the trimmed text.
 */
export function parseValueExpression(value: string): ValueExpression | null {
  if (!isExpressionCandidate(value)) return null;
  const text = value.trim();
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(text);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(text, parsed);
  return parsed;
}
