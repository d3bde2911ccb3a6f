import { DEFAULT_MAX_JSON_DEPTH, parseJsonBounded } from './json.js';

/** A JSON value as delivered to a flow. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A decoded delivery body. */
export interface DecodedPayload {
  /**
   * What the flow receives as trigger data: parsed JSON, an object of form fields, the body as
   * text when it is neither (a plain-text ping), or `null` for an empty body.
   */
  readonly data: JsonValue;
  /** Form fields in arrival order, for dialects that sign them (Twilio); `null` for other bodies. */
  readonly formFields: ReadonlyArray<readonly [string, string]> | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The media type of a `Content-Type` header, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Whether the body is declared form-encoded. */
export function isFormEncoded(contentType: string | null): boolean {
  return mediaType(contentType) === 'application/x-www-form-urlencoded';
}

/** Whether the body is declared JSON (`application/json` or any `+json` type). */
function isDeclaredJson(contentType: string | null): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type.endsWith('+json');
}

/** The fields of a form-encoded body in arrival order; `null` if it is not strict UTF-8. */
export function parseFormFields(bytes: Uint8Array): Array<readonly [string, string]> | null {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return null;
  }
  return [...new URLSearchParams(text)].map(([k, v]) => [k, v] as const);
}

/**
 * Form fields as trigger data: one value stays a string, a repeated field becomes an array. The
 * object has no prototype, so fields named `__proto__` or `constructor` are plain data.
 */
export function formToData(fields: ReadonlyArray<readonly [string, string]>): JsonValue {
  const data: Record<string, JsonValue> = Object.create(null);
  for (const [key, value] of fields) {
    const existing = Object.hasOwn(data, key) ? data[key] : undefined;
    if (existing === undefined) data[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else data[key] = [existing, value];
  }
  return data;
}

/**
 * Decodes a body once its signature has been checked: empty → `null`; form-encoded → its fields;
 * declared JSON → parsed JSON, or invalid; anything else (no type, `text/plain`, GitHub's and
 * Atlassian's pings) → parsed JSON when it is JSON, else the text itself. The body must be strict
 * UTF-8 and nest no deeper than `maxJsonDepth`. Returns `null` when the body is invalid.
 */
export function decodePayload(
  bytes: Uint8Array,
  contentType: string | null,
  maxJsonDepth = DEFAULT_MAX_JSON_DEPTH,
): DecodedPayload | null {
  if (bytes.byteLength === 0) return { data: null, formFields: null };
  if (isFormEncoded(contentType)) {
    const fields = parseFormFields(bytes);
    return fields ? { data: formToData(fields), formFields: fields } : null;
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return null;
  }
  const parsed = parseJsonBounded(text, maxJsonDepth);
  if (parsed.ok) return { data: parsed.value as JsonValue, formFields: null };
  if (parsed.problem === 'too_deep' || isDeclaredJson(contentType)) return null;
  return { data: text, formFields: null };
}
