// Runnable example: `pnpm --filter @floworch/webhook-hardening exec tsx examples/github-and-stripe.ts`
// Starts a receiver on 127.0.0.1:3000, sends it one signed GitHub and one signed Stripe delivery,
// prints the answers and exits. The "engine" is a stand-in that prints what it would run.
import { createServer } from 'node:http';
import { createInMemoryWebhookRejectionStore, createInMemoryWebhookReplayStore } from '@floworch/inmemory';
import {
  BUILT_IN_SCHEMES,
  createFlowResolver,
  createNodeWebhookListener,
  createWebhookPipeline,
  createWebhookReceiver,
  signWebhook,
} from '@floworch/webhook-hardening';

// 1. The pipeline: enforce (the default), with replay protection and a DLQ.
const pipeline = createWebhookPipeline({
  replay: { toleranceSeconds: 300 },
  replayStore: createInMemoryWebhookReplayStore(),
  rejectionStore: createInMemoryWebhookRejectionStore(),
});

// 2. Two webhook triggers, written the way flow manifests write them.
const flows = [
  {
    id: '6f1c2a8e-0000-4000-8000-000000000001',
    name: 'OnPush',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: {
          webhookSlug: 'github',
          webhookSignatureScheme: 'GitHub',
          webhookHmacKey: process.env.GITHUB_WEBHOOK_SECRET ?? 'gh-secret',
          // GitHub signs no timestamp: deduplicate on the signed body (and, in addition, on the
          // delivery id) for 2 × tolerance.
          webhookNonceHeader: 'X-GitHub-Delivery',
          webhookReplayAllowMissingTimestamp: true,
          webhookIpAllowListPresets: 'github,loopback',
        },
      },
    },
  },
  {
    id: '6f1c2a8e-0000-4000-8000-000000000002',
    name: 'OnPayment',
    triggers: {
      webhook: {
        type: 'Webhook',
        inputs: {
          webhookSlug: 'stripe',
          webhookSignatureScheme: 'Stripe', // the signed t= is checked for freshness and replay
          webhookHmacKey: process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_test',
        },
      },
    },
  },
];

// 3. The receiver: routes /webhooks/{slug or flow id} and hands accepted deliveries to the engine.
const receiver = createWebhookReceiver({
  pipeline,
  resolveFlow: createFlowResolver(flows, { pipeline }),
  target: {
    async trigger(input) {
      console.log('engine: start', input.flowId, 'with', JSON.stringify(input.body));
      return { runId: crypto.randomUUID() };
    },
  },
});
const server = createServer(createNodeWebhookListener(receiver, { basePath: '/webhooks' }));
await new Promise<void>((resolve) => server.listen(3000, '127.0.0.1', resolve));

// 4. Play publisher: send one signed delivery of each kind.
const now = Math.floor(Date.now() / 1000);
const push = JSON.stringify({ ref: 'refs/heads/main' });
const payment = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded' });
const deliveries = [
  {
    path: 'github',
    body: push,
    headers: {
      ...signWebhook(BUILT_IN_SCHEMES.GitHub!, 'gh-secret', { body: push }),
      'X-GitHub-Delivery': crypto.randomUUID(),
    },
  },
  {
    path: 'stripe',
    body: payment,
    headers: signWebhook(BUILT_IN_SCHEMES.Stripe!, 'whsec_test', { body: payment, timestamp: now }),
  },
];
for (const { path, body, headers } of deliveries) {
  const response = await fetch(`http://127.0.0.1:3000/webhooks/${path}`, { method: 'POST', body, headers });
  console.log(path, response.status, await response.text());
}
server.close();
