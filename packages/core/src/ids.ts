/**
 * One id rule for every backend, applied in core before any store is called, so an id behaves
 * the same in memory, on PostgreSQL and on SQL Server, and no database error text ever reaches
 * a caller:
 *
 * - **Flow ids** are a UUID (any case; stored lower-case) or a human slug such as `hello-flow`
 *   (letters, digits, `-`, `_` and `.`, starting with a letter or digit, at most 128
 *   characters, case-insensitive). A slug is mapped to a stable UUID — a name-based UUID v5 of
 *   the lower-cased slug in {@link FLOW_SLUG_NAMESPACE} — so it always names the same stored flow.
 * - **Run ids** are UUIDs (any case; normalised to lower case).
 * - **Step keys** follow the model's rules (non-blank, no `:`, no `__` prefix, ≤ 256 characters).
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { isUuid } from './storage/support/text.js';

/** The namespace slugs are hashed in (UUID v5). Never change it: stored flows are keyed by it. */
export const FLOW_SLUG_NAMESPACE = '5d1c6f0e-3b0a-5f5e-9c1d-8f1a0c7e2b44';

const SLUG = /^[a-z0-9][a-z0-9._-]{0,127}$/i;
const MAX_STEP_KEY = 256;

/** True for a flow slug (see the module rule); a UUID is not a slug. */
export function isFlowSlug(value: unknown): value is string {
  return typeof value === 'string' && SLUG.test(value) && !isUuid(value);
}

/** The UUID v5 of `name` in `namespace` (RFC 9562 §5.5). */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Quotes a caller's value for an error message without echoing huge or multi-line input. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const text = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return `'${text.replace(/[\r\n]/g, ' ')}'`;
}

/**
 * The stored id of a flow: a UUID lower-cased, or a slug mapped to its UUID v5.
 * @throws InvalidArgumentError for anything else (names the rule)
 * @example
 * toFlowId('hello-flow') === toFlowId('Hello-Flow'); // same UUID, every time, every backend
 */
export function toFlowId(value: unknown, argument = 'flowId'): string {
  if (isUuid(value)) return value.toLowerCase();
  if (isFlowSlug(value)) return uuidV5(value.toLowerCase(), FLOW_SLUG_NAMESPACE);
  throw new InvalidArgumentError(
    argument,
    `${shown(value)} is neither a UUID nor a slug (letters, digits, '-', '_', '.'; starting with a letter or digit; at most 128 characters)`,
  );
}

/** {@link toFlowId}, or `undefined` instead of throwing. */
export function tryFlowId(value: unknown): string | undefined {
  if (isUuid(value)) return value.toLowerCase();
  if (isFlowSlug(value)) return uuidV5(value.toLowerCase(), FLOW_SLUG_NAMESPACE);
  return undefined;
}

/**
 * A run id, lower-cased.
 * @throws InvalidArgumentError unless it is a UUID
 */
export function toRunId(value: unknown, argument = 'runId'): string {
  if (isUuid(value)) return value.toLowerCase();
  throw new InvalidArgumentError(argument, `${shown(value)} is not a UUID (run ids are UUIDs)`);
}

/**
 * A runtime step key as given (keys are case-sensitive), checked like the model checks keys:
 * non-blank, no `:`, no `__` prefix, at most 256 characters. Dots are allowed (`loop.3.child`).
 * @throws InvalidArgumentError when malformed
 */
export function toStepKey(value: unknown, argument = 'stepKey'): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InvalidArgumentError(argument, 'a non-blank step key is required');
  }
  if (value.includes(':') || value.startsWith('__')) {
    throw new InvalidArgumentError(argument, `${shown(value)} uses a reserved ':' or '__' prefix`);
  }
  if (value.length > MAX_STEP_KEY) {
    throw new InvalidArgumentError(argument, `step keys are at most ${MAX_STEP_KEY} characters`);
  }
  return value;
}
