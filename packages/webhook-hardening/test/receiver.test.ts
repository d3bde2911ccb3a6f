import { describe, expect, it } from 'vitest';
import {
  createFlowResolver,
  createWebhookPipeline,
  createWebhookReceiver,
  signWebhook,
  WebhookConfigError,
  type WebhookFlowSource,
  type WebhookLogEntry,
} from '../src/index.js';
import { FakeEngine } from './fake-engine.js';
import { post, scheme } from './helpers.js';

const ORDERS = 'aaaaaaaa-1111-4111-8111-000000000001';
const GITHUB = 'aaaaaaaa-1111-4111-8111-000000000002';
const LEGACY = 'aaaaaaaa-1111-4111-8111-000000000003';

const flows: WebhookFlowSource[] = [
  {
    id: ORDERS,
    name: 'OrderReceived',
    triggers: {
      manual: { type: 'Manual' },
      webhook: { type: 'Webhook', inputs: { webhookSlug: 'Order-Created' } },
    },
  },
  {
    id: GITHUB,
    name: 'GitHubPush',
    triggers: {
      push: {
        type: 'webhook',
        inputs: { webhookSlug: 'github-push', webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' },
      },
    },
  },
  { id: LEGACY, name: 'Legacy', triggers: { hook: { type: 'Webhook', inputs: { webhookSecret: 'k3y' } } } },
];

function setup(options: { disabled?: string[] } = {}) {
  const logs: WebhookLogEntry[] = [];
  const pipeline = createWebhookPipeline({ mode: 'enforce', logger: { log: (e) => logs.push(e) } });
  const engine = new FakeEngine();
  const disabled = new Set(options.disabled ?? []);
  const resolveFlow = createFlowResolver(flows, { pipeline, isEnabled: (id) => !disabled.has(id) });
  const receiver = createWebhookReceiver({ pipeline, resolveFlow, target: engine });
  const send = async (idOrSlug: string, request: Request) => {
    const response = await receiver.handle(request, idOrSlug, { remoteAddress: '127.0.0.1' });
    const body = (await response.json()) as { runId?: string; error?: string; reason?: string };
    return { status: response.status, body, headers: response.headers };
  };
  return { engine, send, logs };
}

describe('webhook receiver', () => {
  it('routes by flow id to the first webhook trigger and starts one run', async () => {
    const { engine, send, logs } = setup();
    const { status, body } = await send(ORDERS, post('{"order":1}'));
    expect(status).toBe(200);
    expect(body).toEqual({
      runId: expect.any(String),
      message: "Flow 'OrderReceived' triggered via webhook.",
    });
    expect(engine.calls).toEqual([
      expect.objectContaining({
        flowId: ORDERS,
        triggerKey: 'webhook',
        body: { order: 1 },
        idempotencyKey: null,
      }),
    ]);
    expect(logs.find((l) => l.eventId === 4007)?.fields).toMatchObject({ runId: body.runId });
  });

  it('routes by slug, case-insensitively', async () => {
    const { send } = setup();
    expect((await send('order-created', post('{}'))).status).toBe(200);
    expect((await send('ORDER-CREATED', post('{}'))).status).toBe(200);
  });

  it('an unknown id or slug answers like a refused signature (401, generic body); no slug fallback for ids', async () => {
    const { send } = setup();
    expect(await send('ffffffff-1111-4111-8111-000000000009', post('{}'))).toMatchObject({
      status: 401,
      body: { error: 'Webhook rejected.' },
    });
    expect((await send('nope', post('{}'))).status).toBe(401);
  });

  it('403 for a disabled flow (store flag or engine answer)', async () => {
    expect((await setup({ disabled: [ORDERS] }).send(ORDERS, post('{}'))).status).toBe(403);
    const { engine, send } = setup();
    engine.disabled.add(ORDERS);
    expect(await send(ORDERS, post('{}'))).toMatchObject({
      status: 403,
      body: { error: 'Flow is disabled.' },
    });
  });

  it('passes filtered headers and the idempotency key; duplicates return the same run', async () => {
    const { engine, send } = setup();
    const headers = { 'Idempotency-Key': ' order-42 ', Authorization: 'Bearer x', 'X-Custom': 'v' };
    const first = await send(ORDERS, post('{}', headers));
    const second = await send(ORDERS, post('{}', headers));
    const other = await send(ORDERS, post('{}', { 'Idempotency-Key': 'order-43' }));
    expect(second.body.runId).toBe(first.body.runId);
    expect(other.body.runId).not.toBe(first.body.runId);
    expect(engine.calls).toHaveLength(2);
    expect(engine.calls[0]).toMatchObject({ idempotencyKey: 'order-42', headers: { 'x-custom': 'v' } });
    expect(engine.calls[0]!.headers).not.toHaveProperty('authorization');
  });

  it('answers pipeline refusals with their status and a generic body, and does not trigger', async () => {
    const { engine, send } = setup();
    const refused = await send(
      'github-push',
      post('{}', { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }),
    );
    expect(refused).toMatchObject({
      status: 401,
      body: { error: 'Webhook rejected.' },
    });
    expect(refused.body).not.toHaveProperty('reason');
    const body = '{"ref":"main"}';
    const ok = await send('github-push', post(body, signWebhook(scheme('GitHub'), 'gh', { body })));
    expect(ok.status).toBe(200);
    expect(engine.calls).toHaveLength(1);
  });

  it('enforces the legacy shared secret', async () => {
    const { send } = setup();
    expect((await send(LEGACY, post('{}'))).status).toBe(401);
    expect((await send(LEGACY, post('{}', { 'X-Webhook-Key': 'k3y' }))).status).toBe(200);
  });

  it('500 when the engine throws', async () => {
    const { engine, send, logs } = setup();
    engine.fail = true;
    expect((await send(ORDERS, post('{}'))).status).toBe(500);
    expect(logs.map((l) => l.eventId)).toContain(4013);
  });
});

describe('flow resolver validation', () => {
  const pipeline = createWebhookPipeline();

  it('refuses duplicate slugs and invalid trigger settings at creation', () => {
    const bad: WebhookFlowSource[] = [
      { id: ORDERS, triggers: { a: { type: 'Webhook', inputs: { webhookSlug: 'dup' } } } },
      { id: GITHUB, triggers: { b: { type: 'Webhook', inputs: { webhookSlug: 'DUP' } } } },
      {
        id: LEGACY,
        triggers: {
          c: { type: 'Webhook', inputs: { webhookSignatureScheme: 'Unknown', webhookHmacKey: 'k' } },
        },
      },
    ];
    let error: unknown;
    try {
      createFlowResolver(bad, { pipeline });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookConfigError);
    const problems = (error as WebhookConfigError).problems.join('\n');
    expect(problems).toMatch(/slug 'DUP'/);
    expect(problems).toMatch(/unknown scheme 'Unknown'/);
  });

  it('logs conflicting key fields (4011) once per flow, at start-up', async () => {
    const logs: number[] = [];
    const source: WebhookFlowSource[] = [
      {
        id: GITHUB,
        triggers: {
          push: {
            type: 'Webhook',
            inputs: { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'modern', webhookSecret: 'legacy' },
          },
        },
      },
    ];
    const strict = createWebhookPipeline({ mode: 'enforce' });
    const resolveFlow = createFlowResolver(source, {
      pipeline: strict,
      logger: { log: (e) => logs.push(e.eventId) },
    });
    const receiver = createWebhookReceiver({ pipeline: strict, resolveFlow, target: new FakeEngine() });
    const body = '{}';
    for (let i = 0; i < 5; i++) {
      const headers = { ...signWebhook(scheme('GitHub'), 'modern', { body }), 'X-Webhook-Key': 'legacy' };
      expect((await receiver.handle(post(body, headers), GITHUB)).status).toBe(200);
    }
    const legacyDigest = { ...signWebhook(scheme('GitHub'), 'legacy', { body }), 'X-Webhook-Key': 'legacy' };
    const refused = await receiver.handle(post(body, legacyDigest), GITHUB);
    expect(refused.status).toBe(401);
    expect(logs.filter((id) => id === 4011)).toHaveLength(1);
  });
});
