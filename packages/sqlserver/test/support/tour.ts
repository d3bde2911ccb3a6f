import { ManualClock } from '@floworch/core';
import { guardStorage } from '@floworch/core/backend';
import { SqlServerControlStore } from '../../src/stores/control-store.js';
import { SqlServerFlowStore } from '../../src/stores/flow-store.js';
import { SqlServerOutputs } from '../../src/stores/outputs.js';
import { SqlServerQueueStore } from '../../src/stores/queue-store.js';
import { SqlServerRetentionStore } from '../../src/stores/retention.js';
import { SqlServerRunStore } from '../../src/stores/run-store.js';
import { SqlServerRuntimeStore } from '../../src/stores/runtime-store.js';
import { SqlServerScheduleStore } from '../../src/stores/schedule-store.js';
import { SqlServerSignalStore } from '../../src/stores/signal-store.js';
import {
  SqlServerWebhookRejectionStore,
  SqlServerWebhookReplayStore,
} from '../../src/stores/webhook-stores.js';
import { FLOW, type Recorded, type Responder, RUN, recordingContext, T0, T0_LEASE } from './recording-db.js';

/** Every store of the backend over one recording context. */
export function storesOver(responder?: Responder) {
  const ctx = recordingContext(responder, new ManualClock(T0));
  return {
    ctx,
    flows: new SqlServerFlowStore(ctx),
    runs: new SqlServerRunStore(ctx),
    runtime: new SqlServerRuntimeStore(ctx),
    queue: new SqlServerQueueStore(ctx),
    control: new SqlServerControlStore(ctx),
    outputs: new SqlServerOutputs(ctx),
    retention: new SqlServerRetentionStore(ctx),
    signals: new SqlServerSignalStore(ctx),
    schedules: new SqlServerScheduleStore(ctx),
    replay: new SqlServerWebhookReplayStore(ctx),
    rejections: new SqlServerWebhookRejectionStore(ctx),
  };
}

/**
 * The same stores behind the storage guard, as the backend ships them: argument checks and paging
 * clamps happen there, before a store builds a statement.
 */
export function guardedStoresOver(responder?: Responder) {
  const s = storesOver(responder);
  const storage = guardStorage({
    name: 'sqlserver',
    clock: s.ctx.clock,
    capabilities: [],
    close: async () => {},
    flows: s.flows,
    runs: s.runs,
    outputs: s.outputs,
    runtime: s.runtime,
    queue: s.queue,
    control: s.control,
    retention: s.retention,
    events: s.outputs,
    signals: s.signals,
    schedules: s.schedules,
    webhookReplay: s.replay,
    webhookRejections: s.rejections,
  });
  return { ctx: s.ctx, storage };
}

type Stores = ReturnType<typeof storesOver>;

/** Every public method of every store, called once with typical arguments. */
export const TOUR: ReadonlyArray<[string, (s: Stores) => Promise<unknown>]> = [
  ['flows.getAll', (s) => s.flows.getAll()],
  ['flows.getById', (s) => s.flows.getById(FLOW)],
  ['flows.save', (s) => s.flows.save({ id: FLOW, name: 'flow', manifestJson: '{}' })],
  ['flows.delete', (s) => s.flows.delete(FLOW)],
  ['flows.setEnabled', (s) => s.flows.setEnabled(FLOW, false)],
  [
    'runs.startRun',
    (s) => s.runs.startRun({ runId: RUN, flowId: FLOW, flowName: 'flow', triggerKey: 'manual', jobId: 'j' }),
  ],
  ['runs.getDerivedRuns', (s) => s.runs.getDerivedRuns(RUN)],
  ['runs.recordStepStart', (s) => s.runs.recordStepStart({ runId: RUN, stepKey: 's', stepType: 'Work' })],
  [
    'runs.recordStepStart(fenced)',
    (s) => s.runs.recordStepStart({ runId: RUN, stepKey: 's', stepType: 'Work', owner: 'w1' }),
  ],
  [
    'runs.recordStepComplete',
    (s) => s.runs.recordStepComplete({ runId: RUN, stepKey: 's', status: 'Succeeded', outputJson: '1' }),
  ],
  [
    'runs.recordStepComplete(fenced)',
    (s) => s.runs.recordStepComplete({ runId: RUN, stepKey: 's', status: 'Failed', owner: 'w1' }),
  ],
  ['runs.completeRun', (s) => s.runs.completeRun(RUN, 'Succeeded')],
  ['runs.completeRunIfActive', (s) => s.runs.completeRunIfActive(RUN, 'Failed')],
  ['runs.getRuns', (s) => s.runs.getRuns({ flowId: FLOW, skip: 1, take: 2 })],
  [
    'runs.getRunsPage',
    (s) => s.runs.getRunsPage({ flowId: FLOW, status: 'failed', search: '100%_[x]\\', skip: 0, take: 10 }),
  ],
  ['runs.getRunDetail', (s) => s.runs.getRunDetail(RUN)],
  ['runs.getStatistics', (s) => s.runs.getStatistics()],
  [
    'runs.getRunTimeseries',
    (s) =>
      s.runs.getRunTimeseries({
        granularity: 'Hour',
        since: new Date(T0.getTime() - 3_600_000),
        until: T0,
        flowId: FLOW,
      }),
  ],
  ['runs.getActiveRuns', (s) => s.runs.getActiveRuns()],
  ['runs.getActiveRuns(limit)', (s) => s.runs.getActiveRuns(5)],
  ['runs.retryStep', (s) => s.runs.retryStep(RUN, 's')],
  ['runs.resetCascadeSkippedDependents', (s) => s.runs.resetCascadeSkippedDependents(RUN, ['a', 'b'])],
  ['runs.tryRecordDispatch', (s) => s.runs.tryRecordDispatch(RUN, 's')],
  ['runs.annotateDispatch', (s) => s.runs.annotateDispatch(RUN, 's', 'job-1')],
  ['runs.releaseDispatch', (s) => s.runs.releaseDispatch(RUN, 's')],
  ['runs.getDispatchedStepKeys', (s) => s.runs.getDispatchedStepKeys(RUN)],
  ['runtime.getStepStatuses', (s) => s.runtime.getStepStatuses(RUN)],
  ['runtime.getClaimedStepKeys', (s) => s.runtime.getClaimedStepKeys(RUN)],
  ['runtime.getStepClaim', (s) => s.runtime.getStepClaim(RUN, 's')],
  ['runtime.tryClaimStep', (s) => s.runtime.tryClaimStep(RUN, 's')],
  [
    'runtime.tryClaimStep(lease)',
    (s) => s.runtime.tryClaimStep(RUN, 's', { owner: 'w1', durationMs: 30_000 }),
  ],
  ['runtime.renewStepClaim', (s) => s.runtime.renewStepClaim(RUN, 's', 'w1', 30_000)],
  ['runtime.releaseStepClaim', (s) => s.runtime.releaseStepClaim(RUN, 's')],
  ['runtime.releaseStepClaim(owner)', (s) => s.runtime.releaseStepClaim(RUN, 's', 'w1')],
  ['runtime.getExpiredClaims', (s) => s.runtime.getExpiredClaims(10)],
  ['runtime.recordSkippedStep', (s) => s.runtime.recordSkippedStep(RUN, 's', 'Work', 'why', '{"t":1}')],
  ['runtime.getRunStatus', (s) => s.runtime.getRunStatus(RUN)],
  [
    'queue.startRun',
    (s) =>
      s.queue.startRun({
        run: {
          runId: RUN,
          flowId: FLOW,
          flowName: 'flow',
          triggerKey: ' Webhook ',
          triggerDataJson: '{"a":1}',
        },
        triggerHeaders: { 'X-Trace': '1' },
        idempotencyKey: '  Key-A ',
        timeoutAt: T0_LEASE,
        events: [{ type: 'run.started', stepKey: '__run', message: 'started' }],
        entrySteps: ['a', 'b', 'c'],
        takeFor: { owner: 'w1', leaseMs: 30_000, limit: 2 },
      }),
  ],
  [
    'queue.startRun(plain)',
    (s) =>
      s.queue.startRun({
        run: { runId: RUN, flowId: FLOW, flowName: null, triggerKey: null },
        triggerHeaders: null,
        idempotencyKey: null,
        timeoutAt: null,
        events: [],
        entrySteps: ['a'],
      }),
  ],
  [
    'queue.transact',
    (s) =>
      s.queue.transact(RUN, async (tx) => {
        await tx.readOutput('s');
        tx.finish(
          's',
          { status: 'Succeeded', outputJson: '1', errorMessage: null, owner: 'w1' },
          { kind: 'done' },
        );
        tx.skip('t', { stepType: 'Work', reason: 'why', traceJson: '{"t":1}', force: true });
        tx.enqueue('u', { takeFor: { owner: 'w1', leaseMs: 30_000 } });
        tx.enqueue('v', { visibleAt: T0_LEASE, attempt: 2 });
        tx.saveOutput('s', { a: 1 });
        tx.event({ type: 'step.completed', stepKey: 's', message: 'done' });
        tx.markTimedOut('late');
        tx.close('Succeeded');
      }),
  ],
  ['queue.transact(retry)', (s) => s.queue.transact(RUN, async (tx) => tx.retry('s'))],
  ['queue.transact(read-only)', (s) => s.queue.transact(RUN, async (tx) => tx.runStatus)],
  ['queue.takeStep', (s) => s.queue.takeStep({ runId: RUN, stepKey: 's', owner: 'w1', leaseMs: 30_000 })],
  ['queue.listDue', (s) => s.queue.listDue({ dueBefore: T0, limit: 50 })],
  ['queue.take', (s) => s.queue.take({ owner: 'w1', limit: 5, leaseMs: 30_000 })],
  [
    'queue.startStep',
    (s) =>
      s.queue.startStep({
        runId: RUN,
        stepKey: 's',
        owner: 'w1',
        stepType: 'Work',
        inputJson: '{"x":1}',
        event: { type: 'step.started', message: 'go' },
      }),
  ],
  [
    'queue.startStep(no event)',
    (s) => s.queue.startStep({ runId: RUN, stepKey: 's', owner: 'w1', stepType: 'Work', inputJson: null }),
  ],
  ['queue.renew', (s) => s.queue.renew(RUN, 's', 'w1', 30_000)],
  ['queue.release', (s) => s.queue.release(RUN, 's', 'w1')],
  ['queue.release(later)', (s) => s.queue.release(RUN, 's', 'w1', T0_LEASE)],
  ['queue.wake', (s) => s.queue.wake(RUN, 's')],
  ['queue.nextVisibleAt', (s) => s.queue.nextVisibleAt()],
  [
    'control.configureRun',
    (s) => s.control.configureRun({ runId: RUN, flowId: FLOW, triggerKey: 'manual', timeoutAt: T0 }),
  ],
  ['control.getRunControl', (s) => s.control.getRunControl(RUN)],
  ['control.requestCancel', (s) => s.control.requestCancel(RUN, 'stop')],
  ['control.markTimedOut', (s) => s.control.markTimedOut(RUN)],
  ['control.extendDeadline', (s) => s.control.extendDeadline(RUN, T0)],
  ['control.getRunsPastDeadline', (s) => s.control.getRunsPastDeadline(10)],
  ['control.findRunIdByIdempotencyKey', (s) => s.control.findRunIdByIdempotencyKey(FLOW, 'Manual', ' K ')],
  [
    'control.tryRegisterIdempotencyKey',
    (s) => s.control.tryRegisterIdempotencyKey(FLOW, 'Manual', ' K ', RUN),
  ],
  ['outputs.saveStepOutput', (s) => s.outputs.saveStepOutput(RUN, 's', { a: 1 })],
  ['outputs.saveStepInput', (s) => s.outputs.saveStepInput(RUN, 's', { a: 1 })],
  ['outputs.saveTriggerData', (s) => s.outputs.saveTriggerData(RUN, { a: 1 })],
  ['outputs.saveTriggerHeaders', (s) => s.outputs.saveTriggerHeaders(RUN, { 'X-A': '1' })],
  ['outputs.getTriggerData', (s) => s.outputs.getTriggerData(RUN)],
  ['outputs.getTriggerHeaders', (s) => s.outputs.getTriggerHeaders(RUN)],
  ['outputs.getStepOutput', (s) => s.outputs.getStepOutput(RUN, 's')],
  ['outputs.getStepInput', (s) => s.outputs.getStepInput(RUN, 's')],
  ['outputs.recordEvent', (s) => s.outputs.recordEvent(RUN, { type: 'run.started' }, '__run')],
  ['events.getRunEvents', (s) => s.outputs.getRunEvents(RUN, { skip: 2, take: 5 })],
  ['retention.cleanup', (s) => s.retention.cleanup(T0, { batchSize: 100 })],
  ['signals.registerWaiter', (s) => s.signals.registerWaiter(RUN, 's', ' go ', null)],
  ['signals.deliverSignal', (s) => s.signals.deliverSignal(RUN, 'go', '{}')],
  ['signals.getWaiter', (s) => s.signals.getWaiter(RUN, 's')],
  ['signals.removeWaiter', (s) => s.signals.removeWaiter(RUN, 's')],
  ['schedules.get', (s) => s.schedules.get('job')],
  ['schedules.getAll', (s) => s.schedules.getAll()],
  ['schedules.save', (s) => s.schedules.save({ jobId: 'job', flowId: FLOW, triggerKey: 'cron' })],
  ['schedules.delete', (s) => s.schedules.delete('job')],
  ['webhookReplay.tryRegister', (s) => s.replay.tryRegister(FLOW, 'webhook', 'n-1', T0)],
  ['webhookReplay.purgeExpired', (s) => s.replay.purgeExpired()],
  [
    'webhookRejections.write',
    (s) =>
      s.rejections.write({
        flowId: FLOW,
        triggerKey: 'webhook',
        receivedAt: T0,
        remoteIp: '10.0.0.1',
        reason: 'nonce_seen',
        statusCode: 409,
        bodyBytes: 10,
        bodyTruncated: null,
        headersJson: null,
        scheme: null,
        processingMs: 1.5,
        isAccepted: false,
      }),
  ],
  ['webhookRejections.queryRecent', (s) => s.rejections.queryRecent(FLOW, 'NONCE_SEEN', false, 0, 20)],
  ['webhookRejections.query', (s) => s.rejections.query({ search: 'a_b', includeAccepted: false, take: 5 })],
  ['webhookRejections.countsByReason', (s) => s.rejections.countsByReason(3_600_000)],
  ['webhookRejections.purgeOlderThan', (s) => s.rejections.purgeOlderThan(T0)],
];

/** Runs the whole tour and returns the statements each method issued. */
export async function runTour(responder?: Responder): Promise<Map<string, Recorded[]>> {
  const stores = storesOver(responder);
  const byMethod = new Map<string, Recorded[]>();
  for (const [name, call] of TOUR) {
    const from = stores.ctx.log.length;
    await call(stores);
    byMethod.set(name, stores.ctx.log.slice(from));
  }
  return byMethod;
}
