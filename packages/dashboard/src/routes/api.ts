import type { FlowClient, Logger, RunStatus, ScheduleView } from '@floworch/core';
import { RUN_STATUSES } from '@floworch/core';
import { Hono } from 'hono';
import { type EventStreamOptions, eventStreamResponse, type StreamRegistry } from '../events/stream.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import {
  bool,
  date,
  jsonBody,
  nonNegativeInt,
  objectBody,
  oneOf,
  positiveInt,
  stringField,
  text,
} from '../http/params.js';
import { deliveryPage, flowDetail, flowSummary, redactSteps, runDetail } from '../views.js';

/** What the API routes share. */
export interface ApiContext {
  readonly events: EventStreamOptions;
  readonly streams: StreamRegistry;
  readonly logger: Logger;
}

const MAX_TAKE = 500;

/** The schedule with this job id, or 404. */
async function schedule(client: FlowClient, jobId: string): Promise<ScheduleView> {
  const found = (await client.listSchedules()).find((s) => s.jobId === jobId);
  if (!found) throw notFound(`Schedule '${jobId}' was not found.`, 'SCHEDULE_NOT_FOUND');
  return found;
}

/** `Last-Event-ID` (header, or `lastEventId` query for clients that cannot set headers). */
function lastEventId(header: string | undefined, query: string | undefined): number | null {
  const raw = (header ?? query)?.trim();
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw)) throw badRequest('Last-Event-ID must be a non-negative integer.');
  return Number(raw);
}

/** The REST API under `{base}/api` (see the package README for every shape). */
export function apiRoutes(client: FlowClient, ctx: ApiContext): Hono {
  const app = new Hono();

  // ---- flows ---------------------------------------------------------------------------------
  app.get('/flows', async (c) => c.json({ flows: (await client.listFlows()).map(flowSummary) }));
  app.get('/flows/:id', async (c) => c.json(flowDetail(await client.getFlow(c.req.param('id')))));
  app.get('/flows/:id/mermaid', async (c) => {
    const direction = oneOf(c, 'direction', ['TD', 'TB', 'BT', 'LR', 'RL'] as const);
    const flow = await client.getFlow(c.req.param('id'));
    const mermaid = await client.getFlowMermaid(flow.id, direction ? { direction } : {});
    return c.json({ flowId: flow.id, mermaid });
  });
  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(`/flows/:id/${action}`, async (c) => {
      const flow = await client.getFlow(c.req.param('id'));
      await client.setFlowEnabled(flow.id, enabled);
      return c.json({ id: flow.id, isEnabled: enabled });
    });
  }
  app.post('/flows/:id/trigger', async (c) => {
    const body = await objectBody(c);
    const flow = await client.getFlow(c.req.param('id'));
    const triggerKey = stringField(body, 'triggerKey');
    if (triggerKey !== undefined && !(triggerKey in flow.manifest.triggers)) {
      throw badRequest(`Flow '${flow.name}' has no trigger '${triggerKey}'.`);
    }
    const idempotencyKey = stringField(body, 'idempotencyKey');
    const run = await client.trigger(flow.id, {
      ...(triggerKey !== undefined && { triggerKey }),
      ...(body.data !== undefined && { data: body.data }),
      ...(idempotencyKey !== undefined && { idempotencyKey }),
    });
    if (run.disabled) throw new HttpError(409, 'FLOW_DISABLED', `Flow '${flow.name}' is disabled.`);
    return c.json({ runId: run.runId, duplicate: run.duplicate }, run.duplicate ? 200 : 202);
  });
  app.get('/handlers', async (c) => c.json({ handlers: await client.listStepTypes() }));

  // ---- runs ----------------------------------------------------------------------------------
  app.get('/runs', async (c) => {
    const status = oneOf(c, 'status', RUN_STATUSES as readonly RunStatus[]);
    const flowId = text(c, 'flowId');
    const search = text(c, 'search');
    const since = date(c, 'since');
    const until = date(c, 'until');
    const skip = nonNegativeInt(c, 'skip');
    const take = nonNegativeInt(c, 'take', MAX_TAKE);
    const page = await client.listRuns({
      ...(flowId !== undefined && { flowId }),
      ...(status !== undefined && { status }),
      ...(search !== undefined && { search }),
      ...(since !== undefined && { since }),
      ...(until !== undefined && { until }),
      ...(skip !== undefined && { skip }),
      ...(take !== undefined && { take }),
    });
    return c.json(page);
  });
  app.get('/runs/active', async (c) => {
    const limit = positiveInt(c, 'limit', 1_000);
    return c.json({ runs: await client.listActiveRuns(limit) });
  });
  app.get('/runs/stats', async (c) => c.json(await client.getRunStatistics()));
  app.get('/runs/timeseries', async (c) => {
    const granularity = oneOf(c, 'granularity', ['Hour', 'Day'] as const) ?? 'Hour';
    const since = date(c, 'since');
    const until = date(c, 'until');
    const flowId = text(c, 'flowId');
    const buckets = await client.getRunTimeseries({
      granularity,
      ...(since !== undefined && { since }),
      ...(until !== undefined && { until }),
      ...(flowId !== undefined && { flowId }),
    });
    return c.json({ granularity, buckets });
  });
  app.get('/runs/:id', async (c) => c.json(runDetail(await client.getRun(c.req.param('id')))));
  app.get('/runs/:id/steps', async (c) => {
    const run = await client.getRun(c.req.param('id'), { events: false });
    return c.json({ runId: run.id, steps: redactSteps(run.steps) });
  });
  app.get('/runs/:id/events', async (c) => {
    const skip = nonNegativeInt(c, 'skip');
    const take = positiveInt(c, 'take', 1_000);
    const events = await client.getRunEvents(c.req.param('id'), {
      ...(skip !== undefined && { skip }),
      ...(take !== undefined && { take }),
    });
    return c.json({ runId: c.req.param('id').toLowerCase(), events });
  });
  app.get('/runs/:id/control', async (c) => {
    const control = await client.getRunControl(c.req.param('id'));
    return c.json({ runId: c.req.param('id').toLowerCase(), control });
  });
  app.get('/runs/:id/lineage', async (c) => c.json(await client.getRunLineage(c.req.param('id'))));
  app.post('/runs/:id/cancel', async (c) => {
    const body = await objectBody(c);
    const reason = stringField(body, 'reason');
    const result = await client.cancelRun(c.req.param('id'), reason ?? 'Cancelled from the dashboard.');
    return c.json(result, 202);
  });
  app.post('/runs/:id/steps/:key/retry', async (c) => {
    const runId = c.req.param('id');
    const stepKey = c.req.param('key');
    await client.retryStep(runId, stepKey);
    return c.json({ runId: runId.toLowerCase(), stepKey, retried: true }, 202);
  });
  app.post('/runs/:id/signals/:name', async (c) => {
    const payload = await jsonBody(c);
    const result = await client.signal(c.req.param('id'), c.req.param('name'), payload ?? {});
    if (result.status === 'NotFound') {
      return c.json(
        {
          error: `No step of this run waits for signal '${c.req.param('name')}'.`,
          code: 'SIGNAL_NOT_FOUND',
          ...result,
        },
        404,
      );
    }
    return c.json(result);
  });
  app.post('/runs/:id/rerun', async (c) => {
    const source = c.req.param('id');
    const run = await client.rerun(source);
    if (run.disabled) throw new HttpError(409, 'FLOW_DISABLED', 'The flow is disabled.');
    return c.json({ runId: run.runId, sourceRunId: source.toLowerCase() }, 202);
  });

  // ---- schedules -----------------------------------------------------------------------------
  app.get('/schedules', async (c) => c.json({ schedules: await client.listSchedules() }));
  app.post('/schedules/:jobId/trigger', async (c) => {
    const s = await schedule(client, c.req.param('jobId'));
    const run = await client.triggerSchedule(s.flowId, s.triggerKey);
    if (run.disabled) throw new HttpError(409, 'FLOW_DISABLED', `Flow '${s.flowName}' is disabled.`);
    return c.json({ jobId: s.jobId, runId: run.runId }, 202);
  });
  app.post('/schedules/:jobId/pause', async (c) => {
    const s = await schedule(client, c.req.param('jobId'));
    await client.pauseSchedule(s.flowId, s.triggerKey);
    return c.json(await schedule(client, s.jobId));
  });
  app.post('/schedules/:jobId/resume', async (c) => {
    const s = await schedule(client, c.req.param('jobId'));
    await client.resumeSchedule(s.flowId, s.triggerKey);
    return c.json(await schedule(client, s.jobId));
  });
  app.put('/schedules/:jobId/cron', async (c) => {
    const body = await objectBody(c);
    const s = await schedule(client, c.req.param('jobId'));
    if (!('cron' in body))
      throw badRequest("Field 'cron' is required (a cron expression, or null to restore).");
    const cron = body.cron;
    if (cron !== null && typeof cron !== 'string') throw badRequest("Field 'cron' must be a string or null.");
    await client.setScheduleCron(s.flowId, s.triggerKey, cron);
    return c.json(await schedule(client, s.jobId));
  });

  // ---- webhooks ------------------------------------------------------------------------------
  app.get('/webhooks/recent', async (c) => {
    const flowId = text(c, 'flowId');
    const reason = text(c, 'reason');
    const search = text(c, 'search');
    const accepted = bool(c, 'accepted');
    const rejected = bool(c, 'rejected');
    const skip = nonNegativeInt(c, 'skip');
    const take = positiveInt(c, 'take', MAX_TAKE);
    const page = await client.listWebhookDeliveries({
      ...(flowId !== undefined && { flowId }),
      ...(reason !== undefined && { reason }),
      ...(search !== undefined && { search }),
      ...(accepted !== undefined && { accepted }),
      ...(rejected !== undefined && { rejected }),
      ...(skip !== undefined && { skip }),
      ...(take !== undefined && { take }),
    });
    return c.json(deliveryPage(page));
  });
  app.get('/webhooks/stats', async (c) => {
    const windowMs = positiveInt(c, 'windowMs', 365 * 86_400_000);
    return c.json(await client.getWebhookStats(windowMs ? { windowMs } : {}));
  });

  // ---- live events ---------------------------------------------------------------------------
  app.get('/events/stream', async (c) => {
    const after = lastEventId(c.req.header('last-event-id'), c.req.query('lastEventId'));
    const runId = text(c, 'runId')?.toLowerCase();
    return eventStreamResponse(
      client,
      { after, ...(runId !== undefined && { runId }) },
      ctx.events,
      ctx.streams,
      ctx.logger,
    );
  });

  return app;
}
