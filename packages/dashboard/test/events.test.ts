// Live events: the event-log cursor (out-of-order commits), and the SSE stream across two
// replicas on PostgreSQL with heartbeat and Last-Event-ID resume.
import {
  createFlowClient,
  type FlowClient,
  type FlowDefinition,
  type FlowOrchestrator,
  type FlowStorage,
  type StoredEventView,
  silentLogger,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import type { PostgresStorage } from '@floworch/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, EventLogCursor, type ServedDashboard, serveDashboard } from '../src/index.js';
import { isolatedSchema, openSse, pgSource, pgUrl, sleep, startOrchestrator, storageOn } from './support.js';

/** A log whose rows become visible when the test says so (commits in any order). */
function fakeLog() {
  const visible = new Map<number, StoredEventView>();
  const row = (sequence: number, ageMs = 0): StoredEventView => ({
    sequence,
    runId: 'r',
    timestamp: new Date(Date.now() - ageMs),
    type: `e${sequence}`,
    stepKey: null,
    message: null,
  });
  const client: Pick<FlowClient, 'readEventLog'> = {
    async readEventLog(query = {}) {
      return [...visible.values()]
        .filter((e) => e.sequence > (query.after ?? 0))
        .sort((a, b) => a.sequence - b.sequence)
        .slice(0, query.take ?? 200);
    },
  };
  return {
    client,
    commit: (...sequences: number[]) => {
      for (const s of sequences) visible.set(s, row(s));
    },
    commitOld: (sequence: number, ageMs: number) => visible.set(sequence, row(sequence, ageMs)),
  };
}

const seqs = (events: StoredEventView[]) => events.map((e) => e.sequence);

describe('EventLogCursor', () => {
  it('delivers an event that commits after a later one, and resumes from the watermark without losing it', async () => {
    const log = fakeLog();
    let now = 1_000;
    const cursor = new EventLogCursor(log.client, { after: 0, gapGraceMs: 5_000, now: () => now });
    log.commit(1, 2, 4, 5);
    expect(seqs(await cursor.read())).toEqual([1, 2, 4, 5]);
    expect(cursor.watermark).toBe(2); // 3 may still commit
    expect(await cursor.read()).toEqual([]);
    log.commit(3, 6);
    expect(seqs(await cursor.read())).toEqual([3, 6]);
    expect(cursor.watermark).toBe(6);
    // A hole nobody fills (a rolled-back insert) is given up after the grace period.
    log.commit(8);
    expect(seqs(await cursor.read())).toEqual([8]);
    expect(cursor.watermark).toBe(6);
    now += 4_000;
    await cursor.read();
    expect(cursor.watermark).toBe(6);
    now += 2_000;
    await cursor.read();
    expect(cursor.watermark).toBe(8);
    // A late commit below the watermark of a *new* cursor resumed from it is still seen.
    log.commit(10, 11);
    const resumed = new EventLogCursor(log.client, { after: cursor.watermark, now: () => now });
    expect(seqs(await resumed.read())).toEqual([10, 11]);
  });

  it('skips holes below events written long ago at once (a backlog read on resume)', async () => {
    const log = fakeLog();
    log.commitOld(3, 60_000);
    log.commitOld(7, 60_000);
    const cursor = new EventLogCursor(log.client, { after: 0, gapGraceMs: 1_000 });
    expect(seqs(await cursor.read())).toEqual([3, 7]);
    expect(cursor.watermark).toBe(7);
  });

  it('reads past a full page in one call', async () => {
    const log = fakeLog();
    log.commit(...Array.from({ length: 25 }, (_, i) => i + 1));
    const cursor = new EventLogCursor(log.client, { after: 5, take: 10 });
    expect(seqs(await cursor.read())).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    expect(cursor.watermark).toBe(25);
  });
});

describe('event stream without a global event log', () => {
  it('answers 501', async () => {
    const storage = createInMemoryStorage();
    const bare = { ...storage, events: { getRunEvents: storage.events.getRunEvents } } as FlowStorage;
    const dashboard = createDashboard({
      client: createFlowClient({ storage: bare, flows: [], logger: silentLogger }),
      auth: false,
      logger: silentLogger,
    });
    const response = await dashboard.fetch(new Request('http://x/flows/api/events/stream'));
    expect(response.status).toBe(501);
    expect(await response.json()).toMatchObject({ code: 'CAPABILITY_MISSING' });
    const resumed = await dashboard.fetch(
      new Request('http://x/flows/api/events/stream', { headers: { 'last-event-id': '5' } }),
    );
    expect(resumed.status).toBe(501);
  });
});

const flows: FlowDefinition[] = [
  {
    id: 'relay',
    name: 'Relay',
    steps: {
      first: { type: 'Work' },
      second: { type: 'Work', runAfter: { first: ['Succeeded'] } },
    },
  },
];

const suite = pgUrl ? describe : describe.skip;

suite(`event stream across replicas on PostgreSQL (${pgSource})`, () => {
  let drop: () => Promise<void>;
  let storageA: PostgresStorage;
  let storageB: PostgresStorage;
  let replicaB: FlowOrchestrator;
  let served: ServedDashboard;
  let quick: ServedDashboard;

  beforeAll(async () => {
    const isolated = await isolatedSchema('dash_sse');
    drop = isolated.drop;
    storageB = await storageOn(isolated.schema);
    storageA = await storageOn(isolated.schema);
    // Replica B executes; replica A only serves the dashboard (a client that executes nothing).
    replicaB = await startOrchestrator(storageB, flows, {
      Work: async () => {
        await sleep(30);
        return 'done';
      },
    });
    const clientA = createFlowClient({ storage: storageA, logger: silentLogger });
    // Polling every 30 s: anything that arrives sooner was woken by LISTEN/NOTIFY.
    served = await serveDashboard(
      createDashboard({
        client: clientA,
        logger: silentLogger,
        events: { pollIntervalMs: 30_000, heartbeatMs: 30_000 },
      }),
      { port: 0 },
    );
    quick = await serveDashboard(
      createDashboard({
        client: clientA,
        logger: silentLogger,
        events: { heartbeatMs: 150, pollIntervalMs: 100 },
      }),
      { port: 0 },
    );
  });

  afterAll(async () => {
    await served?.close();
    await quick?.close();
    await replicaB?.stop();
    await storageA?.close();
    await storageB?.close();
    await drop?.();
  });

  it('an event of a run executed by replica B reaches an SSE client connected to replica A', async () => {
    const stream = await openSse(`${served.url}api/events/stream`);
    try {
      const ready = await stream.next((m) => m.event === 'ready');
      expect(JSON.parse(ready.data)).toEqual({ lastEventId: expect.any(Number) });
      const run = await replicaB.trigger('relay', { data: { n: 1 } });
      const started = Date.now();
      const completed = await stream.next((m) => JSON.parse(m.data).type === 'run.completed', 10_000);
      // Woken by the notification of the closing transition, not by the 30 s poll.
      expect(Date.now() - started).toBeLessThan(8_000);
      const ofRun = stream.messages.filter((m) => m.event === 'message').map((m) => JSON.parse(m.data));
      expect(ofRun.every((e) => e.runId === run.runId)).toBe(true);
      expect(ofRun.map((e) => (e.type.startsWith('step.') ? `${e.type}:${e.stepKey}` : e.type))).toEqual([
        'run.started',
        'step.started:first',
        'step.completed:first',
        'step.started:second',
        'step.completed:second',
        'run.completed',
      ]);
      expect(JSON.parse(completed.data)).toEqual({
        sequence: expect.any(Number),
        runId: run.runId,
        timestamp: expect.any(String),
        type: 'run.completed',
        stepKey: expect.toSatisfy((k: unknown) => k === null || typeof k === 'string'),
        message: expect.any(String),
      });
      // Ids are resume points, increasing.
      const ids = stream.messages.filter((m) => m.event === 'message').map((m) => Number(m.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    } finally {
      stream.close();
    }
  });

  it('resumes after Last-Event-ID (header or query) without missing or repeating events', async () => {
    const first = await openSse(`${quick.url}api/events/stream`);
    const run = await replicaB.trigger('relay', { data: { n: 2 } });
    await first.next(
      (m) =>
        m.event === 'message' &&
        JSON.parse(m.data).runId === run.runId &&
        JSON.parse(m.data).type === 'run.completed',
    );
    first.close();
    const mine = first.messages.filter(
      (m) => m.event === 'message' && JSON.parse(m.data).runId === run.runId,
    );
    const cut = mine[1]!; // after step.started:first
    const resumed = await openSse(`${quick.url}api/events/stream`, { 'last-event-id': cut.id! });
    try {
      await resumed.next(
        (m) =>
          m.event === 'message' &&
          JSON.parse(m.data).type === 'run.completed' &&
          JSON.parse(m.data).runId === run.runId,
      );
      const again = resumed.messages
        .filter((m) => m.event === 'message')
        .map((m) => JSON.parse(m.data))
        .filter((e) => e.runId === run.runId);
      expect(again.map((e) => e.type)).toEqual([
        'step.completed',
        'step.started',
        'step.completed',
        'run.completed',
      ]);
    } finally {
      resumed.close();
    }
    const byQuery = await openSse(
      `${quick.url}api/events/stream?lastEventId=${mine[4]!.id}&runId=${run.runId}`,
    );
    try {
      const last = await byQuery.next((m) => m.event === 'message');
      expect(JSON.parse(last.data).type).toBe('run.completed');
    } finally {
      byQuery.close();
    }
    const bad = await fetch(`${quick.url}api/events/stream`, { headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
  });

  it('filters by run and sends heartbeats on an idle stream', async () => {
    const other = await replicaB.trigger('relay', { data: { n: 3 } });
    const stream = await openSse(`${quick.url}api/events/stream?runId=${crypto.randomUUID()}`);
    try {
      await stream.comment(/^heartbeat /, 5_000);
      await replicaB.client.waitForRun(other.runId!, { timeoutMs: 10_000 });
      await sleep(300);
      expect(stream.messages.filter((m) => m.event === 'message')).toEqual([]);
      expect(stream.comments.filter((c) => c.startsWith('heartbeat')).length).toBeGreaterThanOrEqual(1);
    } finally {
      stream.close();
    }
  });

  it('close() ends open streams', async () => {
    const dashboard = createDashboard({ client: replicaB.client, logger: silentLogger });
    const server = await serveDashboard(dashboard, { port: 0 });
    const stream = await openSse(`${server.url}api/events/stream`);
    await stream.next((m) => m.event === 'ready');
    await server.close();
    stream.close();
  });
});
