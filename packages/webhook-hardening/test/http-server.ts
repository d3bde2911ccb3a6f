import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInMemoryWebhookRejectionStore, createInMemoryWebhookReplayStore } from '@floworch/inmemory';
import {
  createFlowResolver,
  createNodeWebhookListener,
  createWebhookPipeline,
  createWebhookReceiver,
  type WebhookFlowSource,
  type WebhookSecurityOptions,
} from '../src/index.js';
import { FakeEngine } from './fake-engine.js';

/** A webhook flow with the given manifest inputs. */
export function webhookFlow(slug: string, inputs: Record<string, unknown>): WebhookFlowSource {
  return {
    id: randomUUID(),
    name: slug,
    triggers: { webhook: { type: 'Webhook', inputs: { webhookSlug: slug, ...inputs } } },
  };
}

/** A real `node:http` server on 127.0.0.1 running the receiver over a fake engine. */
export async function startWebhookServer(flows: WebhookFlowSource[], options: WebhookSecurityOptions = {}) {
  const engine = new FakeEngine();
  const rejectionStore = createInMemoryWebhookRejectionStore();
  const replayStore = createInMemoryWebhookReplayStore();
  const pipeline = createWebhookPipeline({ replayStore, rejectionStore, ...options });
  const receiver = createWebhookReceiver({
    pipeline,
    resolveFlow: createFlowResolver(flows, { pipeline }),
    target: engine,
  });
  const server = createServer(createNodeWebhookListener(receiver, { basePath: '/hooks' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = (slug: string) => `http://127.0.0.1:${port}/hooks/${slug}`;

  /** POSTs with fetch and returns the status and parsed body. */
  const send = async (slug: string, body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const response = await fetch(url(slug), { method: 'POST', body, headers });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };

  /**
   * Sends the headers and the first part of a body, then stalls; resolves with the status of the
   * answer (or `'no answer'` after `waitMs`). The socket is destroyed either way.
   */
  const stall = (slug: string, headers: Record<string, string>, firstPart: string, waitMs: number) =>
    new Promise<number | 'no answer'>((resolve) => {
      const req = httpRequest(url(slug), { method: 'POST', headers });
      const timer = setTimeout(() => {
        req.destroy();
        resolve('no answer');
      }, waitMs);
      req.on('response', (res) => {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => {});
      req.write(firstPart);
    });

  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { engine, rejectionStore, replayStore, pipeline, url, send, stall, close };
}
