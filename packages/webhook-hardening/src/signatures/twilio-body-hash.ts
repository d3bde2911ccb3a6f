import { createHash } from 'node:crypto';
import { constantTimeEqual } from './encoding.js';

/**
 * Twilio signs only the URL of a non-form request (JSON bodies); the body is bound to it by a
 * `bodySHA256` query parameter holding the hex SHA-256 of the body. Without this check, anyone who
 * saw one signed URL could post any body to it. Whenever the (signed) URL carries the parameter it
 * must match the raw body; without it, only a form body (whose fields are signed) or an empty body
 * passes.
 */
export function twilioBodyHashMatches(absoluteUrl: string, body: Uint8Array, isForm: boolean): boolean {
  let claimed: string | null;
  try {
    claimed = new URL(absoluteUrl).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  if (claimed === null) return isForm || body.byteLength === 0;
  if (!/^[0-9a-fA-F]{64}$/.test(claimed)) return false;
  const actual = createHash('sha256').update(body).digest();
  return constantTimeEqual(Buffer.from(claimed, 'hex'), actual);
}

/** The URL a Twilio-style publisher calls for a non-form body: `bodySHA256` appended. */
export function withTwilioBodyHash(url: string, body: Uint8Array | string): string {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const parsed = new URL(url);
  parsed.searchParams.set('bodySHA256', createHash('sha256').update(bytes).digest('hex'));
  return parsed.toString();
}
