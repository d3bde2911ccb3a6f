/** A JSON value as delivered to a flow. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A decoded delivery body. */
export interface DecodedPayload {
  /** What the flow receives as trigger data: parsed JSON, an object of form fields, or `null`. */
  readonly data: JsonValue;
  /** Form fields in arrival order, for dialects that sign them (Twilio); `null` for JSON bodies. */
  readonly formFields: ReadonlyArray<readonly [string, string]> | null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isFormEncoded(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** Form fields as trigger data: one value stays a string, a repeated field becomes an array. */
function formToData(fields: ReadonlyArray<readonly [string, string]>): JsonValue {
  const data: Record<string, JsonValue> = {};
  for (const [key, value] of fields) {
    const existing = data[key];
    if (existing === undefined) data[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else data[key] = [existing, value];
  }
  return data;
}

/**
 * Decodes a body: empty → `null`; `application/x-www-form-urlencoded` → form fields (Slack slash
 * commands and Twilio post forms, which the reference wrongly refused as invalid JSON); anything
 * else must be strict UTF-8 JSON. Returns `null` when the body is invalid.
 */
export function decodePayload(bytes: Uint8Array, contentType: string | null): DecodedPayload | null {
  if (bytes.byteLength === 0) return { data: null, formFields: null };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return null;
  }
  if (isFormEncoded(contentType)) {
    const fields = [...new URLSearchParams(text)].map(([k, v]) => [k, v] as const);
    return { data: formToData(fields), formFields: fields };
  }
  try {
    return { data: JSON.parse(text) as JsonValue, formFields: null };
  } catch {
    return null;
  }
}
