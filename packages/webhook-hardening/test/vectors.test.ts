import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SignatureSpec, verifyHmacSignature, WebhookReason } from '../src/index.js';
import { scheme, verify } from './helpers.js';

const valid = { valid: true, usedPreviousKey: false } as const;

describe('published partner vectors', () => {
  it('GitHub: the example from the GitHub webhook documentation', () => {
    const result = verify(scheme('GitHub'), "It's a Secret to Everybody", 'Hello, World!', {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    });
    expect(result).toMatchObject(valid);
  });

  it("Slack: the signing example from Slack's documentation (full slash-command body)", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
      '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = {
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'X-Slack-Request-Timestamp': '1531420618',
    };
    const then = { nowMs: 1531420618_000 };
    expect(verify(scheme('Slack'), '8f742231b10e8888abcd99yyyzzz85a5', body, headers, then)).toMatchObject({
      ...valid,
      timestamp: '1531420618',
    });
    const { 'X-Slack-Request-Timestamp': _, ...withoutTs } = headers;
    expect(verify(scheme('Slack'), '8f742231b10e8888abcd99yyyzzz85a5', body, withoutTs, then)).toEqual({
      valid: false,
      reason: WebhookReason.missingTimestamp,
    });
  });

  it("Twilio: the request-validation example from Twilio's samples (auth token 12345)", () => {
    const formFields: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+14158675309'],
      ['Digits', '1234'],
      ['From', '+14158675309'],
      ['To', '+18005551212'],
    ];
    const result = verify(
      scheme('Twilio'),
      '12345',
      new URLSearchParams(formFields).toString(),
      { 'X-Twilio-Signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' },
      { absoluteUrl: 'https://mycompany.com/myapp.php?foo=1&bar=2', formFields, allowLegacySha1: true },
    );
    expect(result).toMatchObject(valid);
  });
});

describe('dialect vectors (digests computed independently)', () => {
  it('GitHub: malformed, missing, zero digest and rotation', () => {
    const spec = scheme('GitHub');
    const digest = createHmac('sha256', 'old').update('x').digest('hex');
    expect(verify(spec, 'k', 'x', { 'X-Hub-Signature-256': digest })).toEqual({
      valid: false,
      reason: 'malformed_header',
    });
    expect(verify(spec, 'k', 'x')).toEqual({ valid: false, reason: 'missing_header' });
    expect(verify(spec, 'k', 'x', { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` })).toEqual({
      valid: false,
      reason: 'digest_mismatch',
    });
    expect(
      verify(spec, 'new', 'x', { 'X-Hub-Signature-256': `sha256=${digest}` }, { previousKey: 'old' }),
    ).toMatchObject({
      valid: true,
      usedPreviousKey: true,
      timestamp: null,
    });
  });

  it('GitHubLegacy: SHA-1 only with allowLegacySha1', () => {
    const headers = { 'X-Hub-Signature': 'sha1=a2282e7648e8caf7d224d6531dcd95c2808a5d89' };
    expect(verify(scheme('GitHubLegacy'), 'k', 'body', headers)).toEqual({
      valid: false,
      reason: 'algorithm_not_allowed',
    });
    expect(verify(scheme('GitHubLegacy'), 'k', 'body', headers, { allowLegacySha1: true })).toMatchObject(
      valid,
    );
  });

  it('Stripe: valid, extra v0, only v0, no timestamp', () => {
    const spec = scheme('Stripe');
    const body = '{"id":"evt_test"}';
    const v1 = 'v1=14c4f43763339dcb1c15f41a1ff31a94f2f09f8de278f8b4392ca0d7cbcd257e';
    const check = (header: string) => verify(spec, 'whsec_test', body, { 'Stripe-Signature': header });
    expect(check(`t=1700000000,${v1}`)).toMatchObject({ ...valid, timestamp: '1700000000' });
    expect(check(`t=1700000000,v0=00,${v1}`)).toMatchObject(valid);
    expect(check('t=1700000000,v0=deadbeef')).toEqual({ valid: false, reason: 'unsupported_version' });
    expect(check('v1=deadbeef')).toEqual({ valid: false, reason: 'missing_timestamp' });
    expect(check('garbage')).toEqual({ valid: false, reason: 'malformed_header' });
  });

  it('Calendly', () => {
    const header = 't=1700000000,v1=0a5f2fa9da42a29f44efbbb07a1a7fa15355235634b12a0c286118d5397c882e';
    expect(
      verify(scheme('Calendly'), 'calendly-secret', '{"event":"invitee.created"}', {
        'Calendly-Webhook-Signature': header,
      }),
    ).toMatchObject(valid);
  });

  it('Zoom', () => {
    const headers = {
      'X-Zm-Signature': 'v0=b6426b103ed085594c3db4605cc0ac69a28932d4d459a6577565544b213b9429',
      'X-Zm-Request-Timestamp': '1700000000',
    };
    expect(verify(scheme('Zoom'), 'zoom-secret', '{"event":"webhook.test"}', headers)).toMatchObject(valid);
  });

  it('Shopify: valid; undecodable base64 is a digest mismatch', () => {
    const body = '{"order_id":12345}';
    const ok = { 'X-Shopify-Hmac-SHA256': '/Eb1pLBzeEMefwTI/Zj6gLl3Wm3Hz81CDtdOvvQX854=' };
    expect(verify(scheme('Shopify'), 'shopify_secret', body, ok)).toMatchObject(valid);
    const bad = { 'X-Shopify-Hmac-SHA256': '@@@not-base-64@@@' };
    expect(verify(scheme('Shopify'), 'shopify_secret', body, bad)).toEqual({
      valid: false,
      reason: 'digest_mismatch',
    });
  });

  it('Square: URL + body; no URL is refused', () => {
    const headers = { 'X-Square-HmacSha256-Signature': 'eanW3YevMfn+3LlcIrH1xJxDcQiyOnTXqJKNSMdUIv8=' };
    const body = '{"event":"payment.created"}';
    expect(
      verify(scheme('Square'), 'square_signing_key', body, headers, {
        absoluteUrl: 'https://example.com/square/notifications',
      }),
    ).toMatchObject(valid);
    expect(verify(scheme('Square'), 'square_signing_key', body, headers)).toEqual({
      valid: false,
      reason: 'absolute_url_required',
    });
  });

  it('Twilio: sorted form fields; no URL is refused', () => {
    const formFields: [string, string][] = [
      ['From', '+15551234567'],
      ['To', '+15557654321'],
      ['Body', 'Hello'],
    ];
    const headers = { 'X-Twilio-Signature': 'XveoI2nhnTPhvN1RDA2FXfILPqA=' };
    const body = new URLSearchParams(formFields).toString();
    const extra = { formFields, allowLegacySha1: true };
    expect(
      verify(scheme('Twilio'), 'AuthToken123', body, headers, {
        ...extra,
        absoluteUrl: 'https://example.com/twilio/webhook',
      }),
    ).toMatchObject(valid);
    expect(verify(scheme('Twilio'), 'AuthToken123', body, headers, extra)).toEqual({
      valid: false,
      reason: 'absolute_url_required',
    });
  });

  it('Microsoft Teams: the key is the base64-decoded token (the reference used its text)', () => {
    const token = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
    const body = '{"text":"hello"}';
    const spec = scheme('MicrosoftTeams');
    expect(
      verify(spec, token, body, { Authorization: 'HMAC FE9r7vyQG5LEvrvSmOxN5j3FoR94stnvoo3wBOpWvmk=' }),
    ).toMatchObject(valid);
    // The reference's construction (UTF-8 bytes of the token as key) must not verify.
    const wrongConstruction = createHmac('sha256', token).update(body).digest('base64');
    expect(verify(spec, token, body, { Authorization: `HMAC ${wrongConstruction}` })).toEqual({
      valid: false,
      reason: 'digest_mismatch',
    });
    expect(
      verify(spec, token, body, { Authorization: 'FE9r7vyQG5LEvrvSmOxN5j3FoR94stnvoo3wBOpWvmk=' }),
    ).toEqual({
      valid: false,
      reason: 'malformed_header',
    });
  });

  it('Mailgun: body-resident signature; a block with only a timestamp is refused', () => {
    const body = {
      signature: {
        timestamp: '1700000000',
        token: 'abcdef0123456789',
        signature: '01859fc7a09508fe42a1368afd7ae52705b8685111beffe7a19771e588fc3d3f',
      },
    };
    expect(verify(scheme('Mailgun'), 'mg_api_key', JSON.stringify(body))).toMatchObject({
      ...valid,
      timestamp: '1700000000',
    });
    const partial = JSON.stringify({ signature: { timestamp: '1700000000' } });
    expect(verify(scheme('Mailgun'), 'mg_api_key', partial).valid).toBe(false);
    expect(verify(scheme('Mailgun'), 'mg_api_key', '[1,2]')).toEqual({
      valid: false,
      reason: 'malformed_header',
    });
    expect(verify(scheme('Mailgun'), 'mg_api_key', '')).toEqual({ valid: false, reason: 'malformed_header' });
  });

  it.each([
    [
      'Bitbucket',
      'X-Hub-Signature',
      'sha256=a9869d2825c4e8da39d1de435439dae439edd2a9def477c3a52f87e36277fcfd',
    ],
    [
      'Atlassian',
      'X-Hub-Signature',
      'sha256=0c7d92a80815fd5478d5718e2a4c4edf37dcbcecc6362df0cbe131c8f96c8082',
    ],
    ['Generic', 'X-Signature', 'sha256=fce1b7ad71b959f32f81e3384da866ba5ca93d84edbec390b109d0ac7173ec11'],
    ['Dropbox', 'X-Dropbox-Signature', 'b4f4ac588af1556729539415f2acaed3059f3cae52f58b67dccc2b3c3492168f'],
  ])('%s', (name, header, value) => {
    expect(verify(scheme(name), 'k', `payload-${name}`, { [header]: value })).toMatchObject(valid);
  });
});

describe('Linear: the signed body carries webhookTimestamp in ms', () => {
  const body = (ms: number) => `{"action":"create","webhookTimestamp":${ms}}`;
  const sign = (text: string) => createHmac('sha256', 'k').update(text).digest('hex');
  const now = 1_700_000_000_000;

  it('accepts a fresh delivery and reports the timestamp in ms', () => {
    const text = body(now - 30_000);
    expect(verify(scheme('Linear'), 'k', text, { 'Linear-Signature': sign(text) })).toMatchObject({
      ...valid,
      timestampMs: now - 30_000,
    });
  });

  it('refuses one older than a minute, and one without the field', () => {
    const stale = body(now - 61_000);
    expect(verify(scheme('Linear'), 'k', stale, { 'Linear-Signature': sign(stale) })).toEqual({
      valid: false,
      reason: 'skew_exceeded',
    });
    const bare = '{"action":"create"}';
    expect(verify(scheme('Linear'), 'k', bare, { 'Linear-Signature': sign(bare) })).toEqual({
      valid: false,
      reason: 'missing_timestamp',
    });
  });
});

describe('encodings and custom strategies', () => {
  const body = 'enc-body';
  const digest = createHmac('sha256', 'k').update(body).digest();
  const base: SignatureSpec = {
    headerName: 'X-Sig',
    algorithm: 'sha256',
    encoding: 'hexLower',
    payload: 'rawBody',
  };

  it('hexUpper accepts an upper-case digest, hexLower a lower-case one', () => {
    const upper = { ...base, encoding: 'hexUpper' } as const;
    expect(verify(upper, 'k', body, { 'X-Sig': digest.toString('hex').toUpperCase() })).toMatchObject(valid);
    expect(verify(base, 'k', body, { 'X-Sig': digest.toString('hex') })).toMatchObject(valid);
  });

  it('base64Url accepts an unpadded digest', () => {
    const spec = { ...base, encoding: 'base64Url' } as const;
    const unpadded = digest.toString('base64url');
    expect(unpadded.endsWith('=')).toBe(false);
    expect(verify(spec, 'k', body, { 'X-Sig': unpadded })).toMatchObject(valid);
  });

  it('a custom strategy ("PREFIX|" + body)', () => {
    const spec: SignatureSpec = {
      ...base,
      headerName: 'X-Custom',
      payload: 'custom',
      customStrategyName: 'prefix-pipe',
    };
    const strategies = new Map([
      ['prefix-pipe', (ctx: { body: Uint8Array }) => `PREFIX|${Buffer.from(ctx.body)}`],
    ]);
    const headers = { 'x-custom': '9749719466e460af67842e70a779ec6403bcf61a2fbedb81a7c442fa5d34c3bd' };
    const ctx = {
      body: Buffer.from('hello'),
      headers,
      absoluteUrl: null,
      formFields: null,
      spec,
      key: 'k',
      previousKey: null,
      allowLegacySha1: false,
    };
    expect(verifyHmacSignature(ctx, strategies)).toMatchObject(valid);
    expect(verifyHmacSignature(ctx, new Map())).toEqual({ valid: false, reason: 'malformed_header' });
  });

  it('an empty key is key_not_configured', () => {
    expect(verify(base, '', body, { 'X-Sig': digest.toString('hex') })).toEqual({
      valid: false,
      reason: 'key_not_configured',
    });
  });
});
