import type { StepStatus } from '@floworch/core';
import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { countTrue, finishStep, fulfilled, pick, race, startRun, T0, uuid } from '../fixtures.js';

const LEASE = { durationMs: 30_000 };

/** Dispatch ledger, claims, leases and skip records. */
export const runtimeCases: CaseGroup[] = [
  {
    name: 'ledger',
    cases: [
      {
        id: 'ledger.first-wins',
        title: 'first tryRecordDispatch is true, the second false',
        run: async ({ storage }) => {
          const runId = uuid();
          expect(await storage.runs.tryRecordDispatch(runId, 'a')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(runId, 'a')).toBe(false);
          expect(await storage.runs.tryRecordDispatch(runId, 'b')).toBe(true);
        },
      },
      {
        id: 'ledger.release-then-record',
        title: 'after releaseDispatch the key can be recorded again',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.runs.tryRecordDispatch(runId, 'a');
          await storage.runs.releaseDispatch(runId, 'a');
          expect(await storage.runs.tryRecordDispatch(runId, 'a')).toBe(true);
        },
      },
      {
        id: 'ledger.release-absent-noop',
        title: 'releasing an absent key is a no-op',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.runs.tryRecordDispatch(runId, 'kept');
          await expect(storage.runs.releaseDispatch(runId, 'missing')).resolves.toBeUndefined();
          await expect(storage.runs.releaseDispatch(uuid(), 'missing')).resolves.toBeUndefined();
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['kept']));
        },
      },
      {
        id: 'ledger.keys-reflect-records-and-releases',
        title: 'getDispatchedStepKeys reflects records and releases; unknown run ⇒ empty',
        run: async ({ storage }) => {
          const runId = uuid();
          for (const k of ['a', 'b', 'c']) await storage.runs.tryRecordDispatch(runId, k);
          await storage.runs.releaseDispatch(runId, 'b');
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['a', 'c']));
          expect((await storage.runs.getDispatchedStepKeys(uuid())).size).toBe(0);
        },
      },
      {
        id: 'ledger.annotate-existing-keeps-row',
        title: 'annotateDispatch on an existing row keeps it recorded',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.runs.tryRecordDispatch(runId, 'a');
          await storage.runs.annotateDispatch(runId, 'a', 'job-77');
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['a']));
          expect(await storage.runs.tryRecordDispatch(runId, 'a')).toBe(false);
        },
      },
      {
        id: 'ledger.annotate-never-creates',
        title: 'annotateDispatch on an absent or released key creates nothing',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.runs.annotateDispatch(runId, 'never', 'job-1');
          await storage.runs.tryRecordDispatch(runId, 'released');
          await storage.runs.releaseDispatch(runId, 'released');
          await storage.runs.annotateDispatch(runId, 'released', 'job-2');
          expect((await storage.runs.getDispatchedStepKeys(runId)).size).toBe(0);
          expect(await storage.runs.tryRecordDispatch(runId, 'never')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(runId, 'released')).toBe(true);
        },
      },
      {
        id: 'ledger.survives-step-completion',
        title: 'ledger rows survive step completion',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          await storage.runs.tryRecordDispatch(run.id, 's');
          await finishStep(storage, run.id, 's', 'Succeeded');
          await storage.runs.completeRun(run.id, 'Succeeded');
          expect(await storage.runs.getDispatchedStepKeys(run.id)).toEqual(new Set(['s']));
        },
      },
      {
        id: 'ledger.keys-case-sensitive',
        title: 'StepA and stepa are distinct ledger keys',
        run: async ({ storage }) => {
          const runId = uuid();
          expect(await storage.runs.tryRecordDispatch(runId, 'StepA')).toBe(true);
          expect(await storage.runs.tryRecordDispatch(runId, 'stepa')).toBe(true);
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['StepA', 'stepa']));
        },
      },
      {
        id: 'race.ledger.exclusive-under-contention',
        title: 'N concurrent tryRecordDispatch on one key across connections: exactly one true, no errors',
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const runId = uuid();
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () => pick(stores, i).runs.tryRecordDispatch(runId, 'join'),
              ),
            ),
          );
          expect(countTrue(results)).toBe(1);
          expect(await stores[0]!.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['join']));
        },
      },
      {
        id: 'race.ledger.one-winner-per-key',
        title: '8 keys × many racers: exactly one winner per key',
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const runId = uuid();
          const keys = Array.from({ length: 8 }, (_, i) => `loop.${i}.child`);
          const perKey = Math.max(4, Math.floor(raceWidth / 8));
          const calls = keys.flatMap((key, k) =>
            Array.from({ length: perKey }, (_, i) => async () => ({
              key,
              won: await pick(stores, k + i).runs.tryRecordDispatch(runId, key),
            })),
          );
          const results = fulfilled(await race(calls));
          for (const key of keys) expect(results.filter((r) => r.key === key && r.won)).toHaveLength(1);
        },
      },
      {
        id: 'race.ledger.release-then-record',
        title: 'concurrent release-then-record: at least one winner and one row, which one release removes',
        needsPeers: true,
        run: async ({ instances }) => {
          const stores = await instances(3);
          const runId = uuid();
          await stores[0]!.runs.tryRecordDispatch(runId, 'poll');
          const results = fulfilled(
            await race(
              Array.from({ length: 16 }, (_, i) => async () => {
                const s = pick(stores, i);
                await s.runs.releaseDispatch(runId, 'poll');
                return s.runs.tryRecordDispatch(runId, 'poll');
              }),
            ),
          );
          expect(countTrue(results)).toBeGreaterThanOrEqual(1);
          expect([...(await stores[0]!.runs.getDispatchedStepKeys(runId))]).toEqual(['poll']);
          // The key set hides duplicate rows; these do not: with two rows, one release would leave
          // one behind, or the next insert-if-absent would win twice.
          expect(await stores[1]!.runs.tryRecordDispatch(runId, 'poll')).toBe(false);
          await stores[2]!.runs.releaseDispatch(runId, 'poll');
          expect(await stores[0]!.runs.getDispatchedStepKeys(runId)).toEqual(new Set());
          const again = fulfilled(
            await race(
              Array.from(
                { length: 16 },
                (_, i) => () => pick(stores, i).runs.tryRecordDispatch(runId, 'poll'),
              ),
            ),
          );
          expect(countTrue(again)).toBe(1);
        },
      },
    ],
  },
  {
    name: 'claims',
    cases: [
      {
        id: 'claims.first-wins',
        title: 'first tryClaimStep is true, the second false',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          expect(await rt.tryClaimStep(runId, 'a')).toBe(true);
          expect(await rt.tryClaimStep(runId, 'a')).toBe(false);
          expect(await rt.tryClaimStep(runId, 'b', { owner: 'w1', ...LEASE })).toBe(true);
          expect(await rt.tryClaimStep(runId, 'b', { owner: 'w2', ...LEASE })).toBe(false);
        },
      },
      {
        id: 'claims.release-allows-reclaim',
        title: 'releaseStepClaim allows a re-claim; releasing an absent claim is a no-op',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 'a');
          await rt.releaseStepClaim(runId, 'a');
          expect(await rt.tryClaimStep(runId, 'a')).toBe(true);
          await expect(rt.releaseStepClaim(runId, 'zzz')).resolves.toBeUndefined();
          expect(await rt.getClaimedStepKeys(runId)).toEqual(['a']);
        },
      },
      {
        id: 'claims.claimed-keys-include-unstarted',
        title: 'getClaimedStepKeys lists claims including keys without a step row',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 'started');
          await finishStep(storage, run.id, 'started', 'Succeeded');
          await rt.tryClaimStep(run.id, 'queued');
          expect([...(await rt.getClaimedStepKeys(run.id))].sort()).toEqual(['queued', 'started']);
          expect(await rt.getClaimedStepKeys(uuid())).toEqual([]);
        },
      },
      {
        id: 'claims.statuses-one-per-step-row',
        title: 'getStepStatuses has one entry per step row; claims and ledger rows alone do not appear',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await finishStep(storage, run.id, 'a', 'Succeeded');
          await finishStep(storage, run.id, 'b', 'Pending');
          await finishStep(storage, run.id, 'c', 'Running');
          await rt.tryClaimStep(run.id, 'claimed-only');
          await storage.runs.tryRecordDispatch(run.id, 'dispatched-only');
          expect(await rt.getStepStatuses(run.id)).toEqual(
            new Map<string, StepStatus>([
              ['a', 'Succeeded'],
              ['b', 'Pending'],
              ['c', 'Running'],
            ]),
          );
          expect((await rt.getStepStatuses(uuid())).size).toBe(0);
        },
      },
      {
        id: 'claims.statuses-parse-rule',
        title: 'status strings parse case-insensitively; unknown strings read as Failed',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await storage.runs.recordStepStart({ runId, stepKey: 'lower', stepType: 'T' });
          await storage.runs.recordStepComplete({
            runId,
            stepKey: 'lower',
            status: 'succeeded' as StepStatus,
          });
          await storage.runs.recordStepStart({ runId, stepKey: 'bogus', stepType: 'T' });
          await storage.runs.recordStepComplete({
            runId,
            stepKey: 'bogus',
            status: 'Exploded' as StepStatus,
          });
          const statuses = await rt.getStepStatuses(runId);
          expect(statuses.get('lower')).toBe('Succeeded');
          expect(statuses.get('bogus')).toBe('Failed');
        },
      },
      {
        id: 'claims.skip-record',
        title: 'recordSkippedStep writes a Skipped step with the reason and one Skipped attempt',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.recordSkippedStep(run.id, 'b', 'Notify', 'Run is Cancelled.');
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step).toMatchObject({
            stepKey: 'b',
            stepType: 'Notify',
            status: 'Skipped',
            errorMessage: 'Run is Cancelled.',
          });
          expect(step.completedAt!.getTime()).toBe(T0);
          expect(step.attempts).toHaveLength(1);
          expect(step.attempts[0]).toMatchObject({
            attempt: 1,
            status: 'Skipped',
            errorMessage: 'Run is Cancelled.',
          });
          expect(step.evaluationTraceJson).toBeNull();
        },
      },
      {
        id: 'claims.skip-record-blank-trace',
        title: 'a blank evaluation trace is stored as no trace',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const runId = uuid();
          await need(storage.runtime, 'runtime').recordSkippedStep(runId, 's', 'W', 'skipped', '   ');
          await startRun(storage, { runId });
          const [step] = (await storage.runs.getRunDetail(runId))!.steps!;
          expect(step!.evaluationTraceJson).toBeNull();
          expect(step!.attempts[0]!.evaluationTraceJson).toBeNull();
        },
      },
      {
        id: 'claims.skip-record-with-trace',
        title: 'recordSkippedStep stores the When trace on the step and its attempt',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          const trace = '{"expression":"@triggerBody().x > 1","resolved":"0 > 1","result":false}';
          await rt.recordSkippedStep(
            run.id,
            'w',
            'T',
            "When clause '@triggerBody().x > 1' evaluated to false (0 > 1).",
            trace,
          );
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step.evaluationTraceJson).toBe(trace);
          expect(step.attempts[0]!.evaluationTraceJson).toBe(trace);
        },
      },
      {
        id: 'claims.run-status',
        title: 'getRunStatus returns the status string or null',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          expect(await rt.getRunStatus(run.id)).toBe('Running');
          await storage.runs.completeRun(run.id, 'TimedOut');
          expect(await rt.getRunStatus(run.id)).toBe('TimedOut');
          expect(await rt.getRunStatus(uuid())).toBeNull();
        },
      },
      {
        id: 'claims.keys-case-sensitive',
        title: 'StepA and stepa are distinct in claims and step rows',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          expect(await rt.tryClaimStep(run.id, 'StepA')).toBe(true);
          expect(await rt.tryClaimStep(run.id, 'stepa')).toBe(true);
          await finishStep(storage, run.id, 'StepA', 'Succeeded');
          await finishStep(storage, run.id, 'stepa', 'Failed');
          const statuses = await rt.getStepStatuses(run.id);
          expect(statuses.get('StepA')).toBe('Succeeded');
          expect(statuses.get('stepa')).toBe('Failed');
        },
      },
      {
        id: 'race.claims.exclusive-under-contention',
        title: 'N concurrent tryClaimStep across connections: exactly one true, no errors',
        requires: ['runtime'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const runId = uuid();
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () =>
                  need(pick(stores, i).runtime, 'runtime').tryClaimStep(runId, 'hot', {
                    owner: `w${i}`,
                    ...LEASE,
                  }),
              ),
            ),
          );
          expect(countTrue(results)).toBe(1);
          const claim = await need(stores[0]!.runtime, 'runtime').getStepClaim(runId, 'hot');
          expect(claim!.owner).toBe(`w${results.indexOf(true)}`);
        },
      },
    ],
  },
  {
    name: 'leases',
    cases: [
      {
        id: 'leases.claim-fields',
        title: 'getStepClaim returns owner, claimedAt and leaseExpiresAt = now + duration',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's', { owner: 'worker-1:abc', durationMs: 15_000 });
          const claim = await rt.getStepClaim(runId, 's');
          expect(claim).toMatchObject({ runId, stepKey: 's', owner: 'worker-1:abc' });
          expect(claim!.claimedAt.getTime()).toBe(T0);
          expect(claim!.leaseExpiresAt!.getTime()).toBe(T0 + 15_000);
          expect(await rt.getStepClaim(runId, 'none')).toBeNull();
        },
      },
      {
        id: 'leases.no-lease-never-expires',
        title: 'a claim taken without a lease has owner "" and never lapses',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's');
          expect(await rt.getStepClaim(runId, 's')).toMatchObject({ owner: '', leaseExpiresAt: null });
          clock.advance(365 * 86_400_000);
          expect(await rt.tryClaimStep(runId, 's', { owner: 'late', ...LEASE })).toBe(false);
        },
      },
      {
        id: 'leases.blocks-until-expiry',
        title: 'a live lease blocks other claimers until it lapses',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's', { owner: 'a', durationMs: 10_000 });
          clock.advance(9_999);
          expect(await rt.tryClaimStep(runId, 's', { owner: 'b', ...LEASE })).toBe(false);
          expect((await rt.getStepClaim(runId, 's'))!.owner).toBe('a');
        },
      },
      {
        id: 'leases.expiry-boundary',
        title:
          'a lease whose expiry equals now has lapsed: listed by getExpiredClaims and taken over; 1 ms earlier it is live',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 's', { owner: 'a', durationMs: 10_000 });
          clock.advance(9_999);
          expect(await rt.getExpiredClaims(10)).toEqual([]);
          expect(await rt.tryClaimStep(run.id, 's', { owner: 'b', ...LEASE })).toBe(false);
          clock.advance(1);
          const expired = await rt.getExpiredClaims(10);
          expect(expired.map((e) => [e.runId, e.stepKey, e.owner])).toEqual([[run.id, 's', 'a']]);
          expect(expired[0]!.leaseExpiresAt.getTime()).toBe(clock.now().getTime());
          expect(await rt.tryClaimStep(run.id, 's', { owner: 'b', ...LEASE })).toBe(true);
        },
      },
      {
        id: 'leases.takeover-after-expiry',
        title: 'after the lease lapses another owner takes the claim over',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 's', { owner: 'crashed', durationMs: 10_000 });
          await finishStep(storage, run.id, 's', 'Running');
          clock.advance(10_000);
          expect(await rt.tryClaimStep(run.id, 's', { owner: 'rescuer', durationMs: 20_000 })).toBe(true);
          const claim = await rt.getStepClaim(run.id, 's');
          expect(claim!.owner).toBe('rescuer');
          expect(claim!.leaseExpiresAt!.getTime()).toBe(T0 + 30_000);
        },
      },
      {
        id: 'leases.no-takeover-of-terminal-step',
        title: 'a lapsed lease on a Succeeded/Failed/Skipped step cannot be taken over',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          for (const [key, status] of [
            ['ok', 'Succeeded'],
            ['bad', 'Failed'],
            ['skip', 'Skipped'],
          ] as const) {
            await rt.tryClaimStep(run.id, key, { owner: 'w', durationMs: 1_000 });
            await finishStep(storage, run.id, key, status);
          }
          clock.advance(60_000);
          for (const key of ['ok', 'bad', 'skip']) {
            expect(await rt.tryClaimStep(run.id, key, { owner: 'x', ...LEASE })).toBe(false);
          }
        },
      },
      {
        id: 'leases.renew-extends',
        title: 'renewStepClaim by the owner extends the lease from now',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's', { owner: 'me', durationMs: 10_000 });
          clock.advance(8_000);
          expect(await rt.renewStepClaim(runId, 's', 'me', 10_000)).toBe(true);
          expect((await rt.getStepClaim(runId, 's'))!.leaseExpiresAt!.getTime()).toBe(T0 + 18_000);
          clock.advance(8_000);
          expect(await rt.tryClaimStep(runId, 's', { owner: 'other', ...LEASE })).toBe(false);
        },
      },
      {
        id: 'leases.renew-by-other-fails',
        title: 'renewStepClaim by a non-owner, or of a missing claim, returns false and changes nothing',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's', { owner: 'me', durationMs: 10_000 });
          expect(await rt.renewStepClaim(runId, 's', 'intruder', 99_000)).toBe(false);
          expect(await rt.renewStepClaim(runId, 'missing', 'me', 99_000)).toBe(false);
          expect((await rt.getStepClaim(runId, 's'))!.leaseExpiresAt!.getTime()).toBe(T0 + 10_000);
        },
      },
      {
        id: 'leases.release-with-owner-only-own',
        title: 'releaseStepClaim with an owner releases only that owner’s claim',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          await rt.tryClaimStep(runId, 's', { owner: 'new-owner', ...LEASE });
          await rt.releaseStepClaim(runId, 's', 'stale-owner');
          expect((await rt.getStepClaim(runId, 's'))!.owner).toBe('new-owner');
          await rt.releaseStepClaim(runId, 's', 'new-owner');
          expect(await rt.getStepClaim(runId, 's')).toBeNull();
        },
      },
      {
        id: 'leases.fenced-complete-after-takeover',
        title: 'a stale owner’s fenced recordStepComplete returns false and changes nothing',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 's', { owner: 'old', durationMs: 1_000 });
          expect(
            await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T', owner: 'old' }),
          ).toBe(true);
          clock.advance(2_000);
          await rt.tryClaimStep(run.id, 's', { owner: 'new', ...LEASE });
          await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T', owner: 'new' });
          await storage.runs.recordStepComplete({
            runId: run.id,
            stepKey: 's',
            status: 'Succeeded',
            outputJson: '"new"',
            owner: 'new',
          });
          const stale = await storage.runs.recordStepComplete({
            runId: run.id,
            stepKey: 's',
            status: 'Failed',
            errorMessage: 'late',
            owner: 'old',
          });
          expect(stale).toBe(false);
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step).toMatchObject({ status: 'Succeeded', outputJson: '"new"', errorMessage: null });
          expect(step.attempts.map((a) => a.status)).toEqual(['Running', 'Succeeded']);
        },
      },
      {
        id: 'leases.fenced-start-after-takeover',
        title: 'a stale owner’s fenced recordStepStart returns false and adds no attempt',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 's', { owner: 'old', durationMs: 1_000 });
          clock.advance(2_000);
          await rt.tryClaimStep(run.id, 's', { owner: 'new', ...LEASE });
          expect(
            await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T', owner: 'old' }),
          ).toBe(false);
          expect(
            await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T', owner: 'new' }),
          ).toBe(true);
          expect((await storage.runs.getRunDetail(run.id))!.steps![0]!.attempts).toHaveLength(1);
        },
      },
      {
        id: 'leases.fenced-write-without-claim-rejected',
        title: 'a fenced write for a step nobody claimed returns false',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const run = await startRun(storage);
          expect(
            await storage.runs.recordStepStart({
              runId: run.id,
              stepKey: 's',
              stepType: 'T',
              owner: 'ghost',
            }),
          ).toBe(false);
          expect((await storage.runs.getRunDetail(run.id))!.steps).toEqual([]);
        },
      },
      {
        id: 'leases.lapsed-holder-may-still-finish',
        title: 'lease expiry alone does not fence: the holder finishes while nobody took over',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          await rt.tryClaimStep(run.id, 's', { owner: 'slow', durationMs: 1_000 });
          await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'T', owner: 'slow' });
          clock.advance(5_000);
          expect(
            await storage.runs.recordStepComplete({
              runId: run.id,
              stepKey: 's',
              status: 'Succeeded',
              owner: 'slow',
            }),
          ).toBe(true);
          expect((await rt.getStepStatuses(run.id)).get('s')).toBe('Succeeded');
        },
      },
      {
        id: 'runtime.unknown-run-reads',
        title:
          'an unknown run, or a Running run with no rows, reads empty: no statuses, claims or expired claims; renew is false',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const unknown = uuid();
          await startRun(storage); // Running, nothing else written
          expect((await rt.getStepStatuses(unknown)).size).toBe(0);
          expect(await rt.getClaimedStepKeys(unknown)).toEqual([]);
          expect(await rt.getStepClaim(unknown, 's')).toBeNull();
          expect(await rt.getRunStatus(unknown)).toBeNull();
          expect(await rt.renewStepClaim(unknown, 's', 'w', 1_000)).toBe(false);
          await expect(rt.releaseStepClaim(unknown, 's', 'w')).resolves.toBeUndefined();
          await expect(rt.releaseStepClaim(unknown, 's')).resolves.toBeUndefined();
          expect(
            await storage.runs.recordStepStart({ runId: unknown, stepKey: 's', stepType: 'W', owner: 'w' }),
          ).toBe(false);
          expect(
            await storage.runs.recordStepComplete({ runId: uuid(), stepKey: 's', status: 'Succeeded' }),
          ).toBe(false);
          clock.advance(60_000);
          expect(await rt.getExpiredClaims(10)).toEqual([]);
        },
      },
      {
        id: 'leases.duration-must-be-positive',
        title: 'a lease or renewal of zero or negative length is INVALID_ARGUMENT and changes nothing',
        requires: ['runtime'],
        run: async ({ storage }) => {
          const rt = need(storage.runtime, 'runtime');
          const runId = uuid();
          const invalid = { code: 'INVALID_ARGUMENT' };
          await expect(rt.tryClaimStep(runId, 's', { owner: 'w', durationMs: 0 })).rejects.toMatchObject(
            invalid,
          );
          await expect(rt.tryClaimStep(runId, 's', { owner: 'w', durationMs: -5 })).rejects.toMatchObject(
            invalid,
          );
          expect(await rt.getStepClaim(runId, 's')).toBeNull();
          await rt.tryClaimStep(runId, 's', { owner: 'w', durationMs: 1_000 });
          await expect(rt.renewStepClaim(runId, 's', 'w', 0)).rejects.toMatchObject(invalid);
          expect((await rt.getStepClaim(runId, 's'))!.leaseExpiresAt!.getTime()).toBe(T0 + 1_000);
        },
      },
      {
        id: 'leases.expired-claims-tie-order',
        title: 'expired claims with one expiry instant are listed by run id, then step key',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const runs = [await startRun(storage), await startRun(storage), await startRun(storage)];
          for (const run of runs)
            for (const key of ['m', 'z', 'a'])
              await rt.tryClaimStep(run.id, key, { owner: 'o', durationMs: 500 });
          clock.advance(1_000);
          const expected = runs
            .map((r) => r.id)
            .sort()
            .flatMap((id) => ['a', 'm', 'z'].map((key) => [id, key]));
          expect((await rt.getExpiredClaims(100)).map((c) => [c.runId, c.stepKey])).toEqual(expected);
        },
      },
      {
        id: 'leases.expired-claims-listed',
        title:
          'getExpiredClaims lists lapsed leases of Running runs on non-terminal steps, oldest first, bounded',
        requires: ['runtime'],
        run: async ({ storage, clock }) => {
          const rt = need(storage.runtime, 'runtime');
          const run = await startRun(storage);
          const finished = await startRun(storage);
          await rt.tryClaimStep(run.id, 'late', { owner: 'a', durationMs: 5_000 });
          await rt.tryClaimStep(run.id, 'early', { owner: 'b', durationMs: 1_000 });
          await rt.tryClaimStep(run.id, 'done', { owner: 'c', durationMs: 1_000 });
          await finishStep(storage, run.id, 'done', 'Succeeded');
          await rt.tryClaimStep(run.id, 'live', { owner: 'd', durationMs: 60_000 });
          await rt.tryClaimStep(run.id, 'forever');
          await rt.tryClaimStep(finished.id, 'x', { owner: 'e', durationMs: 1_000 });
          await storage.runs.completeRun(finished.id, 'Failed');
          clock.advance(10_000);
          const expired = await rt.getExpiredClaims(10);
          expect(expired.map((e) => [e.stepKey, e.owner])).toEqual([
            ['early', 'b'],
            ['late', 'a'],
          ]);
          expect(expired[0]!.runId).toBe(run.id);
          expect(expired[0]!.leaseExpiresAt.getTime()).toBe(T0 + 1_000);
          expect(await rt.getExpiredClaims(1)).toHaveLength(1);
        },
      },
      {
        id: 'race.leases.takeover-exclusive',
        title: 'many workers racing to take over one lapsed lease: exactly one wins',
        requires: ['runtime'],
        needsPeers: true,
        run: async ({ storage, instances, clock, raceWidth }) => {
          const stores = await instances(3);
          const run = await startRun(storage);
          await need(storage.runtime, 'runtime').tryClaimStep(run.id, 's', {
            owner: 'dead',
            durationMs: 1_000,
          });
          clock.advance(5_000);
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () =>
                  need(pick(stores, i).runtime, 'runtime').tryClaimStep(run.id, 's', {
                    owner: `r${i}`,
                    ...LEASE,
                  }),
              ),
            ),
          );
          expect(countTrue(results)).toBe(1);
          expect((await need(storage.runtime, 'runtime').getStepClaim(run.id, 's'))!.owner).toBe(
            `r${results.indexOf(true)}`,
          );
        },
      },
    ],
  },
];
