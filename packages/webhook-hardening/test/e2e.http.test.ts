import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInMemoryWebhookRejectionStore, createInMemoryWebhookReplayStore } from '@floworch/inmemory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFlowResolver,
  createNodeWebhookListener,
  createWebhookPipeline,
  createWebhookReceiver,
  signWebhook,
  type WebhookFlowSource,
} from '../src/index.js';
import { FakeEngine } from './fake-engine.js';
import { scheme } from './helpers.js';

const GITHUB_FLOW = 'bbbbbbbb-2222-4222-8222-000000000001';
const STRIPE_FLOW = 'bbbbbbbb-2222-4222-8222-000000000002';
const TWILIO_FLOW = 'bbbbbbbb-2222-4222-8222-000000000003';
const TEAMS_FLOW = 'bbbbbbbb-2222-4222-8222-000000000004';
const TEAMS_TOKEN = Buffer.from('teams-token-for-the-e2e-test-123').toString('base64');

const flows: WebhookFlowSource[] = [
  {
    id: GITHUB_FLOW,
    name: 'GitHubPush',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: {
          webhookSlug: 'github',
          webhookSignatureScheme: 'GitHub',
          webhookHmacKey: 'gh-e2e-secret',
          webhookReplayToleranceSeconds: 300,
          webhookNonceHeader: 'X-GitHub-Delivery',
          webhookReplayAllowMissingTimestamp: true,
          webhookIpAllowListPreset: 'local',
        },
      },
    },
  },
  {
    id: STRIPE_FLOW,
    name: 'StripeEvents',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: { webhookSlug: 'stripe', webhookSignatureScheme: 'Stripe', webhookHmacKey: 'whsec_e2e' },
      },
    },
  },
  {
    id: TWILIO_FLOW,
    name: 'Sms',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: {
          webhookSlug: 'twilio',
          webhookSignatureScheme: 'Twilio',
          webhookHmacKey: 'twilio-token',
          webhookReplayToleranceSeconds: 0,
        },
      },
    },
  },
  {
    id: TEAMS_FLOW,
    name: 'Teams',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: {
          webhookSlug: 'teams',
          webhookSignatureScheme: 'MicrosoftTeams',
          webhookHmacKey: TEAMS_TOKEN,
          webhookReplayToleranceSeconds: 0,
        },
      },
    },
  },
];

describe('end to end over node:http on 127.0.0.1', () => {
  const engine = new FakeEngine();
  const rejectionStore = createInMemoryWebhookRejectionStore();
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const pipeline = createWebhookPipeline({
      mode: 'enforce',
      maxBodyBytes: 64 * 1024,
      replay: { toleranceSeconds: 300 },
      rateLimit: { permitsPerSecond: 100, burst: 100 },
      allowLegacySha1: true,
      replayStore: createInMemoryWebhookReplayStore(),
      rejectionStore,
    });
    const receiver = createWebhookReceiver({
      pipeline,
      resolveFlow: createFlowResolver(flows, { pipeline }),
      target: engine,
    });
    server = createServer(createNodeWebhookListener(receiver, { basePath: '/flows/api/webhook' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/flows/api/webhook`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  });

  const send = async (slug: string, body: string | Uint8Array, headers: Record<string, string>) => {
    const response = await fetch(`${base}/${slug}`, { method: 'POST', body, headers });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const now = () => Math.floor(Date.now() / 1000);
  const github = (body: string, delivery: string) => ({
    'content-type': 'application/json',
    'X-GitHub-Delivery': delivery,
    ...signWebhook(scheme('GitHub'), 'gh-e2e-secret', { body }),
  });

  it('a signed GitHub delivery starts a run; the same delivery again is a replay', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const delivery = randomUUID();
    const first = await send('github', body, github(body, delivery));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      runId: expect.any(String),
      message: "Flow 'GitHubPush' triggered via webhook.",
    });
    expect(engine.calls.filter((c) => c.flowId === GITHUB_FLOW)).toHaveLength(1);
    expect(engine.calls[0]!.body).toEqual({ ref: 'refs/heads/main' });

    const again = await send('github', body, github(body, delivery));
    expect(again).toMatchObject({ status: 409, json: { error: 'Webhook rejected.' } });
    expect(again.json).not.toHaveProperty('reason');
    expect(engine.calls.filter((c) => c.flowId === GITHUB_FLOW)).toHaveLength(1);
  });

  it('a zero digest is refused and starts nothing', async () => {
    const before = engine.calls.length;
    const headers = { ...github('{}', randomUUID()), 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` };
    expect(await send('github', '{}', headers)).toMatchObject({
      status: 401,
      json: { error: 'Webhook rejected.' },
    });
    expect(engine.calls.length).toBe(before);
  });

  it('a 128 KiB body is refused with 413', async () => {
    const response = await send('github', new Uint8Array(128 * 1024), {
      'content-type': 'application/octet-stream',
    });
    expect(response.status).toBe(413);
  });

  it('a chunked upload without Content-Length is cut off at the cap', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8) return controller.close();
        sent++;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const response = await fetch(`${base}/github`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('a signed Stripe event starts a run and its replay is refused via the signed t=', async () => {
    const body = JSON.stringify({ id: 'evt_e2e', type: 'payment_intent.succeeded' });
    const headers = {
      'content-type': 'application/json',
      ...signWebhook(scheme('Stripe'), 'whsec_e2e', { body, timestamp: now() }),
    };
    expect((await send('stripe', body, headers)).status).toBe(200);
    expect((await send('stripe', body, headers)).status).toBe(409);
  });

  it('a form-encoded Twilio delivery verifies against the URL and fields', async () => {
    const fields: [string, string][] = [
      ['From', '+15550001111'],
      ['Body', 'hi'],
    ];
    const body = new URLSearchParams(fields).toString();
    const url = `${base}/twilio`;
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      ...signWebhook(scheme('Twilio'), 'twilio-token', { body, url, formFields: fields }),
    };
    const response = await send('twilio', body, headers);
    expect(response.status).toBe(200);
    expect(engine.calls.at(-1)).toMatchObject({
      flowId: TWILIO_FLOW,
      body: { From: '+15550001111', Body: 'hi' },
    });
  });

  it('Microsoft Teams signs in Authorization, which reaches the verifier but is not stored', async () => {
    const body = JSON.stringify({ text: 'hello' });
    const headers = {
      'content-type': 'application/json',
      ...signWebhook(scheme('MicrosoftTeams'), TEAMS_TOKEN, { body }),
    };
    expect((await send('teams', body, headers)).status).toBe(200);
    expect(engine.calls.at(-1)!.headers).not.toHaveProperty('authorization');
  });

  it('records deliveries in the DLQ / recent-deliveries log', async () => {
    const { items } = await rejectionStore.query({ flowId: GITHUB_FLOW, includeAccepted: true });
    expect(items.some((r) => r.isAccepted)).toBe(true);
    expect(items.map((r) => r.reason)).toEqual(expect.arrayContaining(['nonce_seen', 'digest_mismatch']));
    expect(items.every((r) => r.remoteIp === '127.0.0.1')).toBe(true);
  });

  it('unknown paths are 404, unknown slugs a generic 401, other methods 405', async () => {
    expect((await fetch(`${base}/github`, { method: 'GET' })).status).toBe(405);
    expect((await fetch(`${base}/a/b`, { method: 'POST', body: '{}' })).status).toBe(404);
    const unknown = await send('no-such-flow', '{}', {});
    expect(unknown).toEqual({ status: 401, json: { error: 'Webhook rejected.' } });
  });
});
