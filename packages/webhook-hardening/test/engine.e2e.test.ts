import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFlowOrchestrator, type FlowDefinition, silentLogger } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { describe, expect, it } from 'vitest';
import {
  createFlowResolver,
  createNodeWebhookListener,
  createWebhookPipeline,
  createWebhookReceiver,
  orchestratorTarget,
  signWebhook,
} from '../src/index.js';
import { scheme } from './helpers.js';

describe('webhooks into the real engine', () => {
  it('a signed GitHub delivery over HTTP starts a run that completes with the payload; a replay starts nothing', async () => {
    const storage = createInMemoryStorage();
    const seen: unknown[] = [];
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'OnPush',
      triggers: {
        webhook: {
          type: 'Webhook',
          inputs: {
            webhookSlug: 'push',
            webhookSignatureScheme: 'GitHub',
            webhookHmacKey: 'engine-e2e',
            webhookReplayAllowMissingTimestamp: true,
          },
        },
      },
      steps: {
        record: {
          type: 'Record',
          inputs: { ref: '@triggerBody().ref', event: "@triggerHeaders()['x-github-event']" },
        },
      },
    };
    const orchestrator = createFlowOrchestrator({
      storage,
      flows: [flow],
      logger: silentLogger,
      maintenanceIntervalMs: 0,
      handlers: { Record: ({ inputs }) => void seen.push(inputs) },
    });
    await orchestrator.start();
    const pipeline = createWebhookPipeline({
      mode: 'enforce',
      replay: { toleranceSeconds: 300 },
      replayStore: storage.webhookReplay,
      rejectionStore: storage.webhookRejections,
    });
    const receiver = createWebhookReceiver({
      pipeline,
      resolveFlow: createFlowResolver([flow], { pipeline }),
      target: orchestratorTarget(orchestrator),
    });
    const server = createServer(createNodeWebhookListener(receiver, { basePath: '/hooks' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/push`;
    try {
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const headers = {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'X-GitHub-Delivery': randomUUID(),
        ...signWebhook(scheme('GitHub'), 'engine-e2e', { body }),
      };
      const first = await fetch(url, { method: 'POST', body, headers });
      expect(first.status).toBe(200);
      const { runId } = (await first.json()) as { runId: string };
      for (let i = 0; i < 200; i++) {
        if ((await storage.runs.getRunDetail(runId))?.status === 'Succeeded') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await storage.runs.getRunDetail(runId))!.status).toBe('Succeeded');
      expect(seen).toEqual([{ ref: 'refs/heads/main', event: 'push' }]);
      const replay = await fetch(url, { method: 'POST', body, headers });
      expect(replay.status).toBe(409);
      expect((await storage.runs.getRunsPage()).totalCount).toBe(1);
      const log = await storage.webhookRejections.queryRecent(null, null, true, 0, 10);
      expect(log.map((r) => r.reason)).toContain('nonce_seen');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await orchestrator.stop();
    }
  });
});
