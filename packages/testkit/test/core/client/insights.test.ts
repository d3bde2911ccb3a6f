import {
  CapabilityMissingError,
  createFlowClient,
  createFlowOrchestrator,
  type FlowDefinition,
  FlowNotFoundError,
  type FlowOrchestrator,
  type FlowStorage,
  InvalidArgumentError,
  ManualClock,
  RunNotFoundError,
  silentLogger,
  toFlowId,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { waitFor } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const running: FlowOrchestrator[] = [];
afterEach(async () => {
  for (const o of running.splice(0)) await o.stop();
});

const hello: FlowDefinition = {
  id: 'hello-flow',
  name: 'Hello',
  triggers: {
    manual: { type: 'Manual' },
    nightly: { type: 'Cron', inputs: { cronExpression: '0 3 * * *' } },
    hook: { type: 'Webhook', inputs: { webhookSlug: 'hello', webhookSecret: 's3cret' } },
  },
  steps: {
    greet: { type: 'Greet', inputs: { name: '@triggerBody().name' } },
    each: {
      type: 'ForEach',
      forEach: [1, 2],
      runAfter: { greet: ['Succeeded'] },
      steps: { child: { type: 'Child' } },
    } as FlowDefinition['steps'][string],
  },
};

const handlers = {
  Greet: ({ inputs }: { inputs: Record<string, unknown> }) => `hello ${String(inputs.name)}`,
  Child: () => 'child',
  Unused: () => 'never',
};

async function worker(storage: FlowStorage, flows: FlowDefinition[] = [hello]) {
  const orchestrator = createFlowOrchestrator({
    storage,
    flows,
    handlers,
    logger: silentLogger,
    maintenanceIntervalMs: 0,
    pollIntervalMs: 20,
    cron: false,
  });
  await orchestrator.start();
  running.push(orchestrator);
  return orchestrator;
}

describe('flow client: flows and step types', () => {
  it('lists flows with their stored state and manifest; getFlow by slug; Mermaid', async () => {
    const storage = createInMemoryStorage();
    const orchestrator = await worker(storage);
    const client = createFlowClient({ storage, logger: silentLogger });
    const flows = await client.listFlows();
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      id: toFlowId('hello-flow'),
      name: 'Hello',
      version: '1.0',
      isEnabled: true,
    });
    expect(flows[0]!.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(flows[0]!.manifest.triggers)).toEqual(['manual', 'nightly', 'hook']);
    await client.setFlowEnabled('hello-flow', false);
    expect((await client.getFlow('hello-flow')).isEnabled).toBe(false);
    await expect(client.getFlow('nope-flow')).rejects.toBeInstanceOf(FlowNotFoundError);
    const mermaid = await client.getFlowMermaid('hello-flow', { direction: 'LR' });
    expect(mermaid).toMatch(/^flowchart LR/);
    expect(mermaid).toContain('greet');
    // The orchestrator's own client knows no stored timestamps before start, but the same flows.
    expect((await orchestrator.client.listFlows()).map((f) => f.id)).toEqual([toFlowId('hello-flow')]);
  });

  it('lists step types with registration known only to an orchestrator', async () => {
    const storage = createInMemoryStorage();
    const orchestrator = await worker(storage);
    const local = await orchestrator.client.listStepTypes();
    expect(local.find((t) => t.type === 'Child')).toEqual({
      type: 'Child',
      flowIds: [toFlowId('hello-flow')],
      registered: true,
    });
    expect(local.find((t) => t.type === 'Unused')).toMatchObject({ flowIds: [], registered: true });
    const remote = await createFlowClient({ storage, logger: silentLogger }).listStepTypes();
    expect(remote.map((t) => t.type)).toEqual(['Child', 'ForEach', 'Greet']);
    expect(remote.every((t) => t.registered === null)).toBe(true);
  });
});

describe('flow client: runs at a glance', () => {
  it('statistics, timeseries, active runs, control and lineage', async () => {
    const storage = createInMemoryStorage();
    await worker(storage);
    const client = createFlowClient({ storage, logger: silentLogger });
    const run = await client.trigger('hello-flow', { data: { name: 'a' }, idempotencyKey: 'k-1' });
    await run.result({ timeoutMs: 5_000 });
    const stats = await client.getRunStatistics();
    expect(stats).toMatchObject({ totalFlows: 1, completedToday: 1, failedToday: 0 });
    const buckets = await client.getRunTimeseries();
    expect(buckets.length).toBeGreaterThanOrEqual(24);
    expect(buckets.reduce((n, b) => n + b.succeeded, 0)).toBe(1);
    const days = await client.getRunTimeseries({ granularity: 'Day', flowId: 'hello-flow' });
    expect(days.reduce((n, b) => n + b.total, 0)).toBe(1);
    await expect(client.getRunTimeseries({ granularity: 'Week' as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      client.getRunTimeseries({ since: new Date(), until: new Date(Date.now() - 1000) }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await client.listActiveRuns()).toEqual([]);

    const control = await client.getRunControl(run.runId!);
    expect(control).toMatchObject({ runId: run.runId, cancelRequested: false, idempotencyKey: 'k-1' });
    await expect(client.getRunControl(crypto.randomUUID())).rejects.toBeInstanceOf(RunNotFoundError);

    const again = await client.rerun(run.runId!);
    await again.result({ timeoutMs: 5_000 });
    const third = await client.rerun(again.runId!);
    await third.result({ timeoutMs: 5_000 });
    const lineage = await client.getRunLineage(third.runId!);
    expect(lineage.run.id).toBe(third.runId);
    expect(lineage.ancestors.map((r) => r.id)).toEqual([again.runId, run.runId]);
    expect((await client.getRunLineage(run.runId!)).derived.map((r) => r.id)).toEqual([again.runId]);
  });

  it('lists active runs newest first', async () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const storage = createInMemoryStorage({ clock });
    const client = createFlowClient({ storage, flows: [hello], logger: silentLogger });
    const first = await client.trigger('hello-flow', { data: { name: 'a' } });
    clock.advance(1_000);
    const second = await client.trigger('hello-flow', { data: { name: 'b' } });
    expect((await client.listActiveRuns()).map((r) => r.id)).toEqual([second.runId, first.runId]);
    expect(await client.listActiveRuns(1)).toHaveLength(1);
  });

  it('fires a cron trigger now with its key and job id', async () => {
    const storage = createInMemoryStorage();
    await worker(storage);
    const client = createFlowClient({ storage, logger: silentLogger });
    const run = await client.triggerSchedule('hello-flow', 'nightly');
    const done = await run.result({ timeoutMs: 5_000 });
    expect(done).toMatchObject({ triggerKey: 'nightly', jobId: `flow-${toFlowId('hello-flow')}-nightly` });
    await expect(client.triggerSchedule('hello-flow', 'manual')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('flow client: webhook deliveries', () => {
  it('pages deliveries with parsed headers and counts rejections by reason', async () => {
    const storage = createInMemoryStorage();
    const client = createFlowClient({ storage, flows: [hello], logger: silentLogger });
    const base = {
      flowId: toFlowId('hello-flow'),
      triggerKey: 'hook',
      receivedAt: new Date(),
      remoteIp: '127.0.0.1',
      bodyBytes: 2,
      headersJson: JSON.stringify({ 'content-type': 'application/json' }),
      scheme: 'Generic',
      processingMs: 1,
    };
    await storage.webhookRejections.write({
      ...base,
      reason: 'signature_mismatch',
      statusCode: 401,
      bodyTruncated: '{}',
      isAccepted: false,
    });
    await storage.webhookRejections.write({
      ...base,
      reason: '',
      statusCode: 200,
      bodyTruncated: null,
      isAccepted: true,
    });
    const page = await client.listWebhookDeliveries({ take: 10 });
    expect(page.total).toBe(2);
    expect(page.items[0]).toMatchObject({ accepted: true, reason: '' });
    expect(page.items[1]).toMatchObject({
      accepted: false,
      reason: 'signature_mismatch',
      bodyExcerpt: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const dead = await client.listWebhookDeliveries({ accepted: false, flowId: 'hello-flow' });
    expect(dead.items.map((d) => d.reason)).toEqual(['signature_mismatch']);
    expect(await client.getWebhookStats()).toEqual({
      windowMs: 86_400_000,
      rejectedByReason: { signature_mismatch: 1 },
      rejectedInWindow: 1,
      acceptedTotal: 1,
      rejectedTotal: 1,
    });
    await expect(client.getWebhookStats({ windowMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses webhook views on a backend without the contract', async () => {
    const storage = createInMemoryStorage();
    const bare = { ...storage, webhookRejections: undefined } as unknown as FlowStorage;
    const client = createFlowClient({ storage: bare, flows: [hello], logger: silentLogger });
    await expect(client.listWebhookDeliveries()).rejects.toBeInstanceOf(CapabilityMissingError);
  });
});

describe('flow client: event log and health', () => {
  it('reads the global event log after a cursor and wakes listeners on appends', async () => {
    const storage = createInMemoryStorage();
    await worker(storage);
    const client = createFlowClient({ storage, logger: silentLogger });
    const start = await client.lastEventSequence();
    let wakes = 0;
    const stop = client.onEventsAppended(() => wakes++);
    const run = await client.trigger('hello-flow', { data: { name: 'a' } });
    await run.result({ timeoutMs: 5_000 });
    await waitFor(() => wakes > 0, 'a wake-up for the appended events');
    stop();
    expect(wakes).toBeGreaterThan(0);
    const log = await client.readEventLog({ after: start });
    expect(log[0]).toMatchObject({ runId: run.runId, type: 'run.started', stepKey: null });
    expect(log.at(-1)).toMatchObject({ runId: run.runId, type: 'run.completed' });
    expect(await client.lastEventSequence()).toBe(log.at(-1)!.sequence);
    expect(await client.readEventLog({ after: log.at(-1)!.sequence })).toEqual([]);
    const bare = { ...storage, events: { getRunEvents: storage.events.getRunEvents } } as FlowStorage;
    const limited = createFlowClient({ storage: bare, flows: [hello], logger: silentLogger });
    await expect(limited.readEventLog()).rejects.toBeInstanceOf(CapabilityMissingError);
  });

  it('reports health with the schema status when the backend has one', async () => {
    const storage = createInMemoryStorage();
    const client = createFlowClient({ storage, logger: silentLogger });
    expect(await client.checkHealth()).toMatchObject({
      status: 'healthy',
      storage: { status: 'healthy' },
      schema: null,
    });
    const behind = {
      ...storage,
      schemaStatus: async () => ({ current: 1, expected: 2, upToDate: false }),
    } as FlowStorage;
    expect(await createFlowClient({ storage: behind, logger: silentLogger }).checkHealth()).toMatchObject({
      status: 'unhealthy',
      schema: { current: 1, expected: 2, upToDate: false },
    });
    const down = {
      ...storage,
      ping: async () => {
        throw new Error('connection refused');
      },
    } as FlowStorage;
    const report = await createFlowClient({ storage: down, logger: silentLogger }).checkHealth();
    expect(report.status).toBe('unhealthy');
    expect(report.storage.error).toContain('connection refused');
  });
});
