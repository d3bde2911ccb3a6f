import type { FlowClient } from '@floworch/core';
import { Hono } from 'hono';

/**
 * `GET /health/live` (the process answers: always 200) and `GET /health/ready` (storage answers
 * within 2 s and its schema is at the version this backend writes: 200, else 503).
 */
export function healthRoutes(client: FlowClient): Hono {
  const app = new Hono();
  app.get('/live', (c) => c.json({ status: 'live' }));
  app.get('/ready', async (c) => {
    const report = await client.checkHealth({ timeoutMs: 2_000 });
    const body = {
      status: report.status === 'healthy' ? 'ready' : 'unready',
      storage: {
        status: report.storage.status,
        latencyMs: report.storage.latencyMs,
        ...(report.storage.error !== undefined && { error: 'Storage is unreachable or too slow.' }),
      },
      schema: report.schema,
    };
    return c.json(body, report.status === 'healthy' ? 200 : 503);
  });
  return app;
}
