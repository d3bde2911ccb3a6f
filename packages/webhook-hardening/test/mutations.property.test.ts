/**
 * Property: no mutation of a validly signed delivery is accepted, except of a part the partner
 * leaves unsigned. The `UNSIGNED` table below is the executable form of the README's per-dialect
 * table ("What is signed"); a change there must change both.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_SCHEMES, signMailgun, signWebhook, type WebhookTriggerSecurity } from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID } from './helpers.js';

type Part = 'body' | 'signature' | 'url' | 'timestamp' | 'header';

/**
 * Parts of a delivery each dialect leaves unsigned (everything else is covered). `header` is any
 * header besides the signature and signed-timestamp headers, e.g. `X-GitHub-Event`: no dialect
 * signs those.
 */
const UNSIGNED: Readonly<Record<string, readonly Part[]>> = {
  GitHub: ['url', 'header'],
  GitHubLegacy: ['url', 'header'],
  Bitbucket: ['url', 'header'],
  Atlassian: ['url', 'header'],
  Generic: ['url', 'header'],
  Shopify: ['url', 'header'],
  Dropbox: ['url', 'header'],
  MicrosoftTeams: ['url', 'header'],
  Linear: ['url', 'header'],
  Stripe: ['url', 'header'],
  Calendly: ['url', 'header'],
  Slack: ['url', 'header'],
  Zoom: ['url', 'header'],
  Square: ['header'],
  Twilio: ['header'],
  TwilioJson: ['header'],
  // Mailgun signs only `timestamp + token`: the rest of the body is unsigned (its token is the nonce).
  Mailgun: ['url', 'body', 'header'],
};
/** Dialects with no timestamp at all: a "timestamp" mutation adds an unsigned header, which is ignored. */
const NO_TIMESTAMP = new Set([
  'GitHub',
  'GitHubLegacy',
  'Bitbucket',
  'Atlassian',
  'Generic',
  'Shopify',
  'Dropbox',
  'MicrosoftTeams',
  'Square',
  'Twilio',
  'TwilioJson',
]);

const URL_ = 'https://hooks.example.test/webhooks/orders?tenant=7';
const TEAMS_KEY = Buffer.from('teams-security-token-0123456789ab').toString('base64');
const keyOf = (name: string) => (name === 'MicrosoftTeams' ? TEAMS_KEY : `${name.toLowerCase()}-secret`);
const schemeOf = (name: string) => (name === 'TwilioJson' ? 'Twilio' : name);

interface Delivery {
  readonly url: string;
  /** Text as the publisher wrote it, or raw bytes after a byte-level mutation. */
  readonly body: string | Uint8Array;
  readonly headers: Record<string, string>;
}

interface Payload {
  readonly text: string;
  readonly n: number;
}

/** What a publisher of `name` sends for `payload`, signed at `ts` (Unix seconds). */
function deliver(name: string, payload: Payload, ts: number): Delivery {
  const key = keyOf(name);
  const spec = BUILT_IN_SCHEMES[schemeOf(name)]!;
  if (name === 'Mailgun') {
    const body = JSON.stringify({
      signature: signMailgun(key, String(ts), `tok-${payload.n}-${payload.text.length}`),
      'event-data': { text: payload.text, n: payload.n },
    });
    return { url: URL_, body, headers: { 'content-type': 'application/json' } };
  }
  if (name === 'Twilio') {
    const fields: [string, string][] = [
      ['Body', payload.text],
      ['NumMedia', String(payload.n)],
      ['To', '+15550000001'],
    ];
    const body = new URLSearchParams(fields).toString();
    const headers = signWebhook(spec, key, { body, url: URL_, formFields: fields });
    return { url: URL_, body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } };
  }
  const data = name === 'Linear' ? { ...payload, webhookTimestamp: ts * 1000 } : payload;
  const body = JSON.stringify(data);
  const url =
    name === 'TwilioJson' ? `${URL_}&bodySHA256=${createHash('sha256').update(body).digest('hex')}` : URL_;
  const headers = signWebhook(spec, key, { body, url, timestamp: ts });
  return { url, body, headers: { 'content-type': 'application/json', ...headers } };
}

/** The signature header's name (lower-case), or `null` for Mailgun. */
const signatureHeader = (name: string) =>
  name === 'Mailgun' ? null : BUILT_IN_SCHEMES[schemeOf(name)]!.headerName.toLowerCase();

/** A different character of the same alphabet (so the value still looks well-formed). */
function otherChar(c: string, pick: number): string {
  const alphabet = /[0-9a-f]/.test(c)
    ? '0123456789abcdef'
    : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const options = [...alphabet].filter((x) => x.toLowerCase() !== c.toLowerCase());
  return options[pick % options.length]!;
}

/** Applies one mutation to `part`; `pick` and `delta` choose where and how. */
function mutate(
  name: string,
  d: Delivery,
  part: Part,
  payload: Payload,
  ts: number,
  pick: number,
  delta: number,
): Delivery {
  switch (part) {
    case 'body': {
      if (name === 'Mailgun') {
        // Only the unsigned event data changes; the signature block is reused as captured.
        const parsed = JSON.parse(String(d.body));
        parsed['event-data'].text = `${parsed['event-data'].text}!${delta}`;
        return { ...d, body: JSON.stringify(parsed) };
      }
      if (name === 'Twilio') {
        const fields = new URLSearchParams(String(d.body));
        fields.set('NumMedia', String(payload.n + delta));
        return { ...d, body: fields.toString() };
      }
      const bytes = new Uint8Array(Buffer.from(d.body));
      const at = pick % bytes.length;
      bytes[at] = (bytes[at]! + delta) % 256;
      return { ...d, body: bytes };
    }
    case 'signature': {
      if (name === 'Mailgun') {
        const parsed = JSON.parse(String(d.body));
        const sig: string = parsed.signature.signature;
        const i = pick % sig.length;
        parsed.signature.signature = sig.slice(0, i) + otherChar(sig[i]!, delta) + sig.slice(i + 1);
        return { ...d, body: JSON.stringify(parsed) };
      }
      const header = Object.keys(d.headers).find((k) => k.toLowerCase() === signatureHeader(name))!;
      const value = d.headers[header]!;
      // Mutate inside the digest (after any `t=…,v1=` / `sha256=` / `HMAC ` framing).
      const start = Math.max(value.lastIndexOf('='), value.lastIndexOf(' ')) + 1;
      const digestStart = start >= value.length - 2 ? 0 : start;
      const i = digestStart + (pick % (value.length - digestStart));
      return {
        ...d,
        headers: {
          ...d.headers,
          [header]: value.slice(0, i) + otherChar(value[i]!, delta) + value.slice(i + 1),
        },
      };
    }
    case 'header':
      return { ...d, headers: { ...d.headers, 'X-Event-Type': `changed-${delta}` } };
    case 'url': {
      const url = new URL(d.url);
      if (pick % 2 === 0) url.pathname = `${url.pathname}x`;
      else url.searchParams.set('tenant', String(7 + delta));
      return { ...d, url: url.toString() };
    }
    case 'timestamp': {
      if (NO_TIMESTAMP.has(name)) {
        return { ...d, headers: { ...d.headers, 'X-Webhook-Timestamp': String(ts + delta) } };
      }
      // Keep the captured signature, claim another (still fresh) time.
      const moved = deliver(name, payload, ts + delta);
      if (name === 'Mailgun') {
        const parsed = JSON.parse(String(d.body));
        parsed.signature.timestamp = String(ts + delta);
        return { ...d, body: JSON.stringify(parsed) };
      }
      if (name === 'Linear') return { ...d, body: moved.body };
      if (name === 'Stripe' || name === 'Calendly') {
        const header = Object.keys(d.headers).find((k) => k.toLowerCase() === signatureHeader(name))!;
        return {
          ...d,
          headers: { ...d.headers, [header]: d.headers[header]!.replace(`t=${ts}`, `t=${ts + delta}`) },
        };
      }
      const tsHeader = BUILT_IN_SCHEMES[name]!.timestampHeaderName!;
      return { ...d, headers: { ...d.headers, [tsHeader]: String(ts + delta) } };
    }
  }
}

const names = Object.keys(UNSIGNED);
const security = (name: string, replay: boolean): WebhookTriggerSecurity => ({
  signature: { scheme: schemeOf(name), key: keyOf(name) },
  ...(replay
    ? {
        replay: {
          toleranceSeconds: 300,
          allowMissingTimestamp: NO_TIMESTAMP.has(name),
        },
      }
    : {}),
});

async function evaluate(h: ReturnType<typeof harness>, name: string, d: Delivery, replay: boolean) {
  const request = new Request(d.url, { method: 'POST', body: d.body, headers: d.headers });
  return h.pipeline.evaluate(request, {
    flowId: FLOW_ID,
    triggerKey: 'webhook',
    security: security(name, replay),
  });
}

const payload = fc.record({ text: fc.string({ maxLength: 40 }), n: fc.integer({ min: 0, max: 1_000_000 }) });
const part = fc.constantFrom<Part>('body', 'signature', 'url', 'timestamp', 'header');
const delta = fc.integer({ min: 1, max: 120 });

// Hundreds of pipeline runs per property: allow for a busy, shared machine.
const SLOW_MS = 120_000;

describe('mutated signed deliveries (every dialect, through the pipeline)', () => {
  it(
    'a signed delivery is accepted; a mutation is accepted only if the mutated part is unsigned',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names),
          payload,
          part,
          fc.nat(),
          delta,
          async (name, p, what, pick, d) => {
            const h = harness({ allowLegacySha1: true });
            const original = deliver(name, p, T0);
            expect((await evaluate(h, name, original, false)).outcome, `${name} original`).toBe('accept');
            const mutated = mutate(name, original, what, p, T0, pick, d);
            const decision = await evaluate(harness({ allowLegacySha1: true }), name, mutated, false);
            const unsigned =
              UNSIGNED[name]!.includes(what) || (what === 'timestamp' && NO_TIMESTAMP.has(name));
            expect(decision.outcome, `${name} ${what} ${JSON.stringify(mutated)}`).toBe(
              unsigned ? 'accept' : 'reject',
            );
          },
        ),
        { numRuns: 400 },
      );
    },
    SLOW_MS,
  );

  it(
    'with replay protection, neither the delivery nor any unsigned variation of it is accepted twice',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names),
          payload,
          part,
          fc.nat(),
          delta,
          async (name, p, what, pick, d) => {
            const h = harness({ allowLegacySha1: true });
            const original = deliver(name, p, T0);
            expect((await evaluate(h, name, original, true)).outcome).toBe('accept');
            expect(await evaluate(h, name, original, true)).toMatchObject({ outcome: 'reject', status: 409 });
            const variant = mutate(name, original, what, p, T0, pick, d);
            expect((await evaluate(h, name, variant, true)).outcome, `${name} ${what}`).toBe('reject');
          },
        ),
        { numRuns: 300 },
      );
    },
    SLOW_MS,
  );

  it(
    'the same delivery signed at any time outside the freshness window is refused',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names.filter((n) => !NO_TIMESTAMP.has(n))),
          payload,
          fc.integer({ min: 301, max: 10 * 365 * 86400 }),
          fc.boolean(),
          async (name, p, offset, future) => {
            const h = harness({ allowLegacySha1: true });
            const signedAt = future ? T0 + offset : T0 - offset;
            const window = name === 'Linear' ? 60 : 300;
            fc.pre(offset > window);
            const decision = await evaluate(h, name, deliver(name, p, signedAt), false);
            expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'skew_exceeded' });
          },
        ),
        { numRuns: 200 },
      );
    },
    SLOW_MS,
  );
});
