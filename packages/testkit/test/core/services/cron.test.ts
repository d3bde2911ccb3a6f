import {
  type CronScheduler,
  createCronScheduler,
  cronJobId,
  type FlowOrchestrator,
  InvalidArgumentError,
  latestOccurrence,
  parseCron,
  silentLogger,
  validateCronExpression,
} from '@floworch/core';
import { FakeTimers } from '@floworch/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cronFlow,
  fakeTimeStorage,
  recordingLogger,
  runsOf,
  startOrchestrator,
  T0,
  waitForRun,
} from './support.js';

const cleanup: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of cleanup.splice(0).reverse()) await item.stop();
});
const track = <T extends { stop(): Promise<void> }>(item: T): T => {
  cleanup.push(item);
  return item;
};

async function setup(cron: string, extra: Parameters<typeof cronFlow>[1] = {}) {
  const { clock, storage } = fakeTimeStorage();
  const flow = cronFlow(cron, extra);
  const orchestrator = track(await startOrchestrator(storage, [flow]));
  const timers = new FakeTimers();
  const scheduler = track(
    createCronScheduler({ orchestrator, storage, flows: [flow], timers, logger: silentLogger }),
  );
  await scheduler.start();
  const jobId = cronJobId(flow.id, extra.triggerKey ?? 'every');
  return { clock, storage, flow, orchestrator, timers, scheduler, jobId };
}

const at = (ms: number) => new Date(T0.getTime() + ms);

describe('cron expressions', () => {
  it('parses 5-field (minutes) and 6-field (seconds) expressions in UTC by default', () => {
    expect(parseCron('*/15 * * * *').next(T0)).toEqual(at(15 * 60_000));
    expect(parseCron('*/10 * * * * *').next(T0)).toEqual(at(10_000));
    expect(parseCron('0 9 * * *').timezone).toBe('UTC');
  });

  it('rejects invalid expressions with croner’s message', () => {
    expect(() => validateCronExpression('every day')).toThrow(InvalidArgumentError);
    expect(() => validateCronExpression('every day')).toThrow(/exactly five or six space separated parts/);
    expect(() => validateCronExpression('61 * * * *')).toThrow(/Invalid value for minute: 61/);
    expect(() => validateCronExpression('   ')).toThrow(/required/);
    expect(() => validateCronExpression('0 9 * * *', 'Mars/Olympus')).toThrow(/Invalid time zone/);
  });

  it('finds the latest occurrence at or before now', () => {
    const everySecond = parseCron('* * * * * *');
    expect(latestOccurrence(everySecond, at(1_000), at(9_500))).toEqual(at(9_000));
    const hourly = parseCron('0 * * * *');
    expect(latestOccurrence(hourly, at(3_600_000), at(5 * 3_600_000 + 10))).toEqual(at(5 * 3_600_000));
    expect(latestOccurrence(hourly, at(3_600_000), at(3_600_000))).toEqual(at(3_600_000));
  });
});

describe('cron scheduler: firing', () => {
  it('fires on schedule, once per tick, stamping the job id and trigger key on the run', async () => {
    const { clock, storage, flow, scheduler, jobId } = await setup('*/5 * * * * *');
    expect(jobId).toBe(`flow-${flow.id.toLowerCase()}-every`);
    expect(scheduler.jobs()[0]?.nextExecution).toEqual(at(5_000));

    expect(await scheduler.tick()).toEqual([]);
    clock.advance(4_999);
    expect(await scheduler.tick()).toEqual([]);
    clock.advance(1);
    const fired = await scheduler.tick();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ jobId, scheduledFor: at(5_000), state: 'Succeeded' });
    expect(await scheduler.tick()).toEqual([]);

    const run = await waitForRun(storage, fired[0]?.runId as string);
    expect(run).toMatchObject({ status: 'Succeeded', triggerKey: 'every', backgroundJobId: jobId });
    expect(scheduler.jobs()[0]).toMatchObject({
      nextExecution: at(10_000),
      lastExecution: at(5_000),
      lastRunId: run.id,
      lastJobState: 'Succeeded',
    });
    expect(await runsOf(storage, flow.id)).toHaveLength(1);
  });

  it('skips missed ticks: a late wake-up fires only the latest one', async () => {
    const { clock, storage, flow, scheduler } = await setup('* * * * *');
    clock.advance(10 * 60_000 + 30_000);
    const fired = await scheduler.tick();
    expect(fired.map((f) => f.scheduledFor)).toEqual([at(10 * 60_000)]);
    expect(scheduler.jobs()[0]?.nextExecution).toEqual(at(11 * 60_000));
    expect(await runsOf(storage, flow.id)).toHaveLength(1);
  });

  it('evaluates the expression in the trigger’s IANA time zone', async () => {
    const paris = await setup('0 9 * * *', { timezone: 'Europe/Paris' });
    expect(paris.scheduler.jobs()[0]).toMatchObject({
      timezone: 'Europe/Paris',
      nextExecution: new Date('2030-01-01T08:00:00Z'),
    });
    paris.clock.set(new Date('2030-01-01T07:59:59Z'));
    expect(await paris.scheduler.tick()).toEqual([]);
    paris.clock.set(new Date('2030-01-01T08:00:00Z'));
    expect(await paris.scheduler.tick()).toHaveLength(1);

    // Summer time moves the UTC instant.
    const ny = await setup('30 6 * * *', { timezone: 'America/New_York' });
    ny.clock.set(new Date('2030-07-01T00:00:00Z'));
    await ny.scheduler.stop();
    await ny.scheduler.start();
    expect(ny.scheduler.jobs()[0]?.nextExecution).toEqual(new Date('2030-07-01T10:30:00Z'));
  });

  it('is driven by the injected timers, sleeping at most until the next due tick', async () => {
    const { clock, storage, flow, timers, scheduler } = await setup('* * * * * *');
    expect(timers.delays()).toEqual([1_000]);
    clock.advance(1_000);
    timers.fireAll();
    await vi.waitFor(async () => expect(await runsOf(storage, flow.id)).toHaveLength(1));
    await vi.waitFor(() => expect(timers.delays()).toEqual([1_000]));
    await scheduler.stop();
    expect(timers.delays()).toEqual([]);
  });

  it('refuses to fire a disabled flow and records why', async () => {
    const { clock, storage, flow, orchestrator, scheduler } = await setup('* * * * * *');
    await orchestrator.setFlowEnabled(flow.id, false);
    clock.advance(1_000);
    expect((await scheduler.tick())[0]).toMatchObject({ state: 'Disabled', runId: null });
    expect(scheduler.jobs()[0]?.lastJobState).toBe('Disabled');
    expect(await runsOf(storage, flow.id)).toHaveLength(0);
  });

  it('logs a failing trigger, keeps the schedule and never throws from tick', async () => {
    const { clock, storage } = fakeTimeStorage();
    const flow = cronFlow('* * * * * *');
    const logger = recordingLogger();
    const orchestrator = { trigger: vi.fn().mockRejectedValue(new Error('database is down')) };
    const scheduler = track(
      createCronScheduler({ orchestrator, storage, flows: [flow], timers: new FakeTimers(), logger }),
    );
    await scheduler.start();
    clock.advance(1_000);
    expect((await scheduler.tick())[0]).toMatchObject({ state: 'Failed', runId: null });
    expect(scheduler.jobs()[0]).toMatchObject({
      lastJobState: 'Failed',
      lastError: 'database is down',
      nextExecution: at(2_000),
    });
    expect(logger.lines.some((l) => l.level === 'error' && l.message.includes('trigger failed'))).toBe(true);
  });
});

describe('cron scheduler: invalid expressions', () => {
  const stubOrchestrator = { trigger: vi.fn() } as unknown as FlowOrchestrator;

  it('start() rejects with croner’s message and names the trigger', async () => {
    const { storage } = fakeTimeStorage();
    const flow = cronFlow('0 25 * * *');
    const scheduler = createCronScheduler({
      orchestrator: stubOrchestrator,
      storage,
      flows: [flow],
      timers: new FakeTimers(),
    });
    const error = await scheduler.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain("trigger 'every' in flow 'Nightly'");
    expect((error as Error).message).toContain('Invalid value for hour: 25');
    expect(await scheduler.tick()).toEqual([]);
  });

  it('start() rejects an unknown time zone', async () => {
    const { storage } = fakeTimeStorage();
    const flow = cronFlow('0 9 * * *', { timezone: 'Europe/Atlantis' });
    const scheduler = createCronScheduler({
      orchestrator: stubOrchestrator,
      storage,
      flows: [flow],
      timers: new FakeTimers(),
    });
    await expect(scheduler.start()).rejects.toThrow(/timezone.*Invalid time zone specified/);
  });

  it('setCron() rejects before storing anything', async () => {
    const { storage, flow, scheduler, jobId } = await setup('* * * * *');
    await expect(scheduler.setCron(flow.id, 'every', '*/0 * * *')).rejects.toThrow(InvalidArgumentError);
    await expect(scheduler.setCron(flow.id, 'every', 'x y z')).rejects.toThrow(
      /exactly five or six space separated parts/,
    );
    await expect(scheduler.setCron(flow.id, 'every', '  ')).rejects.toThrow(/required/);
    expect(await storage.schedules.get(jobId)).toBeNull();
    await expect(scheduler.setCron(flow.id, 'nope', '* * * * *')).rejects.toThrow(/no cron trigger 'nope'/);
  });
});

describe('cron scheduler: pause, resume, override', () => {
  it('pause stops firing and stores the cron in force; resume restarts from now', async () => {
    const { clock, storage, flow, scheduler, jobId } = await setup('* * * * * *');
    await scheduler.pause(flow.id, 'every');
    expect(await storage.schedules.get(jobId)).toMatchObject({
      jobId,
      flowId: flow.id,
      flowName: 'Nightly',
      triggerKey: 'every',
      isPaused: true,
      cronOverride: '* * * * * *',
    });
    expect(scheduler.jobs()[0]).toMatchObject({ isPaused: true, nextExecution: null });
    clock.advance(5_000);
    expect(await scheduler.tick()).toEqual([]);

    // "Trigger now" still works while paused and leaves the pause in place.
    const now = await scheduler.triggerNow(flow.id, 'every');
    expect(now.runId).toBeTruthy();
    expect(scheduler.jobs()[0]?.isPaused).toBe(true);

    await scheduler.resume(flow.id, 'every');
    expect(await storage.schedules.get(jobId)).toMatchObject({ isPaused: false });
    expect(scheduler.jobs()[0]?.nextExecution).toEqual(at(6_000));
    clock.advance(1_000);
    expect(await scheduler.tick()).toHaveLength(1);
    expect(await runsOf(storage, flow.id)).toHaveLength(2);
  });

  it('an override wins over the code’s cron, survives a restart, and can be cleared', async () => {
    const { clock, storage, flow, orchestrator, scheduler, jobId } = await setup('0 * * * *');
    await scheduler.setCron(flow.id, 'every', '*/10 * * * * *');
    expect(await storage.schedules.get(jobId)).toMatchObject({
      isPaused: false,
      cronOverride: '*/10 * * * * *',
    });
    expect(scheduler.jobs()[0]).toMatchObject({
      cron: '*/10 * * * * *',
      manifestCron: '0 * * * *',
      nextExecution: at(10_000),
    });
    clock.advance(10_000);
    expect(await scheduler.tick()).toHaveLength(1);

    // A restarted instance reads the stored override.
    await scheduler.stop();
    const restarted = track(
      createCronScheduler({ orchestrator, storage, flows: [flow], timers: new FakeTimers() }),
    );
    await restarted.start();
    expect(restarted.jobs()[0]).toMatchObject({ cron: '*/10 * * * * *', nextExecution: at(20_000) });

    // persistOverrides: false ignores stored state.
    const ignoring = track(
      createCronScheduler({
        orchestrator,
        storage,
        flows: [flow],
        timers: new FakeTimers(),
        persistOverrides: false,
      }),
    );
    await ignoring.start();
    expect(ignoring.jobs()[0]).toMatchObject({
      cron: '0 * * * *',
      cronOverride: null,
      nextExecution: at(3_600_000),
    });

    await restarted.setCron(flow.id, 'every', null);
    expect(await storage.schedules.get(jobId)).toMatchObject({ cronOverride: null });
    expect(restarted.jobs()[0]).toMatchObject({ cron: '0 * * * *', nextExecution: at(3_600_000) });
  });

  it('setCron on a paused trigger stores the override but keeps it paused', async () => {
    const { clock, flow, scheduler } = await setup('0 * * * *');
    await scheduler.pause(flow.id, 'every');
    await scheduler.setCron(flow.id, 'every', '* * * * * *');
    expect(scheduler.jobs()[0]).toMatchObject({ isPaused: true, cron: '* * * * * *', nextExecution: null });
    clock.advance(3_000);
    expect(await scheduler.tick()).toEqual([]);
    await scheduler.resume(flow.id, 'every');
    expect(scheduler.jobs()[0]?.nextExecution).toEqual(at(4_000));
  });

  it('a pause saved by another replica stops this one at its next due tick; sync() picks up resume', async () => {
    const { clock, storage } = fakeTimeStorage();
    const peer = storage.createPeer();
    const flow = cronFlow('* * * * * *');
    const a = track(await startOrchestrator(storage, [flow]));
    const b = track(await startOrchestrator(peer, [flow]));
    const schedA = track(
      createCronScheduler({ orchestrator: a, storage, flows: [flow], timers: new FakeTimers() }),
    );
    const schedB = track(
      createCronScheduler({ orchestrator: b, storage: peer, flows: [flow], timers: new FakeTimers() }),
    );
    await schedA.start();
    await schedB.start();

    await schedA.pause(flow.id, 'every');
    clock.advance(1_000);
    expect(await schedB.tick()).toEqual([]);
    expect(schedB.jobs()[0]?.isPaused).toBe(true);

    await schedA.resume(flow.id, 'every');
    await schedB.sync();
    expect(schedB.jobs()[0]).toMatchObject({ isPaused: false, nextExecution: at(2_000) });
    clock.advance(1_000);
    expect(await schedB.tick()).toHaveLength(1);
  });
  it('picks up another replica’s resume on its own within stateSyncIntervalMs', async () => {
    const { clock, storage } = fakeTimeStorage();
    const peer = storage.createPeer();
    const flow = cronFlow('* * * * * *');
    const a = track(await startOrchestrator(storage, [flow]));
    const b = track(await startOrchestrator(peer, [flow]));
    const schedA = track(
      createCronScheduler({ orchestrator: a, storage, flows: [flow], timers: new FakeTimers() }),
    );
    const schedB = track(
      createCronScheduler({
        orchestrator: b,
        storage: peer,
        flows: [flow],
        timers: new FakeTimers(),
        stateSyncIntervalMs: 10_000,
      }),
    );
    await schedA.start();
    await schedA.pause(flow.id, 'every');
    await schedB.start();
    expect(schedB.jobs()[0]?.isPaused).toBe(true);
    await schedA.resume(flow.id, 'every');
    clock.advance(5_000);
    expect(await schedB.tick()).toEqual([]);
    clock.advance(5_000);
    expect(await schedB.tick()).toEqual([]); // state synced now; next tick is planned from here
    expect(schedB.jobs()[0]).toMatchObject({ isPaused: false, nextExecution: at(11_000) });
    clock.advance(1_000);
    expect(await schedB.tick()).toHaveLength(1);
  });
});

describe('cron scheduler: replicas', () => {
  it('two replicas ticking the same second start exactly one run per tick over 10 ticks', async () => {
    const { clock, storage } = fakeTimeStorage();
    const peer = storage.createPeer();
    const flow = cronFlow('* * * * * *');
    const replicas: CronScheduler[] = [];
    for (const backend of [storage, peer]) {
      const orchestrator = track(await startOrchestrator(backend, [flow]));
      const scheduler = track(
        createCronScheduler({
          orchestrator,
          storage: backend,
          flows: [flow],
          timers: new FakeTimers(),
          logger: silentLogger,
        }),
      );
      await scheduler.start();
      replicas.push(scheduler);
    }

    for (let second = 1; second <= 10; second++) {
      clock.advance(1_000);
      const fired = (await Promise.all(replicas.map((r) => r.tick()))).flat();
      expect(fired).toHaveLength(2);
      expect(fired.every((f) => f.scheduledFor.getTime() === at(second * 1_000).getTime())).toBe(true);
      expect(fired.map((f) => f.state).sort()).toEqual(['Duplicate', 'Succeeded']);
      // Both replicas name the same run.
      expect(new Set(fired.map((f) => f.runId)).size).toBe(1);
    }

    const runs = await runsOf(storage, flow.id);
    expect(runs).toHaveLength(10);
    for (const run of runs) await waitForRun(storage, run.id);
    const keys = await Promise.all(
      runs.map(async (r) => (await storage.control.getRunControl(r.id))?.idempotencyKey),
    );
    const jobId = cronJobId(flow.id, 'every');
    expect(keys.sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `cron:${jobId}:${at((i + 1) * 1_000).toISOString()}`).sort(),
    );
  });
});
