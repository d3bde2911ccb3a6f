// The dashboard mounted in node:http, Express and Fastify at a base path.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFlowClient, type FlowDefinition, silentLogger } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';

const flow: FlowDefinition = {
  id: 'hello-flow',
  name: 'Hello',
  triggers: { manual: { type: 'Manual' }, hook: { type: 'Webhook', inputs: { webhookSlug: 'hello' } } },
  steps: { greet: { type: 'Greet' } },
};

function dashboard(basePath?: string) {
  const client = createFlowClient({ storage: createInMemoryStorage(), flows: [flow], logger: silentLogger });
  return createDashboard({ client, logger: silentLogger, ...(basePath !== undefined && { basePath }) });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function probe(origin: string, base: string) {
  const flows = await fetch(`${origin}${base}/api/flows`);
  expect(flows.status).toBe(200);
  expect(((await flows.json()) as { flows: Array<{ name: string }> }).flows[0]!.name).toBe('Hello');
  const page = await fetch(`${origin}${base}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(`<meta name="floworch-base" content="${base}">`);
  const trigger = await fetch(`${origin}${base}/api/flows/hello-flow/trigger`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { from: 'mount' } }),
  });
  expect(trigger.status).toBe(202);
  const { runId } = (await trigger.json()) as { runId: string };
  const run = await fetch(`${origin}${base}/api/runs/${runId}`);
  expect(((await run.json()) as { triggerData: unknown }).triggerData).toEqual({ from: 'mount' });
  const webhook = await fetch(`${origin}${base}/api/webhook/hello`, { method: 'POST', body: '{"x":1}' });
  expect(webhook.status).toBe(200);
}

describe('mounting', () => {
  it('node:http at the default base path /flows; other paths 404', async () => {
    const d = dashboard();
    const server = createServer(d.nodeListener);
    const origin = await listen(server);
    try {
      await probe(origin, '/flows');
      expect((await fetch(`${origin}/elsewhere`)).status).toBe(404);
      expect((await fetch(`${origin}/flows/api/nope`)).status).toBe(404);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('node:http at the root', async () => {
    const d = dashboard('/');
    const server = createServer(d.nodeListener);
    const origin = await listen(server);
    try {
      await probe(origin, '');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('Express: app.use(listener) and app.use("/ops", listener) next to other routes and a JSON body parser', async () => {
    const d = dashboard('/ops/flows');
    const app = express();
    app.use('/ops', d.nodeListener);
    app.use(express.json());
    app.post('/own', (req, res) => {
      res.json({ echoed: req.body });
    });
    const server = createServer(app);
    const origin = await listen(server);
    try {
      await probe(origin, '/ops/flows');
      const own = await fetch(`${origin}/own`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expect(await own.json()).toEqual({ echoed: { a: 1 } });
      expect((await fetch(`${origin}/ops/other`)).status).toBe(404);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('Fastify: an onRequest hook answers under the base path, Fastify routes keep working', async () => {
    const d = dashboard('/admin/flows');
    const app = Fastify();
    app.addHook('onRequest', d.fastifyHook);
    app.post('/own', async (request) => ({ echoed: request.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await probe(origin, '/admin/flows');
      const own = await fetch(`${origin}/own`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"b":2}',
      });
      expect(await own.json()).toEqual({ echoed: { b: 2 } });
    } finally {
      app.server.closeAllConnections();
      await app.close();
    }
  });
});
