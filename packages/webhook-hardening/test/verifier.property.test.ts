import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_SCHEMES, type SignatureSpec, signWebhook } from '../src/index.js';
import { verify } from './helpers.js';

// Header-carried dialects whose signature covers the body bytes directly (Linear's body must be
// JSON with a timestamp; it is covered by the delivery properties in mutations.property.test.ts).
const dialects = Object.entries(BUILT_IN_SCHEMES).filter(
  ([name]) => name !== 'Mailgun' && name !== 'Twilio' && name !== 'MicrosoftTeams' && name !== 'Linear',
);
const URL_ = 'https://hooks.example.test/x';

const dialect = fc.constantFrom(...dialects);
const key = fc.string({ minLength: 1, maxLength: 40 });
const body = fc.uint8Array({ minLength: 0, maxLength: 256 });
const timestamp = fc.integer({ min: 1_000_000_000, max: 2_000_000_000 });

const signed = (spec: SignatureSpec, k: string, b: Uint8Array, ts: number) =>
  signWebhook(spec, k, { body: b, timestamp: ts, url: URL_ });

/** Verifies with the clock at the signing time, so only the signature decides. */
const check = (spec: SignatureSpec, k: string, b: Uint8Array, headers: Record<string, string>, ts?: number) =>
  verify(spec, k, b, headers, {
    absoluteUrl: URL_,
    allowLegacySha1: true,
    ...(ts === undefined ? {} : { nowMs: ts * 1000 }),
  });

/** A different character, also different ignoring case (hex is case-insensitive by design). */
function otherChar(c: string, pick: number): string {
  const alphabet = '0123456789abcdefABCDEF+/=-_xyz';
  const options = [...alphabet].filter((x) => x.toLowerCase() !== c.toLowerCase());
  return options[pick % options.length]!;
}

describe('signature verifier properties', () => {
  it('accepts what the publisher signed', () => {
    fc.assert(
      fc.property(dialect, key, body, timestamp, ([, spec], k, b, ts) => {
        expect(check(spec, k, b, signed(spec, k, b, ts), ts).valid).toBe(true);
      }),
    );
  });

  it('never accepts a body with any byte changed, added or removed', () => {
    fc.assert(
      fc.property(
        dialect,
        key,
        body,
        timestamp,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (d, k, b, ts, at, delta) => {
          const [, spec] = d;
          const headers = signed(spec, k, b, ts);
          const mutated = new Uint8Array(b);
          if (b.length > 0) mutated[at % b.length] = (mutated[at % b.length]! + delta) % 256;
          const variants = [
            b.length > 0 ? mutated : Uint8Array.of(delta),
            Uint8Array.of(...b, delta),
            b.subarray(1),
          ];
          for (const v of variants) {
            if (Buffer.compare(Buffer.from(v), Buffer.from(b)) === 0) continue;
            expect(check(spec, k, v, headers).valid).toBe(false);
          }
        },
      ),
    );
  });

  it('never accepts a signature with any character changed', () => {
    fc.assert(
      fc.property(dialect, key, body, timestamp, fc.nat(), fc.nat(), ([, spec], k, b, ts, at, pick) => {
        const headers = signed(spec, k, b, ts);
        const name = spec.headerName;
        const value = headers[name]!;
        const i = at % value.length;
        const mutated = value.slice(0, i) + otherChar(value[i]!, pick) + value.slice(i + 1);
        expect(check(spec, k, b, { ...headers, [name]: mutated }).valid).toBe(false);
      }),
    );
  });

  it('never accepts a signature made with another key', () => {
    fc.assert(
      fc.property(dialect, key, key, body, timestamp, ([, spec], k, other, b, ts) => {
        fc.pre(k !== other);
        expect(check(spec, k, b, signed(spec, other, b, ts)).valid).toBe(false);
      }),
    );
  });

  it('never accepts an arbitrary header value (forgery without the key)', () => {
    fc.assert(
      fc.property(dialect, key, body, fc.string({ maxLength: 120 }), ([, spec], k, b, forged) => {
        const headers: Record<string, string> = { [spec.headerName]: forged };
        if (spec.timestampHeaderName) headers[spec.timestampHeaderName] = '1700000000';
        expect(check(spec, k, b, headers).valid).toBe(false);
      }),
    );
  });
});
