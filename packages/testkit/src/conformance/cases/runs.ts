import { SkipReasons } from '@floworch/core/backend';
import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { finishStep, fulfilled, pick, race, startRun, T0, uuid } from '../fixtures.js';

/** `FlowRunStore` run/step/attempt lifecycle cases. */
export const runCases: CaseGroup[] = [
  {
    name: 'runs',
    cases: [
      {
        id: 'runs.start.fields',
        title: 'startRun returns a Running record echoing every field, startedAt = now',
        run: async ({ storage }) => {
          const runId = uuid();
          const flowId = uuid();
          const source = uuid();
          const run = await storage.runs.startRun({
            runId,
            flowId,
            flowName: 'Orders',
            triggerKey: 'webhook',
            triggerDataJson: '{"orderId":42}',
            jobId: 'job-1',
            sourceRunId: source,
          });
          expect(run).toMatchObject({
            id: runId,
            flowId,
            flowName: 'Orders',
            status: 'Running',
            triggerKey: 'webhook',
            triggerDataJson: '{"orderId":42}',
            backgroundJobId: 'job-1',
            completedAt: null,
            sourceRunId: source,
          });
          expect(run.startedAt.getTime()).toBe(T0);
          expect(await storage.runs.getRunDetail(runId)).toMatchObject({
            id: runId,
            status: 'Running',
            sourceRunId: source,
          });
        },
      },
      {
        id: 'runs.start.duplicate-rejected',
        title: 'startRun with an existing id fails with DUPLICATE_RUN and leaves the first run intact',
        run: async ({ storage, clock }) => {
          const runId = uuid();
          await startRun(storage, { runId, flowName: 'First' });
          clock.advance(1000);
          await expect(startRun(storage, { runId, flowName: 'Second' })).rejects.toMatchObject({
            code: 'DUPLICATE_RUN',
          });
          const detail = await storage.runs.getRunDetail(runId);
          expect(detail!.flowName).toBe('First');
          expect(detail!.startedAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'runs.ids.uppercase-folded',
        title: 'upper-case run, flow and source ids are stored lower-case and found by either spelling',
        run: async ({ storage }) => {
          const runId = uuid().toUpperCase();
          const flowId = uuid().toUpperCase();
          const sourceRunId = uuid().toUpperCase();
          const lower = runId.toLowerCase();
          const started = await startRun(storage, { runId, flowId, sourceRunId });
          expect(started).toMatchObject({
            id: lower,
            flowId: flowId.toLowerCase(),
            sourceRunId: sourceRunId.toLowerCase(),
          });
          expect((await storage.runs.getRunDetail(runId))?.id).toBe(lower);
          expect((await storage.runs.getRunDetail(lower))?.id).toBe(lower);
          expect((await storage.runs.getRunsPage({ flowId })).totalCount).toBe(1);
          expect((await storage.runs.getRunsPage({ flowId: flowId.toLowerCase() })).totalCount).toBe(1);
          expect((await storage.runs.getDerivedRuns(sourceRunId.toLowerCase())).map((r) => r.id)).toEqual([
            lower,
          ]);
          await expect(startRun(storage, { runId: lower })).rejects.toMatchObject({ code: 'DUPLICATE_RUN' });
          await finishStep(storage, runId, 'a', 'Succeeded');
          await storage.outputs.saveStepOutput(runId, 'a', 'out');
          expect((await storage.runs.getRunDetail(lower))!.steps!.map((x) => x.stepKey)).toEqual(['a']);
          expect(await storage.outputs.getStepOutput(lower, 'a')).toBe('out');
          expect(await storage.runs.tryRecordDispatch(runId, 'a')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(lower, 'a')).toBe(false);

          const defId = uuid().toUpperCase();
          expect((await storage.flows.save({ id: defId, name: 'Upper' })).id).toBe(defId.toLowerCase());
          expect((await storage.flows.getById(defId.toLowerCase()))?.id).toBe(defId.toLowerCase());
          expect((await storage.flows.getById(defId))?.id).toBe(defId.toLowerCase());
          expect((await storage.flows.getAll()).map((f) => f.id)).toEqual([defId.toLowerCase()]);
        },
      },
      {
        id: 'runs.start.blank-id-rejected',
        title: 'startRun with an empty run id is INVALID_ARGUMENT; flows.save with an empty id too',
        run: async ({ storage }) => {
          const invalid = { code: 'INVALID_ARGUMENT' };
          await expect(startRun(storage, { runId: '' })).rejects.toMatchObject(invalid);
          await expect(storage.flows.save({ id: '', name: 'x' })).rejects.toMatchObject(invalid);
          expect((await storage.runs.getRunsPage()).totalCount).toBe(0);
          expect(await storage.flows.getAll()).toEqual([]);
        },
      },
      {
        id: 'runs.step-start.creates-running-and-attempt',
        title: 'recordStepStart creates a Running step with inputs and job id plus attempt #1',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          const ok = await storage.runs.recordStepStart({
            runId: run.id,
            stepKey: 'charge',
            stepType: 'ChargeCard',
            inputJson: '{"amount":5}',
            jobId: 'j-9',
          });
          expect(ok).toBe(true);
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step).toMatchObject({
            stepKey: 'charge',
            stepType: 'ChargeCard',
            status: 'Running',
            inputJson: '{"amount":5}',
            jobId: 'j-9',
            outputJson: null,
            errorMessage: null,
            completedAt: null,
            attemptCount: 1,
          });
          expect(step.startedAt.getTime()).toBe(T0);
          expect(step.attempts[0]).toMatchObject({
            attempt: 1,
            status: 'Running',
            stepType: 'ChargeCard',
            jobId: 'j-9',
          });
        },
      },
      {
        id: 'runs.step-complete.updates-step-and-latest-attempt',
        title: 'recordStepComplete sets status, output, error and completedAt on step and latest attempt',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T' });
          clock.advance(250);
          const ok = await storage.runs.recordStepComplete({
            runId: run.id,
            stepKey: 's',
            status: 'Failed',
            outputJson: '{"partial":true}',
            errorMessage: 'boom',
          });
          expect(ok).toBe(true);
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step).toMatchObject({
            status: 'Failed',
            outputJson: '{"partial":true}',
            errorMessage: 'boom',
          });
          expect(step.completedAt!.getTime()).toBe(T0 + 250);
          expect(step.attempts[0]).toMatchObject({
            status: 'Failed',
            outputJson: '{"partial":true}',
            errorMessage: 'boom',
          });
          expect(step.attempts[0]!.completedAt!.getTime()).toBe(T0 + 250);
        },
      },
      {
        id: 'runs.attempts.numbered-sequentially',
        title:
          'repeated start/complete gives attempts 1..N with their own statuses; the step shows the latest',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await finishStep(storage, run.id, 'poll', 'Pending');
          clock.advance(10);
          await finishStep(storage, run.id, 'poll', 'Failed', { errorMessage: 'e2' });
          clock.advance(10);
          await finishStep(storage, run.id, 'poll', 'Succeeded', { outputJson: '"done"' });
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step.attemptCount).toBe(3);
          expect(step.attempts.map((a) => [a.attempt, a.status])).toEqual([
            [1, 'Pending'],
            [2, 'Failed'],
            [3, 'Succeeded'],
          ]);
          expect(step.attempts[1]!.errorMessage).toBe('e2');
          expect(step).toMatchObject({ status: 'Succeeded', outputJson: '"done"', errorMessage: null });
        },
      },
      {
        id: 'runs.step-start.resets-previous-state',
        title: 'a new start clears output, error and completion and resets startedAt',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await finishStep(storage, run.id, 's', 'Failed', { outputJson: '1', errorMessage: 'bad' });
          clock.advance(3_000);
          await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T' });
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step).toMatchObject({
            status: 'Running',
            outputJson: null,
            errorMessage: null,
            completedAt: null,
          });
          expect(step.startedAt.getTime()).toBe(T0 + 3_000);
          expect(step.evaluationTraceJson).toBeNull();
        },
      },
      {
        id: 'runs.step-complete.never-started-noop',
        title: 'recordStepComplete for a never-started step returns false and creates nothing',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          // Other rows of the run exist (a ledger row, an output); the step row does not.
          await storage.runs.tryRecordDispatch(run.id, 'ghost');
          await storage.outputs.saveStepOutput(run.id, 'other', 1);
          const ok = await storage.runs.recordStepComplete({
            runId: run.id,
            stepKey: 'ghost',
            status: 'Succeeded',
          });
          expect(ok).toBe(false);
          expect((await storage.runs.getRunDetail(run.id))!.steps).toEqual([]);
          expect((await need(storage.runtime, 'runtime').getStepStatuses(run.id)).size).toBe(0);
        },
        requires: ['runtime'],
      },
      {
        id: 'runs.step-start.without-run-row',
        title: 'steps may be recorded for a run id whose run row does not exist yet',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runId = uuid();
          expect(await storage.runs.recordStepStart({ runId, stepKey: 'a', stepType: 'T' })).toBe(true);
          expect(await need(storage.runtime, 'runtime').getStepStatuses(runId)).toEqual(
            new Map([['a', 'Running']]),
          );
        },
      },
      {
        id: 'runs.complete.sets-status',
        title: 'completeRun sets status and completedAt',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          clock.advance(1234);
          await storage.runs.completeRun(run.id, 'Succeeded');
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.status).toBe('Succeeded');
          expect(detail!.completedAt!.getTime()).toBe(T0 + 1234);
        },
      },
      {
        id: 'runs.complete.unknown-noop',
        title: 'completeRun of an unknown run is a no-op',
        run: async ({ storage }) => {
          const id = uuid();
          await expect(storage.runs.completeRun(id, 'Failed')).resolves.toBeUndefined();
          expect(await storage.runs.getRunDetail(id)).toBeNull();
        },
      },
      {
        id: 'runs.complete.unconditional-overwrite',
        title: 'completeRun overwrites an already terminal status (re-open/admin path)',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await storage.runs.completeRun(run.id, 'Succeeded');
          clock.advance(10);
          await storage.runs.completeRun(run.id, 'Cancelled');
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.status).toBe('Cancelled');
          expect(detail!.completedAt!.getTime()).toBe(T0 + 10);
        },
      },
      {
        id: 'runs.complete-if-active.first-wins',
        title: 'completeRunIfActive: only the first terminal status wins and returns true',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          clock.advance(50);
          expect(await storage.runs.completeRunIfActive(run.id, 'Succeeded')).toBe(true);
          clock.advance(50);
          expect(await storage.runs.completeRunIfActive(run.id, 'Cancelled')).toBe(false);
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.status).toBe('Succeeded');
          expect(detail!.completedAt!.getTime()).toBe(T0 + 50);
        },
      },
      {
        id: 'runs.complete-if-active.unknown-false',
        title: 'completeRunIfActive of an unknown run returns false',
        run: async ({ storage }) => {
          expect(await storage.runs.completeRunIfActive(uuid(), 'Failed')).toBe(false);
        },
      },
      {
        id: 'race.runs.complete-if-active-exclusive',
        title: 'concurrent completeRunIfActive from many connections: exactly one true',
        needsPeers: true,
        run: async ({ storage, instances, raceWidth }) => {
          const stores = await instances(3);
          const run = await startRun(storage);
          const statuses = ['Succeeded', 'Failed', 'Cancelled', 'TimedOut'] as const;
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () => pick(stores, i).runs.completeRunIfActive(run.id, pick(statuses, i)),
              ),
            ),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = pick(statuses, results.indexOf(true));
          expect((await storage.runs.getRunDetail(run.id))!.status).toBe(winner);
        },
      },
      {
        id: 'runs.detail.unknown-null',
        title: 'getRunDetail of an unknown run returns null',
        run: async ({ storage }) => {
          expect(await storage.runs.getRunDetail(uuid())).toBeNull();
        },
      },
      {
        id: 'runs.detail.ordering',
        title: 'detail orders steps by startedAt and attempts ascending; attemptCount = attempts',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          clock.advance(10);
          await finishStep(storage, run.id, 'zeta', 'Succeeded');
          clock.advance(10);
          await finishStep(storage, run.id, 'alpha', 'Failed');
          clock.advance(10);
          await finishStep(storage, run.id, 'mid', 'Succeeded');
          clock.advance(10);
          // A restart moves the step's startedAt, so 'alpha' now sorts last.
          await finishStep(storage, run.id, 'alpha', 'Succeeded');
          const steps = (await storage.runs.getRunDetail(run.id))!.steps!;
          expect(steps.map((s) => s.stepKey)).toEqual(['zeta', 'mid', 'alpha']);
          const alpha = steps.find((s) => s.stepKey === 'alpha')!;
          expect(alpha.attempts.map((a) => a.attempt)).toEqual([1, 2]);
          expect(alpha.attemptCount).toBe(2);
        },
      },
      {
        id: 'runs.detail.step-tie-by-key',
        title: 'steps started at the same instant are listed by step key (ordinal)',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          for (const key of ['m', 'Z', 'a', 'b']) await finishStep(storage, run.id, key, 'Succeeded');
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.steps!.map((s) => s.stepKey)).toEqual(['Z', 'a', 'b', 'm']);
        },
      },
      {
        id: 'runs.detail.no-steps-empty-array',
        title: 'a run without steps has steps = [] in detail and null in lists',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          expect((await storage.runs.getRunDetail(run.id))!.steps).toEqual([]);
          expect((await storage.runs.getRuns())[0]!.steps).toBeNull();
        },
      },
      {
        id: 'runs.detail.includes-trigger-headers',
        title: 'run detail includes the trigger headers with lower-cased names',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          await storage.outputs.saveTriggerHeaders(run.id, {
            'Content-Type': 'application/json',
            'X-Trace': 'abc',
          });
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.triggerHeaders).toEqual({ 'content-type': 'application/json', 'x-trace': 'abc' });
          const other = await startRun(storage);
          expect((await storage.runs.getRunDetail(other.id))!.triggerHeaders).toBeNull();
        },
      },
      {
        id: 'runs.detail.reads-are-copies',
        title: 'mutating a returned run or step does not change the store',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          await finishStep(storage, run.id, 's', 'Succeeded', { outputJson: '1' });
          const detail = (await storage.runs.getRunDetail(run.id)) as unknown as {
            status: string;
            startedAt: Date;
            steps: Array<{ status: string; attempts: Array<{ status: string }> }>;
          };
          detail.status = 'Mutated';
          detail.startedAt.setTime(0);
          detail.steps[0]!.status = 'Failed';
          detail.steps[0]!.attempts[0]!.status = 'Failed';
          const again = await storage.runs.getRunDetail(run.id);
          expect(again!.status).toBe('Running');
          expect(again!.startedAt.getTime()).toBe(T0);
          expect(again!.steps![0]!.status).toBe('Succeeded');
          expect(again!.steps![0]!.attempts[0]!.status).toBe('Succeeded');
        },
      },
      {
        id: 'runs.derived.by-source',
        title: 'getDerivedRuns returns runs with that sourceRunId, newest first',
        run: async ({ storage, clock }) => {
          const source = await startRun(storage);
          clock.advance(10);
          const a = await startRun(storage, { sourceRunId: source.id });
          clock.advance(10);
          const b = await startRun(storage, { sourceRunId: source.id });
          await startRun(storage, { sourceRunId: uuid() });
          expect((await storage.runs.getDerivedRuns(source.id)).map((r) => r.id)).toEqual([b.id, a.id]);
        },
      },
      {
        id: 'runs.derived.none-empty',
        title: 'getDerivedRuns with no derived runs returns []',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          expect(await storage.runs.getDerivedRuns(run.id)).toEqual([]);
        },
      },
      {
        id: 'runs.active.only-running',
        title: 'getActiveRuns returns exactly the Running runs, newest first',
        run: async ({ storage, clock }) => {
          const a = await startRun(storage);
          clock.advance(10);
          const done = await startRun(storage);
          clock.advance(10);
          const b = await startRun(storage);
          await storage.runs.completeRun(done.id, 'Succeeded');
          expect((await storage.runs.getActiveRuns()).map((r) => r.id)).toEqual([b.id, a.id]);
        },
      },
      {
        id: 'runs.active.limit',
        title: 'getActiveRuns(limit) returns at most limit runs',
        run: async ({ storage, clock }) => {
          for (let i = 0; i < 5; i++) {
            await startRun(storage);
            clock.advance(1);
          }
          expect(await storage.runs.getActiveRuns(2)).toHaveLength(2);
          expect(await storage.runs.getActiveRuns(0)).toEqual([]);
          expect(await storage.runs.getActiveRuns(-1)).toHaveLength(5);
          expect(await storage.runs.getActiveRuns()).toHaveLength(5);
        },
      },
      {
        id: 'runs.retry.resets-step-and-run',
        title: 'retryStep re-opens the run and resets the step; attempts are kept',
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await finishStep(storage, run.id, 's', 'Failed', { outputJson: '1', errorMessage: 'x' });
          await storage.runs.completeRun(run.id, 'Failed');
          clock.advance(500);
          await storage.runs.retryStep(run.id, 's');
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail).toMatchObject({ status: 'Running', completedAt: null });
          expect(detail!.steps![0]).toMatchObject({
            status: 'Running',
            outputJson: null,
            errorMessage: null,
            completedAt: null,
          });
          expect(detail!.steps![0]!.startedAt.getTime()).toBe(T0 + 500);
          expect(detail!.steps![0]!.attempts).toHaveLength(1);
          expect(detail!.steps![0]!.attempts[0]!.status).toBe('Failed');
          expect((await storage.runs.getActiveRuns()).map((r) => r.id)).toContain(run.id);
        },
      },
      {
        id: 'runs.retry.clears-claim-and-ledger',
        title: 'retryStep deletes the claim and ledger rows of that step only',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runtime = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          for (const key of ['s', 'other']) {
            expect(await storage.runs.tryRecordDispatch(run.id, key)).toBe(true);
            expect(await runtime.tryClaimStep(run.id, key)).toBe(true);
          }
          await finishStep(storage, run.id, 's', 'Failed');
          await storage.runs.retryStep(run.id, 's');
          expect(await runtime.tryClaimStep(run.id, 's')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(run.id, 's')).toBe(true);
          expect(await runtime.tryClaimStep(run.id, 'other')).toBe(false);
          expect(await storage.runs.tryRecordDispatch(run.id, 'other')).toBe(false);
        },
      },
      {
        id: 'runs.retry.unknown-run-noop',
        title: 'retryStep on a run id with no rows at all does nothing and does not fail',
        run: async ({ storage }) => {
          const runId = uuid();
          await expect(storage.runs.retryStep(runId, 'a')).resolves.toBeUndefined();
          expect(await storage.runs.getRunDetail(runId)).toBeNull();
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set());
        },
      },
      {
        id: 'runs.retry.missing-step-reopens-run',
        title: 'retryStep without a step row still re-opens the run and clears the gates',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runtime = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await storage.runs.tryRecordDispatch(run.id, 'ghost');
          await runtime.tryClaimStep(run.id, 'ghost');
          await storage.runs.completeRun(run.id, 'Cancelled');
          await storage.runs.retryStep(run.id, 'ghost');
          expect((await storage.runs.getRunDetail(run.id))!.status).toBe('Running');
          expect(await runtime.getStepStatuses(run.id)).toEqual(new Map());
          expect(await runtime.tryClaimStep(run.id, 'ghost')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(run.id, 'ghost')).toBe(true);
        },
      },
      {
        id: 'runs.reset-cascade.removes-prerequisite-skips',
        title:
          'resetCascadeSkippedDependents deletes prerequisite-unmet skips and their gates, keeps attempts',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runtime = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await storage.runs.tryRecordDispatch(run.id, 'b');
          await runtime.tryClaimStep(run.id, 'b');
          await runtime.recordSkippedStep(run.id, 'b', 'T', SkipReasons.prerequisitesUnmet);
          await storage.runs.resetCascadeSkippedDependents(run.id, ['b']);
          expect((await runtime.getStepStatuses(run.id)).has('b')).toBe(false);
          expect(await runtime.tryClaimStep(run.id, 'b')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(run.id, 'b')).toBe(true);
          // The audit trail survives: the next start is attempt #2.
          await storage.runs.recordStepStart({ runId: run.id, stepKey: 'b', stepType: 'T' });
          const step = (await storage.runs.getRunDetail(run.id))!.steps!.find((s) => s.stepKey === 'b')!;
          expect(step.attempts.map((a) => a.attempt)).toEqual([1, 2]);
          expect(step.attempts[0]!.status).toBe('Skipped');
        },
      },
      {
        id: 'runs.reset-cascade.keeps-other-rows',
        title:
          'resetCascadeSkippedDependents leaves other skips and non-skipped rows, and their gates, untouched',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runtime = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await runtime.tryClaimStep(run.id, 'when');
          await runtime.recordSkippedStep(run.id, 'when', 'T', "When clause 'x' evaluated to false (false).");
          await runtime.tryClaimStep(run.id, 'ok');
          await storage.runs.tryRecordDispatch(run.id, 'ok');
          await finishStep(storage, run.id, 'ok', 'Succeeded');
          await runtime.tryClaimStep(run.id, 'running');
          await finishStep(storage, run.id, 'running', 'Running');
          await storage.runs.resetCascadeSkippedDependents(run.id, ['when', 'ok', 'running']);
          const statuses = await runtime.getStepStatuses(run.id);
          expect(statuses.get('when')).toBe('Skipped');
          expect(statuses.get('ok')).toBe('Succeeded');
          expect(statuses.get('running')).toBe('Running');
          expect(await runtime.tryClaimStep(run.id, 'ok')).toBe(false);
          expect(await runtime.tryClaimStep(run.id, 'running')).toBe(false);
          expect(await storage.runs.tryRecordDispatch(run.id, 'ok')).toBe(false);
        },
      },
      {
        id: 'runs.reset-cascade.empty-and-unknown-noop',
        title: 'resetCascadeSkippedDependents with [] or unknown keys is a no-op and idempotent',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runtime = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await runtime.recordSkippedStep(run.id, 'b', 'T', SkipReasons.prerequisitesUnmet);
          await storage.runs.resetCascadeSkippedDependents(run.id, []);
          await storage.runs.resetCascadeSkippedDependents(run.id, ['nope']);
          await storage.runs.resetCascadeSkippedDependents(uuid(), ['b']);
          expect((await runtime.getStepStatuses(run.id)).get('b')).toBe('Skipped');
          await storage.runs.resetCascadeSkippedDependents(run.id, ['b']);
          await storage.runs.resetCascadeSkippedDependents(run.id, ['b']);
          expect((await runtime.getStepStatuses(run.id)).has('b')).toBe(false);
        },
      },
      {
        id: 'race.runs.step-start-attempts-gap-free',
        title: 'concurrent recordStepStart of one step: attempts exactly 1..N, no error',
        needsPeers: true,
        run: async ({ storage, instances, raceWidth }) => {
          const stores = await instances(3);
          const run = await startRun(storage);
          const n = Math.min(raceWidth, 32);
          fulfilled(
            await race(
              Array.from(
                { length: n },
                (_, i) => () =>
                  pick(stores, i).runs.recordStepStart({
                    runId: run.id,
                    stepKey: 'hot',
                    stepType: 'T',
                    jobId: `j${i}`,
                  }),
              ),
            ),
          );
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step.attempts.map((a) => a.attempt)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        },
      },
    ],
  },
];
