// Every route of the HTTP API over a real server on PostgreSQL: status codes, JSON shapes,
// paging limits, 401/400/404, and no secret in any body.
import type { FlowDefinition, FlowOrchestrator, StepHandler } from '@floworch/core';
import { StepResults, silentLogger } from '@floworch/core';
import type { PostgresStorage } from '@floworch/postgresql';
import { BUILT_IN_SCHEMES, signWebhook } from '@floworch/webhook-hardening';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type ServedDashboard, serveDashboard } from '../src/index.js';
import {
  basic,
  eventually,
  isolatedSchema,
  pgSource,
  pgUrl,
  startOrchestrator,
  storageOn,
} from './support.js';

const SECRETS = {
  password: 'pw-SECRET-dashboard-3',
  sharedKey: 'shared-SECRET-webhook-2',
  hmacKey: 'hmac-SECRET-github-1',
  bearer: 'Bearer tok-SECRET-header-4',
  apiKey: 'apikey-SECRET-header-5',
  stepKey: 'step-SECRET-input-6',
};

const flows: FlowDefinition[] = [
  {
    id: 'orders',
    name: 'Orders',
    triggers: {
      manual: { type: 'Manual' },
      hook: { type: 'Webhook', inputs: { webhookSlug: 'orders-hook', webhookSecret: SECRETS.sharedKey } },
    },
    steps: {
      validate: { type: 'Validate', inputs: { order: '@triggerBody()', apiKey: SECRETS.stepKey } },
      charge: { type: 'Charge', runAfter: { validate: ['Succeeded'] } },
      ship: { type: 'Ship', runAfter: { charge: ['Succeeded'] } },
    },
  },
  {
    id: 'github-push',
    name: 'GitHub push',
    triggers: {
      push: {
        type: 'Webhook',
        inputs: { webhookSlug: 'github', webhookSignatureScheme: 'GitHub', webhookHmacKey: SECRETS.hmacKey },
      },
    },
    steps: { note: { type: 'Validate' } },
  },
  {
    id: 'nightly',
    name: 'Nightly',
    triggers: { nightly: { type: 'Cron', inputs: { cronExpression: '0 3 * * *' } } },
    steps: { sweep: { type: 'Validate' } },
  },
  {
    id: 'approval',
    name: 'Approval',
    steps: {
      wait: { type: 'WaitForSignal', inputs: { signalName: 'approve' } },
      done: { type: 'Validate', runAfter: { wait: ['Succeeded'] } },
    },
  },
  { id: 'slow', name: 'Slow', steps: { hang: { type: 'Hang' } } },
];

/** `charge` fails for orders with `fail: true` until `chargeFixed` is set. */
let chargeFixed = false;
const handlers: Record<string, StepHandler> = {
  Validate: ({ inputs }) => ({ ok: true, order: inputs.order ?? null }),
  Charge: ({ runId }) => {
    if (!chargeFixed && failing.has(runId)) return StepResults.failed('card declined');
    return { charged: true };
  },
  Ship: () => ({ tracking: 'TRK1' }),
  Hang: ({ signal }) =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
};
const failing = new Set<string>();

const suite = pgUrl ? describe : describe.skip;

suite(`dashboard HTTP API on PostgreSQL (${pgSource})`, () => {
  let drop: () => Promise<void>;
  let storage: PostgresStorage;
  let orchestrator: FlowOrchestrator;
  let served: ServedDashboard;
  const bodies: string[] = [];
  const auth = { authorization: basic('ops', SECRETS.password) };

  /** Calls the API with credentials; every body is kept for the secret scan. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
    const response = await fetch(`${served.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    bodies.push(text);
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field.
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, json, text, headers: response.headers };
  }
  const get = (path: string) => call('GET', path);
  const post = (path: string, body?: unknown) => call('POST', path, body ?? {});

  const settle = (runId: string) =>
    eventually(async () => {
      const run = await get(`api/runs/${runId}`);
      return run.json.status !== 'Running' ? run.json : undefined;
    });

  beforeAll(async () => {
    const isolated = await isolatedSchema('dash_api');
    drop = isolated.drop;
    storage = await storageOn(isolated.schema);
    orchestrator = await startOrchestrator(storage, flows, handlers);
    const dashboard = createDashboard({
      client: orchestrator.client,
      auth: { basic: { username: 'ops', password: SECRETS.password } },
      webhooks: {
        security: { replayStore: storage.webhookReplay, rejectionStore: storage.webhookRejections },
      },
      logger: silentLogger,
    });
    served = await serveDashboard(dashboard, { port: 0 });
  });

  afterAll(async () => {
    await served?.close();
    await orchestrator?.stop();
    await storage?.close();
    await drop?.();
  });

  it('answers 401 with a Basic challenge to every API route without (valid) credentials', async () => {
    const routes: Array<[string, string]> = [
      ['GET', 'api/flows'],
      ['GET', 'api/flows/orders'],
      ['GET', 'api/flows/orders/mermaid'],
      ['POST', 'api/flows/orders/enable'],
      ['POST', 'api/flows/orders/disable'],
      ['POST', 'api/flows/orders/trigger'],
      ['GET', 'api/handlers'],
      ['GET', 'api/runs'],
      ['GET', 'api/runs/active'],
      ['GET', 'api/runs/stats'],
      ['GET', 'api/runs/timeseries'],
      ['GET', `api/runs/${crypto.randomUUID()}`],
      ['GET', `api/runs/${crypto.randomUUID()}/steps`],
      ['GET', `api/runs/${crypto.randomUUID()}/events`],
      ['GET', `api/runs/${crypto.randomUUID()}/control`],
      ['GET', `api/runs/${crypto.randomUUID()}/lineage`],
      ['POST', `api/runs/${crypto.randomUUID()}/cancel`],
      ['POST', `api/runs/${crypto.randomUUID()}/steps/a/retry`],
      ['POST', `api/runs/${crypto.randomUUID()}/signals/go`],
      ['POST', `api/runs/${crypto.randomUUID()}/rerun`],
      ['GET', 'api/schedules'],
      ['POST', 'api/schedules/x/trigger'],
      ['POST', 'api/schedules/x/pause'],
      ['POST', 'api/schedules/x/resume'],
      ['PUT', 'api/schedules/x/cron'],
      ['GET', 'api/webhooks/recent'],
      ['GET', 'api/webhooks/stats'],
      ['GET', 'api/events/stream'],
      ['GET', ''],
    ];
    for (const [method, path] of routes) {
      const none = await call(method, path, method === 'GET' ? undefined : {}, {});
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="floworch"/);
      expect(none.json).toEqual({ error: 'Authentication required.', code: 'UNAUTHORIZED' });
      const wrong = await call(method, path, method === 'GET' ? undefined : {}, {
        authorization: basic('ops', 'not-the-password'),
      });
      expect(wrong.status, `${method} ${path} (wrong password)`).toBe(401);
    }
    // Probes and the webhook endpoint are not behind dashboard auth.
    expect((await call('GET', 'health/live', undefined, {})).status).toBe(200);
    expect((await call('POST', 'api/webhook/unknown-slug', {}, {})).status).toBe(401); // the webhook's own refusal
  });

  describe('flows', () => {
    it('GET /api/flows lists flows with triggers, no secret inputs', async () => {
      const { status, json } = await get('api/flows');
      expect(status).toBe(200);
      expect(json.flows.map((f: { name: string }) => f.name)).toEqual([
        'Approval',
        'GitHub push',
        'Nightly',
        'Orders',
        'Slow',
      ]);
      const orders = json.flows.find((f: { name: string }) => f.name === 'Orders');
      expect(orders).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Orders',
        version: '1.0',
        isEnabled: true,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        triggers: [
          { key: 'manual', type: 'Manual' },
          { key: 'hook', type: 'Webhook', webhookSlug: 'orders-hook' },
        ],
        stepCount: 3,
      });
      const nightly = json.flows.find((f: { name: string }) => f.name === 'Nightly');
      expect(nightly.triggers).toEqual([{ key: 'nightly', type: 'Cron', cron: '0 3 * * *' }]);
    });

    it('GET /api/flows/{id} by slug or UUID with the manifest redacted; 404 unknown; 400 malformed', async () => {
      const bySlug = await get('api/flows/orders');
      expect(bySlug.status).toBe(200);
      expect(bySlug.json.manifest.triggers.hook.inputs).toEqual({
        webhookSlug: 'orders-hook',
        webhookSecret: '[redacted]',
      });
      expect(bySlug.json.manifest.steps.validate.inputs).toEqual({
        order: '@triggerBody()',
        apiKey: '[redacted]',
      });
      expect(bySlug.json.manifest.steps.charge.runAfter).toEqual({ validate: { statuses: ['Succeeded'] } });
      const byId = await get(`api/flows/${bySlug.json.id.toUpperCase()}`);
      expect(byId.status).toBe(200);
      expect(byId.json.id).toBe(bySlug.json.id);
      const github = await get('api/flows/github-push');
      expect(github.json.manifest.triggers.push.inputs.webhookHmacKey).toBe('[redacted]');
      expect(await get('api/flows/no-such-flow')).toMatchObject({
        status: 404,
        json: { code: 'FLOW_NOT_FOUND' },
      });
      expect(await get(`api/flows/${crypto.randomUUID()}`)).toMatchObject({ status: 404 });
      expect(await get('api/flows/Not%20A%20Slug!')).toMatchObject({
        status: 400,
        json: { code: 'INVALID_ARGUMENT' },
      });
    });

    it('GET /api/flows/{id}/mermaid renders the flowchart; direction is validated', async () => {
      const { status, json } = await get('api/flows/orders/mermaid?direction=LR');
      expect(status).toBe(200);
      expect(json.flowId).toMatch(/^[0-9a-f-]{36}$/);
      expect(json.mermaid).toMatch(/^flowchart LR\n/);
      expect(json.mermaid).toContain('validate -- Succeeded --> charge');
      expect(json.mermaid).not.toContain(SECRETS.sharedKey);
      expect((await get('api/flows/orders/mermaid?direction=UP')).status).toBe(400);
      expect((await get('api/flows/nope-flow/mermaid')).status).toBe(404);
    });

    it('POST enable/disable toggles; a disabled flow refuses triggers with 409', async () => {
      const off = await post('api/flows/orders/disable');
      expect(off).toMatchObject({ status: 200, json: { isEnabled: false } });
      expect((await get('api/flows/orders')).json.isEnabled).toBe(false);
      const refused = await post('api/flows/orders/trigger', { data: {} });
      expect(refused).toMatchObject({ status: 409, json: { code: 'FLOW_DISABLED' } });
      const on = await post('api/flows/orders/enable');
      expect(on).toMatchObject({ status: 200, json: { isEnabled: true } });
      expect((await post('api/flows/nope-flow/enable')).status).toBe(404);
      // A mutation is never reachable with GET.
      expect((await get('api/flows/orders/disable')).status).toBe(404);
      expect((await get('api/flows/orders')).json.isEnabled).toBe(true);
    });

    it('POST /api/flows/{id}/trigger starts a run (202); bad JSON, bad shapes and unknown triggers are 400', async () => {
      const started = await post('api/flows/orders/trigger', {
        data: { item: 'book' },
        idempotencyKey: 'api-1',
      });
      expect(started.status).toBe(202);
      expect(started.json).toEqual({ runId: expect.stringMatching(/^[0-9a-f-]{36}$/), duplicate: false });
      const again = await post('api/flows/orders/trigger', {
        data: { item: 'book' },
        idempotencyKey: 'api-1',
      });
      expect(again).toMatchObject({ status: 200, json: { runId: started.json.runId, duplicate: true } });
      expect(await call('POST', 'api/flows/orders/trigger', '{"data": ')).toMatchObject({
        status: 400,
        json: { code: 'BAD_JSON' },
      });
      expect((await call('POST', 'api/flows/orders/trigger', '[1,2]')).status).toBe(400);
      expect((await post('api/flows/orders/trigger', { triggerKey: 7 })).status).toBe(400);
      expect((await post('api/flows/orders/trigger', { triggerKey: 'nope' })).status).toBe(400);
      expect((await post('api/flows/nope-flow/trigger', {})).status).toBe(404);
      const done = await settle(started.json.runId);
      expect(done.status).toBe('Succeeded');
      expect(done.triggerData).toEqual({ item: 'book' });
    });

    it('GET /api/handlers lists step types with registration', async () => {
      const { status, json } = await get('api/handlers');
      expect(status).toBe(200);
      expect(json.handlers).toContainEqual({
        type: 'Charge',
        flowIds: [expect.any(String)],
        registered: true,
      });
      expect(json.handlers.map((h: { type: string }) => h.type)).toEqual(
        expect.arrayContaining(['Validate', 'Ship', 'Hang', 'WaitForSignal']),
      );
    });
  });

  describe('runs', () => {
    const ids: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const { json } = await post('api/flows/orders/trigger', { data: { n: i, tag: `batch-${i}` } });
        ids.push(json.runId);
      }
      for (const id of ids) await settle(id);
    });

    it('GET /api/runs pages newest first with filters and search', async () => {
      const all = await get('api/runs?flowId=orders&take=2');
      expect(all.status).toBe(200);
      expect(all.json).toMatchObject({ skip: 0, take: 2, total: expect.any(Number) });
      expect(all.json.total).toBeGreaterThanOrEqual(6);
      expect(all.json.runs).toHaveLength(2);
      expect(Object.keys(all.json.runs[0]).sort()).toEqual(
        [
          'completedAt',
          'flowId',
          'flowName',
          'id',
          'jobId',
          'sourceRunId',
          'startedAt',
          'status',
          'triggerData',
          'triggerKey',
        ].sort(),
      );
      const second = await get('api/runs?flowId=orders&take=2&skip=2');
      expect(second.json.runs[0].id).not.toBe(all.json.runs[0].id);
      expect(new Date(second.json.runs[0].startedAt) <= new Date(all.json.runs[1].startedAt)).toBe(true);
      const succeeded = await get('api/runs?status=succeeded&flowId=orders');
      expect(succeeded.json.runs.every((r: { status: string }) => r.status === 'Succeeded')).toBe(true);
      const found = await get(`api/runs?search=${ids[2]!.slice(0, 13)}`);
      expect(found.json.runs.map((r: { id: string }) => r.id)).toEqual([ids[2]]);
      const since = await get(
        `api/runs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      );
      expect(since.json).toMatchObject({ total: 0, runs: [] });
    });

    it('paging limits: take is capped at 500; negative or non-numeric paging, unknown status and bad dates are 400', async () => {
      expect((await get('api/runs?take=100000')).json.take).toBe(500);
      expect((await get('api/runs?take=0')).json).toMatchObject({ take: 0, runs: [] });
      for (const query of [
        'skip=-1',
        'take=-5',
        'take=ten',
        'skip=1.5',
        'status=Bogus',
        'since=yesterday',
        'until=2024-13-45',
      ]) {
        const { status, json } = await get(`api/runs?${query}`);
        expect(status, query).toBe(400);
        expect(json.error, query).toEqual(expect.any(String));
      }
      expect((await get('api/runs?flowId=Not%20A%20Slug!')).status).toBe(400);
    });

    it('GET /api/runs/active, /stats and /timeseries', async () => {
      const slow = await post('api/flows/slow/trigger', {});
      const active = await get('api/runs/active?limit=10');
      expect(active.status).toBe(200);
      expect(active.json.runs.map((r: { id: string }) => r.id)).toContain(slow.json.runId);
      expect((await get('api/runs/active?limit=0')).status).toBe(400);
      const stats = await get('api/runs/stats');
      expect(stats.json).toEqual({
        totalFlows: 5,
        activeRuns: expect.any(Number),
        completedToday: expect.any(Number),
        failedToday: expect.any(Number),
      });
      expect(stats.json.activeRuns).toBeGreaterThanOrEqual(1);
      const series = await get('api/runs/timeseries?granularity=Hour');
      expect(series.status).toBe(200);
      expect(series.json.granularity).toBe('Hour');
      expect(series.json.buckets.length).toBeGreaterThanOrEqual(24);
      expect(Object.keys(series.json.buckets[0]).sort()).toEqual(
        [
          'cancelled',
          'failed',
          'p50DurationMs',
          'p95DurationMs',
          'running',
          'skipped',
          'succeeded',
          'timedOut',
          'timestamp',
          'total',
        ].sort(),
      );
      expect(
        series.json.buckets.reduce((n: number, b: { total: number }) => n + b.total, 0),
      ).toBeGreaterThanOrEqual(6);
      const days = await get('api/runs/timeseries?granularity=day&flowId=orders');
      expect(days.json.granularity).toBe('Day');
      expect((await get('api/runs/timeseries?granularity=Week')).status).toBe(400);
      const backwards = await get(
        `api/runs/timeseries?since=${new Date().toISOString()}&until=${new Date(Date.now() - 3_600_000).toISOString()}`,
      );
      expect(backwards.status).toBe(400);
      await post(`api/runs/${slow.json.runId}/cancel`);
    });

    it('GET /api/runs/{id}, /steps, /events, /control, /lineage; 404 unknown, 400 malformed', async () => {
      const id = ids[0]!;
      const detail = await get(`api/runs/${id}`);
      expect(detail.status).toBe(200);
      expect(detail.json).toMatchObject({
        id,
        status: 'Succeeded',
        flowName: 'Orders',
        triggerKey: 'manual',
      });
      expect(detail.json.steps.map((s: { key: string }) => s.key)).toEqual(['validate', 'charge', 'ship']);
      expect(detail.json.outputs.ship).toEqual({ tracking: 'TRK1' });
      expect(detail.json.events.at(-1).type).toBe('run.completed');
      const steps = await get(`api/runs/${id}/steps`);
      expect(steps.json.runId).toBe(id);
      expect(steps.json.steps[0]).toMatchObject({ key: 'validate', type: 'Validate', status: 'Succeeded' });
      expect(steps.json.steps[0].attempts[0]).toMatchObject({ attempt: 1, status: 'Succeeded' });
      const events = await get(`api/runs/${id}/events?take=2`);
      expect(events.json.events).toHaveLength(2);
      expect(events.json.events[0]).toEqual({
        sequence: expect.any(Number),
        timestamp: expect.any(String),
        type: 'run.started',
        stepKey: null,
        message: expect.any(String),
      });
      expect((await get(`api/runs/${id}/events?skip=1&take=1`)).json.events[0].sequence).toBe(
        events.json.events[1].sequence,
      );
      expect((await get(`api/runs/${id}/events?take=0`)).status).toBe(400);
      const control = await get(`api/runs/${id}/control`);
      expect(control.json).toEqual({
        runId: id,
        control: {
          runId: id,
          timeoutAt: null,
          cancelRequested: false,
          cancelReason: null,
          cancelRequestedAt: null,
          timedOutAt: null,
          idempotencyKey: null,
        },
      });
      const lineage = await get(`api/runs/${id}/lineage`);
      expect(lineage.json).toMatchObject({ run: { id }, ancestors: [], derived: [] });
      const unknown = crypto.randomUUID();
      for (const suffix of ['', '/steps', '/events', '/control', '/lineage']) {
        expect(await get(`api/runs/${unknown}${suffix}`), suffix).toMatchObject({
          status: 404,
          json: { code: 'RUN_NOT_FOUND' },
        });
        expect((await get(`api/runs/not-a-uuid${suffix}`)).status, suffix).toBe(400);
      }
    });
  });

  describe('operating runs', () => {
    it('POST /cancel cancels a running run (202); 404 unknown', async () => {
      const { json } = await post('api/flows/slow/trigger', {});
      await eventually(async () => {
        const run = await get(`api/runs/${json.runId}`);
        return run.json.steps.some((s: { status: string }) => s.status === 'Running') ? true : undefined;
      });
      const cancelled = await post(`api/runs/${json.runId}/cancel`, { reason: 'operator said so' });
      expect(cancelled.status).toBe(202);
      expect(cancelled.json).toEqual({ accepted: true, closedImmediately: expect.any(Boolean) });
      const done = await settle(json.runId);
      expect(done.status).toBe('Cancelled');
      expect((await get(`api/runs/${json.runId}/control`)).json.control).toMatchObject({
        cancelRequested: true,
        cancelReason: 'operator said so',
      });
      expect((await post(`api/runs/${json.runId}/cancel`)).json.accepted).toBe(false);
      expect((await post(`api/runs/${crypto.randomUUID()}/cancel`)).status).toBe(404);
      expect((await post(`api/runs/${json.runId}/cancel`, { reason: 5 })).status).toBe(400);
      expect((await get(`api/runs/${json.runId}/cancel`)).status).toBe(404);
    });

    it('POST /steps/{key}/retry retries a failed step to success; 404 unknown step or run', async () => {
      chargeFixed = false;
      const { json } = await post('api/flows/orders/trigger', { data: { fail: true } });
      failing.add(json.runId);
      const failed = await settle(json.runId);
      expect(failed.status).toBe('Failed');
      chargeFixed = true;
      const retried = await post(`api/runs/${json.runId}/steps/charge/retry`);
      expect(retried).toMatchObject({
        status: 202,
        json: { runId: json.runId, stepKey: 'charge', retried: true },
      });
      const done = await settle(json.runId);
      expect(done.status).toBe('Succeeded');
      expect(done.steps.find((s: { key: string }) => s.key === 'charge').attempts).toHaveLength(2);
      expect(await post(`api/runs/${json.runId}/steps/nope/retry`)).toMatchObject({
        status: 404,
        json: { code: 'STEP_NOT_FOUND' },
      });
      expect((await post(`api/runs/${crypto.randomUUID()}/steps/charge/retry`)).status).toBe(404);
    });

    it('POST /signals/{name} delivers to a waiting step; 404 when nothing waits or the run is unknown', async () => {
      const { json } = await post('api/flows/approval/trigger', {});
      await eventually(async () => {
        const run = await get(`api/runs/${json.runId}`);
        return run.json.steps.some(
          (s: { key: string; status: string }) => s.key === 'wait' && s.status === 'Pending',
        )
          ? true
          : undefined;
      });
      expect((await call('POST', `api/runs/${json.runId}/signals/approve`, '{"by": ')).status).toBe(400);
      const nobody = await post(`api/runs/${json.runId}/signals/reject`, {});
      expect(nobody).toMatchObject({ status: 404, json: { code: 'SIGNAL_NOT_FOUND', status: 'NotFound' } });
      const delivered = await post(`api/runs/${json.runId}/signals/approve`, { by: 'ops' });
      expect(delivered).toMatchObject({ status: 200, json: { status: 'Delivered', stepKey: 'wait' } });
      const done = await settle(json.runId);
      expect(done.status).toBe('Succeeded');
      expect(done.outputs.wait).toEqual({ by: 'ops' });
      expect((await post(`api/runs/${crypto.randomUUID()}/signals/approve`, {})).status).toBe(404);
    });

    it('POST /rerun starts a linked run (202); lineage shows both ways', async () => {
      const { json: first } = await post('api/flows/orders/trigger', { data: { again: true } });
      await settle(first.runId);
      const rerun = await post(`api/runs/${first.runId}/rerun`);
      expect(rerun.status).toBe(202);
      expect(rerun.json).toEqual({
        runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        sourceRunId: first.runId,
      });
      const done = await settle(rerun.json.runId);
      expect(done).toMatchObject({ sourceRunId: first.runId, triggerData: { again: true } });
      expect(
        (await get(`api/runs/${rerun.json.runId}/lineage`)).json.ancestors.map((r: { id: string }) => r.id),
      ).toEqual([first.runId]);
      expect(
        (await get(`api/runs/${first.runId}/lineage`)).json.derived.map((r: { id: string }) => r.id),
      ).toEqual([rerun.json.runId]);
      expect((await post(`api/runs/${crypto.randomUUID()}/rerun`)).status).toBe(404);
    });
  });

  describe('schedules', () => {
    let jobId: string;
    it('GET /api/schedules lists cron triggers with their state', async () => {
      const { status, json } = await get('api/schedules');
      expect(status).toBe(200);
      expect(json.schedules).toEqual([
        {
          jobId: expect.stringMatching(/^flow-[0-9a-f-]{36}-nightly$/),
          flowId: expect.any(String),
          flowName: 'Nightly',
          triggerKey: 'nightly',
          cron: '0 3 * * *',
          manifestCron: '0 3 * * *',
          cronOverride: null,
          timezone: 'UTC',
          isPaused: false,
        },
      ]);
      jobId = json.schedules[0].jobId;
    });

    it('pause, resume, trigger now; 404 unknown job', async () => {
      expect((await post(`api/schedules/${jobId}/pause`)).json).toMatchObject({ jobId, isPaused: true });
      expect((await get('api/schedules')).json.schedules[0].isPaused).toBe(true);
      expect((await post(`api/schedules/${jobId}/resume`)).json).toMatchObject({ jobId, isPaused: false });
      const fired = await post(`api/schedules/${jobId}/trigger`);
      expect(fired.status).toBe(202);
      expect(fired.json).toEqual({ jobId, runId: expect.any(String) });
      const run = await settle(fired.json.runId);
      expect(run).toMatchObject({ triggerKey: 'nightly', jobId });
      for (const action of ['pause', 'resume', 'trigger']) {
        expect(await post(`api/schedules/flow-nope-x/${action}`)).toMatchObject({
          status: 404,
          json: { code: 'SCHEDULE_NOT_FOUND' },
        });
      }
    });

    it('PUT /cron validates: an invalid expression is 400 with the reason; null restores', async () => {
      const bad = await call('PUT', `api/schedules/${jobId}/cron`, { cron: '61 * * * *' });
      expect(bad.status).toBe(400);
      expect(bad.json.code).toBe('INVALID_ARGUMENT');
      expect(bad.json.error).toMatch(/cron/i);
      expect((await call('PUT', `api/schedules/${jobId}/cron`, { cron: 'every day' })).status).toBe(400);
      expect((await call('PUT', `api/schedules/${jobId}/cron`, { cron: 5 })).status).toBe(400);
      expect((await call('PUT', `api/schedules/${jobId}/cron`, {})).status).toBe(400);
      expect((await call('PUT', `api/schedules/${jobId}/cron`, '{oops')).status).toBe(400);
      const ok = await call('PUT', `api/schedules/${jobId}/cron`, { cron: '*/5 * * * *' });
      expect(ok).toMatchObject({ status: 200, json: { cron: '*/5 * * * *', cronOverride: '*/5 * * * *' } });
      const restored = await call('PUT', `api/schedules/${jobId}/cron`, { cron: null });
      expect(restored.json).toMatchObject({ cron: '0 3 * * *', cronOverride: null });
      expect((await call('PUT', 'api/schedules/flow-nope-x/cron', { cron: '* * * * *' })).status).toBe(404);
    });
  });

  describe('webhooks', () => {
    it('POST /api/webhook/{slug} verifies through webhook-hardening and starts a run; refusals land in the DLQ', async () => {
      const accepted = await call(
        'POST',
        'api/webhook/orders-hook',
        { from: 'partner' },
        { 'x-webhook-key': SECRETS.sharedKey },
      );
      expect(accepted.status).toBe(200);
      expect(accepted.json).toEqual({
        runId: expect.any(String),
        message: "Flow 'Orders' triggered via webhook.",
      });
      const run = await settle(accepted.json.runId);
      expect(run).toMatchObject({ triggerKey: 'hook', triggerData: { from: 'partner' } });
      const refused = await call(
        'POST',
        'api/webhook/orders-hook',
        { from: 'attacker' },
        { 'x-webhook-key': 'wrong' },
      );
      expect(refused).toMatchObject({ status: 401, json: { error: 'Webhook rejected.' } });
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const signed = signWebhook(BUILT_IN_SCHEMES.GitHub!, SECRETS.hmacKey, { body });
      const github = await fetch(`${served.url}api/webhook/github`, {
        method: 'POST',
        body,
        headers: signed,
      });
      expect(github.status).toBe(200);
      const forged = await fetch(`${served.url}api/webhook/github`, {
        method: 'POST',
        body,
        headers: signWebhook(BUILT_IN_SCHEMES.GitHub!, 'not-the-key', { body }),
      });
      expect(forged.status).toBe(401);
      expect((await call('GET', 'api/webhook/github', undefined, {})).status).toBe(405);
    });

    it('GET /api/webhooks/recent pages deliveries and dead letters; GET /stats counts by reason', async () => {
      const recent = await get('api/webhooks/recent?take=10');
      expect(recent.status).toBe(200);
      expect(recent.json).toMatchObject({ skip: 0, take: 10, total: 4 });
      const dead = await get('api/webhooks/recent?accepted=false');
      expect(dead.json.total).toBe(2);
      expect(dead.json.items.map((d: { reason: string }) => d.reason).sort()).toEqual([
        'digest_mismatch',
        'shared_key_invalid',
      ]);
      const item = dead.json.items.find((d: { reason: string }) => d.reason === 'digest_mismatch');
      expect(item).toMatchObject({
        id: expect.any(Number),
        accepted: false,
        statusCode: 401,
        triggerKey: 'push',
        bodyExcerpt: expect.stringContaining('refs/heads/main'),
        headers: expect.objectContaining({ 'x-hub-signature-256': '[redacted]' }),
      });
      expect((await get('api/webhooks/recent?rejected=false')).json.total).toBe(2);
      expect((await get('api/webhooks/recent?reason=DIGEST_MISMATCH')).json.total).toBe(1);
      expect((await get('api/webhooks/recent?flowId=orders')).json.total).toBe(2);
      expect((await get('api/webhooks/recent?take=100000')).json.take).toBe(500);
      expect((await get('api/webhooks/recent?accepted=maybe')).status).toBe(400);
      expect((await get('api/webhooks/recent?skip=-3')).status).toBe(400);
      const stats = await get('api/webhooks/stats');
      expect(stats.json).toEqual({
        windowMs: 86_400_000,
        rejectedByReason: { digest_mismatch: 1, shared_key_invalid: 1 },
        rejectedInWindow: 2,
        acceptedTotal: 2,
        rejectedTotal: 2,
      });
      expect((await get('api/webhooks/stats?windowMs=0')).status).toBe(400);
      expect((await get('api/webhooks/stats?windowMs=60000')).json.windowMs).toBe(60_000);
    });
  });

  describe('health', () => {
    it('GET /health/live and /health/ready (storage ping, schema current)', async () => {
      expect(await call('GET', 'health/live', undefined, {})).toMatchObject({
        status: 200,
        json: { status: 'live' },
      });
      const ready = await call('GET', 'health/ready', undefined, {});
      expect(ready.status).toBe(200);
      expect(ready.json).toEqual({
        status: 'ready',
        storage: { status: 'healthy', latencyMs: expect.any(Number) },
        schema: { current: expect.any(Number), expected: expect.any(Number), upToDate: true },
      });
    });
  });

  describe('no secrets', () => {
    it('credential headers of a run are redacted', async () => {
      const run = await orchestrator.trigger('orders', {
        data: { n: 1 },
        headers: { Authorization: SECRETS.bearer, 'X-Api-Key': SECRETS.apiKey, 'X-Request-Id': 'r-1' },
      });
      const detail = await get(`api/runs/${run.runId}`);
      expect(detail.json.triggerHeaders).toEqual({
        authorization: '[redacted]',
        'x-api-key': '[redacted]',
        'x-request-id': 'r-1',
      });
      await settle(run.runId!);
    });

    it('no response body of this file carried a webhook key, an HMAC secret, a password or an Authorization header', () => {
      expect(bodies.length).toBeGreaterThan(100);
      for (const secret of Object.values(SECRETS)) {
        for (const body of bodies) expect(body.includes(secret.replace(/^Bearer /, ''))).toBe(false);
      }
    });
  });
});
