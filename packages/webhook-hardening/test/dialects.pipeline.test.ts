import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_SCHEMES,
  signMailgun,
  signsTimestamp,
  signWebhook,
  type WebhookTriggerSecurity,
} from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID, post } from './helpers.js';

const URL_ = 'https://hooks.example.test/webhooks/orders';
const TEAMS_KEY = Buffer.from('teams-security-token-0123456789ab').toString('base64');
const TEAMS_OTHER = Buffer.from('some-other-token-0123456789abcdef').toString('base64');

interface Delivery {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** How a publisher of each dialect would send `data` at `ts`, signed with `key`. */
function deliver(name: string, key: string, ts: number, data = 'hello'): Delivery {
  const spec = BUILT_IN_SCHEMES[name]!;
  if (name === 'Mailgun') {
    return {
      body: JSON.stringify({
        'event-data': { data },
        signature: signMailgun(key, String(ts), `tok-${data}`),
      }),
      headers: { 'content-type': 'application/json' },
    };
  }
  if (name === 'Twilio' || name === 'Slack') {
    const fields: [string, string][] = [
      ['Body', data],
      ['From', '+15550001111'],
    ];
    const body = new URLSearchParams(fields).toString();
    const signed = signWebhook(spec, key, { body, timestamp: ts, url: URL_, formFields: fields });
    return {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed },
    };
  }
  // Linear puts its timestamp (ms) inside the signed body.
  const body = JSON.stringify(name === 'Linear' ? { data, webhookTimestamp: ts * 1000 } : { data });
  const signed = signWebhook(spec, key, { body, timestamp: ts, url: URL_ });
  return { body, headers: { 'content-type': 'application/json', ...signed } };
}

/** Removes the signature (header, or the body-resident field for Mailgun). */
function withoutSignature(name: string, d: Delivery): Delivery {
  if (name === 'Mailgun') {
    const parsed = JSON.parse(d.body);
    delete parsed.signature.signature;
    return { ...d, body: JSON.stringify(parsed) };
  }
  const header = BUILT_IN_SCHEMES[name]!.headerName.toLowerCase();
  return {
    ...d,
    headers: Object.fromEntries(Object.entries(d.headers).filter(([k]) => k.toLowerCase() !== header)),
  };
}

/** Changes the signed content after signing. */
function tampered(name: string, d: Delivery): Delivery {
  if (name === 'Mailgun') return { ...d, body: d.body.replace('tok-hello', 'tok-HELLO') };
  return { ...d, body: d.body.replace('hello', 'HELLO') };
}

const names = Object.keys(BUILT_IN_SCHEMES);

describe.each(names)('%s through the pipeline (Enforce, replay tolerance 300 s)', (name) => {
  const signsTime = signsTimestamp(BUILT_IN_SCHEMES[name]!);
  const key = name === 'MicrosoftTeams' ? TEAMS_KEY : `${name.toLowerCase()}-secret`;
  const wrongKey = name === 'MicrosoftTeams' ? TEAMS_OTHER : 'not-the-secret';
  const security: WebhookTriggerSecurity = {
    signature: { scheme: name, key },
    // Dialects that sign no timestamp deduplicate on the signed body alone.
    replay: { toleranceSeconds: 300, allowMissingTimestamp: !signsTime },
  };

  const run = async (d: Delivery, h = harness({ allowLegacySha1: true })) => {
    const decision = await h.pipeline.evaluate(post(d.body, d.headers, URL_), {
      flowId: FLOW_ID,
      triggerKey: 'webhook',
      security,
    });
    return { decision, h };
  };

  it('accepts a valid delivery and records an accepted row', async () => {
    const { decision, h } = await run(deliver(name, key, T0));
    expect(decision).toMatchObject({ outcome: 'accept', status: 200, auditFailure: null });
    const [row] = await h.rows();
    expect(row).toMatchObject({ isAccepted: true, reason: '', statusCode: 200, scheme: name });
    expect(row!.headersJson).not.toMatch(/authorization/i);
  });

  it('refuses a tampered body with digest_mismatch (401)', async () => {
    const { decision } = await run(tampered(name, deliver(name, key, T0)));
    expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'digest_mismatch' });
  });

  it('refuses a delivery signed with the wrong key with digest_mismatch (401)', async () => {
    const { decision } = await run(deliver(name, wrongKey, T0));
    expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'digest_mismatch' });
  });

  // Only dialects that sign a timestamp have one to be stale.
  if (signsTime) {
    it('refuses a stale signed timestamp in the verifier (401 skew_exceeded)', async () => {
      const { decision, h } = await run(deliver(name, key, T0 - 3600));
      expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'skew_exceeded' });
      const [row] = await h.rows();
      expect(row).toMatchObject({ isAccepted: false, reason: 'skew_exceeded', statusCode: 401 });
    });
  }

  it('refuses the same delivery a second time (409 nonce_seen)', async () => {
    const d = deliver(name, key, T0);
    const { h } = await run(d);
    const { decision } = await run(d, h);
    expect(decision).toMatchObject({ outcome: 'reject', status: 409, reason: 'nonce_seen' });
  });

  it('refuses a missing signature with missing_header (401)', async () => {
    const { decision, h } = await run(withoutSignature(name, deliver(name, key, T0)));
    expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'missing_header' });
    expect(h.logs.map((l) => l.eventId)).toContain(4001);
  });
});
