import { FlowOrchError } from '../../errors.js';
import type {
  FlowDefinition,
  FlowManifest,
  JsonValue,
  ManifestStep,
  RetryPolicy,
  StepDefinition,
  TriggerDefinition,
} from '../../model/types.js';
import { STEP_STATUSES, type StepStatus } from '../../storage/statuses.js';
import { runAfterEntries } from './run-after.js';
import { isForEachStep, loopChildren } from './step-paths.js';

/** Trigger types a manifest may name (matched case-insensitively when parsing). */
const TRIGGER_TYPES = ['Manual', 'Webhook', 'Cron'] as const;

/** The triggers of a flow that declares none: one manual trigger. */
const DEFAULT_TRIGGERS: Readonly<Record<string, TriggerDefinition>> = { manual: { type: 'Manual' } };

type ManifestRunAfter = ManifestStep['runAfter'];
type ManifestRetry = NonNullable<ManifestStep['retry']>;
type JsonObject = Record<string, JsonValue>;

function invalid(message: string): FlowOrchError {
  return new FlowOrchError('INVALID_MANIFEST', message);
}

// JSON.stringify semantics (toJSON, dropped undefined/functions) give exactly what a JSON round trip keeps.
function toJson(value: unknown, what: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw invalid(`${what} cannot be serialised to JSON (${(error as Error).message}).`);
  }
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

function toJsonObject(value: unknown, what: string): JsonObject {
  const json = toJson(value ?? {}, what);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalid(`${what} must be a JSON object.`);
  }
  return json;
}

function retryToManifest(retry: RetryPolicy): ManifestRetry {
  // Copy the serialisable fields one by one: the `retryOn` predicate (and anything unknown) is dropped.
  return {
    maxAttempts: retry.maxAttempts,
    ...(retry.backoff !== undefined && { backoff: retry.backoff }),
    ...(retry.delayMs !== undefined && { delayMs: retry.delayMs }),
    ...(retry.maxDelayMs !== undefined && { maxDelayMs: retry.maxDelayMs }),
    ...(retry.jitter !== undefined && { jitter: retry.jitter }),
  };
}

function stepToManifest(step: StepDefinition, path: string): ManifestStep {
  const runAfter: ManifestRunAfter = {};
  for (const [dependency, condition] of runAfterEntries(step)) {
    runAfter[dependency] = {
      ...(condition.statuses.length > 0 && { statuses: [...condition.statuses] }),
      ...(condition.when !== null && { when: condition.when }),
    };
  }
  const base = {
    type: typeof step.type === 'string' ? step.type : '',
    runAfter,
    inputs: toJsonObject(step.inputs, `Inputs of step '${path}'`),
    ...(step.retry && { retry: retryToManifest(step.retry) }),
  };
  if (!isForEachStep(step)) return base;
  const steps: Record<string, ManifestStep> = {};
  for (const [key, child] of Object.entries(loopChildren(step))) {
    steps[key] = stepToManifest(child, `${path}.${key}`);
  }
  return {
    ...base,
    forEach: toJson(step.forEach ?? null, `forEach of step '${path}'`),
    concurrencyLimit: step.concurrencyLimit ?? 1,
    steps,
  };
}

/**
 * The JSON-serialisable manifest of a flow (stored as `manifestJson`): runAfter always in object
 * form (`statuses` omitted when empty, `when` omitted when blank), retry policies without their
 * predicate, ForEach steps with `forEach`, `concurrencyLimit` (default 1) and `steps`, and a
 * single `manual` trigger when the flow declares none. Values JSON cannot hold are dropped the
 * way `JSON.stringify` drops them; BigInts and cycles throw.
 */
export function toManifest(flow: FlowDefinition): FlowManifest {
  const triggers: FlowManifest['triggers'] = {};
  for (const [key, trigger] of Object.entries(flow.triggers ?? DEFAULT_TRIGGERS)) {
    triggers[key] = {
      type: trigger.type,
      inputs: toJsonObject(trigger.inputs, `Inputs of trigger '${key}'`),
    };
  }
  const steps: Record<string, ManifestStep> = {};
  for (const [key, step] of Object.entries(flow.steps)) steps[key] = stepToManifest(step, key);
  return { triggers, steps };
}

// ---------------------------------------------------------------------------------------------
// Parsing (the reader is lenient the way the reference's is: property names case-insensitive,
// legacy array runAfter, statuses by name or number).

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a property by name, exact spelling first, then case-insensitively. */
function prop(source: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(source, name)) return source[name];
  const lower = name.toLowerCase();
  const match = Object.keys(source).find((key) => key.toLowerCase() === lower);
  return match === undefined ? undefined : source[match];
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
}

/** Parses a status written by name (any case) or by its number (`Pending=0` … `Skipped=4`). */
export function parseManifestStatus(raw: unknown): StepStatus {
  if (typeof raw === 'string') {
    const lower = raw.trim().toLowerCase();
    const found = STEP_STATUSES.find((status) => status.toLowerCase() === lower);
    if (found) return found;
  } else if (typeof raw === 'number' && Number.isInteger(raw)) {
    const found = STEP_STATUSES[raw];
    if (found) return found;
  }
  throw invalid(`Cannot deserialise '${describe(raw)}' as StepStatus.`);
}

function parseStatuses(raw: unknown, where: string): StepStatus[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw invalid(`${where}: statuses must be an array.`);
  return raw.map(parseManifestStatus);
}

function parseRunAfter(raw: unknown, path: string): ManifestRunAfter {
  if (raw === null || raw === undefined) return {};
  if (!isObject(raw)) throw invalid(`runAfter of step '${path}' must be a JSON object.`);
  const runAfter: ManifestRunAfter = {};
  for (const [dependency, condition] of Object.entries(raw)) {
    if (condition === null || condition === undefined) continue;
    const where = `runAfter '${dependency}' of step '${path}'`;
    let statuses: StepStatus[];
    let when: unknown;
    if (Array.isArray(condition)) {
      statuses = parseStatuses(condition, where);
    } else if (isObject(condition)) {
      statuses = parseStatuses(prop(condition, 'statuses'), where);
      when = prop(condition, 'when');
      if (when !== null && when !== undefined && typeof when !== 'string') {
        throw invalid(`${where}: when must be a string.`);
      }
    } else {
      throw invalid(`${where} must be an array of statuses or a {statuses, when} object.`);
    }
    runAfter[dependency] = {
      ...(statuses.length > 0 && { statuses }),
      ...(typeof when === 'string' && when.trim().length > 0 && { when }),
    };
  }
  return runAfter;
}

function parseRetry(raw: unknown, path: string): ManifestRetry | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (!isObject(raw)) throw invalid(`retry of step '${path}' must be a JSON object.`);
  const number = (name: string): number | undefined => {
    const value = prop(raw, name);
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'number') throw invalid(`retry.${name} of step '${path}' must be a number.`);
    return value;
  };
  const maxAttempts = number('maxAttempts');
  if (maxAttempts === undefined) throw invalid(`retry.maxAttempts of step '${path}' is missing.`);
  const backoff = prop(raw, 'backoff');
  if (backoff !== null && backoff !== undefined && backoff !== 'fixed' && backoff !== 'exponential') {
    throw invalid(`retry.backoff of step '${path}' must be 'fixed' or 'exponential'.`);
  }
  const delayMs = number('delayMs');
  const maxDelayMs = number('maxDelayMs');
  const jitter = number('jitter');
  return {
    maxAttempts,
    ...(typeof backoff === 'string' && { backoff }),
    ...(delayMs !== undefined && { delayMs }),
    ...(maxDelayMs !== undefined && { maxDelayMs }),
    ...(jitter !== undefined && { jitter }),
  };
}

function parseInputs(raw: unknown, what: string): JsonObject {
  if (raw === null || raw === undefined) return {};
  if (!isObject(raw)) throw invalid(`${what} must be a JSON object.`);
  return toJsonObject(raw, what);
}

/** Parses a map of steps; `parent` is the enclosing ForEach path (`''` at the top level). */
function parseSteps(raw: unknown, parent: string): Record<string, ManifestStep> {
  if (raw === null || raw === undefined) return {};
  const where = parent === '' ? 'steps' : `steps of ForEach step '${parent}'`;
  if (!isObject(raw)) throw invalid(`${where} must be a JSON object.`);
  const steps: Record<string, ManifestStep> = {};
  for (const [key, step] of Object.entries(raw)) {
    steps[key] = parseStep(step, parent === '' ? key : `${parent}.${key}`);
  }
  return steps;
}

function parseStep(raw: unknown, path: string): ManifestStep {
  if (!isObject(raw)) throw invalid(`Step '${path}' must be a JSON object.`);
  const type = prop(raw, 'type');
  const base = {
    type: typeof type === 'string' ? type : '',
    runAfter: parseRunAfter(prop(raw, 'runAfter'), path),
    inputs: parseInputs(prop(raw, 'inputs'), `Inputs of step '${path}'`),
  };
  const retry = parseRetry(prop(raw, 'retry'), path);
  const step: ManifestStep = retry ? { ...base, retry } : base;
  // Polymorphic by type, like the reference: only a ForEach step carries loop fields.
  if (base.type.toLowerCase() !== 'foreach') return step;
  const limit = prop(raw, 'concurrencyLimit');
  if (limit !== null && limit !== undefined && typeof limit !== 'number') {
    throw invalid(`concurrencyLimit of step '${path}' must be a number.`);
  }
  const steps = parseSteps(prop(raw, 'steps'), path);
  return {
    ...step,
    forEach: toJson(prop(raw, 'forEach') ?? null, `forEach of step '${path}'`),
    concurrencyLimit: typeof limit === 'number' ? limit : 1,
    steps,
  };
}

function parseTriggerType(raw: unknown, key: string): (typeof TRIGGER_TYPES)[number] {
  if (raw === null || raw === undefined) return 'Manual';
  const lower = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  const found = TRIGGER_TYPES.find((type) => type.toLowerCase() === lower);
  if (!found) throw invalid(`Cannot deserialise '${describe(raw)}' as TriggerType (trigger '${key}').`);
  return found;
}

/**
 * Reads a manifest (JSON text or an already parsed value) into its canonical form, the one
 * {@link toManifest} writes. Property names match case-insensitively; runAfter accepts the legacy
 * array form and `{statuses, when}`; statuses are names (any case) or numbers; `null` conditions
 * are dropped; a ForEach step (type compared case-insensitively) keeps `forEach`,
 * `concurrencyLimit` (default 1) and `steps`; missing triggers/steps read as empty, a missing
 * trigger type as `Manual`. Malformed input throws a `FlowOrchError` with code `INVALID_MANIFEST`
 * (an unknown status: `Cannot deserialise '<raw>' as StepStatus.`).
 */
export function parseManifest(input: unknown): FlowManifest {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input) as unknown;
    } catch (error) {
      throw invalid(`Manifest is not valid JSON (${(error as Error).message}).`);
    }
  }
  if (!isObject(raw)) throw invalid('Manifest must be a JSON object.');
  const triggers: FlowManifest['triggers'] = {};
  const rawTriggers = prop(raw, 'triggers');
  if (rawTriggers !== null && rawTriggers !== undefined) {
    if (!isObject(rawTriggers)) throw invalid('triggers must be a JSON object.');
    for (const [key, trigger] of Object.entries(rawTriggers)) {
      if (!isObject(trigger)) throw invalid(`Trigger '${key}' must be a JSON object.`);
      triggers[key] = {
        type: parseTriggerType(prop(trigger, 'type'), key),
        inputs: parseInputs(prop(trigger, 'inputs'), `Inputs of trigger '${key}'`),
      };
    }
  }
  return { triggers, steps: parseSteps(prop(raw, 'steps'), '') };
}

/** Identity fields a manifest does not carry. */
export interface FlowIdentity {
  /** Flow id (UUID). */
  readonly id: string;
  /** Display name. */
  readonly name: string;
  /** Display/audit label. */
  readonly version?: string;
}

/**
 * A flow definition built from a (parsed) manifest, e.g. to plan or validate a stored flow.
 * Manifest steps already have definition shape; the manifest is deep-copied so the result does
 * not alias it. Trigger types are the canonical names {@link parseManifest} produces.
 */
export function flowFromManifest(manifest: FlowManifest, identity: FlowIdentity): FlowDefinition {
  const copy = structuredClone(manifest);
  return {
    id: identity.id,
    name: identity.name,
    ...(identity.version !== undefined && { version: identity.version }),
    triggers: copy.triggers as Record<string, TriggerDefinition>,
    steps: copy.steps as Record<string, StepDefinition>,
  };
}
