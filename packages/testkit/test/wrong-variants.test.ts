import type {
  CleanupOptions,
  FlowEventInput,
  FlowRunStore,
  FlowStorage,
  FlowStore,
  ManualClock,
  OutputsRepository,
} from '@floworch/core';
import { createInMemoryStorage, type InMemoryStorage } from '@floworch/inmemory';
import { describe, expect, it } from 'vitest';
// The in-memory internals are not public; this test breaks them on purpose, so it reaches in.
import type { MemoryState } from '../../inmemory/src/state.js';
import { STORAGE_CONFORMANCE_CASES } from '../src/index.js';
import { runCaseById } from './support/run-case.js';

// Each entry is a deliberately wrong variant of the in-memory backend and the conformance cases
// that must reject it. The variants are thin overrides of one method; everything else is the real
// store, so a case that passes here would let that bug through any backend.

type Mutate = (storage: InMemoryStorage, state: MemoryState) => FlowStorage;

/** The shared data behind an in-memory façade (a private field, reached for on purpose). */
const stateOf = (s: InMemoryStorage): MemoryState => (s.runs as unknown as { state: MemoryState }).state;

/** `target` with some methods replaced; the rest (and `this`-state) comes from `target`. */
function patch<T extends object>(target: T, overrides: Partial<T>): T {
  return Object.assign(Object.create(target) as T, overrides);
}

/** Opens the mutated store, and mutated peers on the same data. */
function opener(mutate: Mutate): (clock: ManualClock, peerOf?: FlowStorage) => FlowStorage {
  let base: InMemoryStorage | undefined;
  return (clock, peerOf) => {
    if (!peerOf || !base) {
      base = createInMemoryStorage({ clock });
      return mutate(base, stateOf(base));
    }
    const peer = base.createPeer();
    return mutate(peer, stateOf(peer));
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const byIdDesc = (a: { id: string }, b: { id: string }) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const variants: Record<string, { caseIds: string[]; mutate: Mutate }> = {
  'signal waiters at one instant delivered in step-key order': {
    caseIds: ['signals.same-instant-registration-order'],
    mutate: (s, state) => ({
      ...s,
      signals: patch(s.signals, {
        registerWaiter: async (runId, stepKey, name, expiresAt) => {
          await s.signals.registerWaiter(runId, stepKey, name, expiresAt);
          // Re-index the waiters by step key: delivery then follows key order at equal instants.
          const waiters = state.peekRunData(runId)!.waiters;
          const sorted = [...waiters].sort(([a], [b]) => (a < b ? -1 : 1));
          waiters.clear();
          for (const [key, row] of sorted) waiters.set(key, row);
        },
      }),
    }),
  },
  'signal waiters at one instant delivered newest registration first': {
    caseIds: ['signals.same-instant-registration-order'],
    mutate: (s, state) => ({
      ...s,
      signals: patch(s.signals, {
        registerWaiter: async (runId, stepKey, name, expiresAt) => {
          await s.signals.registerWaiter(runId, stepKey, name, expiresAt);
          // Put the newest waiter first.
          const waiters = state.peekRunData(runId)!.waiters;
          const rest = [...waiters].filter(([key]) => key !== stepKey);
          const newest = waiters.get(stepKey)!;
          waiters.clear();
          waiters.set(stepKey, newest);
          for (const [key, row] of rest) waiters.set(key, row);
        },
      }),
    }),
  },
  'saving null over an existing output, input or trigger keeps the old value': {
    caseIds: ['outputs.null-clears-existing'],
    mutate: (s) => {
      const keep =
        (save: (runId: string, key: string, v: unknown) => Promise<void>) =>
        async (runId: string, key: string, v: unknown) => {
          if (v === null || v === undefined) return;
          await save(runId, key, v);
        };
      return {
        ...s,
        outputs: patch<OutputsRepository>(s.outputs, {
          saveStepOutput: keep((r, k, v) => s.outputs.saveStepOutput(r, k, v)),
          saveStepInput: keep((r, k, v) => s.outputs.saveStepInput(r, k, v)),
          saveTriggerData: (r, v) => keep((rr, _k, vv) => s.outputs.saveTriggerData(rr, vv))(r, '', v),
        }),
      };
    },
  },
  "a schedule's isPaused not persisted": {
    caseIds: ['schedules.paused-persisted'],
    mutate: (s) => ({
      ...s,
      schedules: patch(s.schedules, {
        save: async (input) => {
          const saved = await s.schedules.save({ ...input, isPaused: false });
          return { ...saved, isPaused: input.isPaused ?? false };
        },
      }),
    }),
  },
  'schedule reads return the live stored object': {
    caseIds: ['schedules.reads-are-copies'],
    mutate: (s, state) => ({
      ...s,
      schedules: patch(s.schedules, {
        get: async (jobId) => state.schedules.get(jobId) ?? null,
      }),
    }),
  },
  'an upper-case run id kept as written': {
    caseIds: ['runs.ids.uppercase-folded'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        startRun: async (input) => ({ ...(await s.runs.startRun(input)), id: input.runId }),
      }),
    }),
  },
  'an upper-case flow id kept as written': {
    caseIds: ['runs.ids.uppercase-folded'],
    mutate: (s) => ({
      ...s,
      flows: patch<FlowStore>(s.flows, {
        save: async (def) => ({ ...(await s.flows.save(def)), id: def.id }),
      }),
    }),
  },
  'retention checks its abort signal only before the first batch': {
    caseIds: ['retention.abort-between-batches', 'retention.batch-size-honoured'],
    mutate: (s) => ({
      ...s,
      retention: patch(s.retention, {
        cleanup: async (cutoff: Date, options: CleanupOptions = {}) => {
          options.signal?.throwIfAborted();
          return s.retention.cleanup(cutoff, { batchSize: options.batchSize });
        },
      }),
    }),
  },
  'retention that does not look at the signal at all': {
    caseIds: ['retention.abort-before-start', 'retention.abort-between-batches'],
    mutate: (s) => ({
      ...s,
      retention: patch(s.retention, {
        cleanup: (cutoff: Date, options: CleanupOptions = {}) =>
          s.retention.cleanup(cutoff, { batchSize: options.batchSize }),
      }),
    }),
  },
  'retention ignoring batchSize': {
    caseIds: ['retention.batch-size-honoured'],
    mutate: (s) => ({
      ...s,
      retention: patch(s.retention, {
        cleanup: (cutoff: Date, options: CleanupOptions = {}) =>
          s.retention.cleanup(cutoff, { signal: options.signal, batchSize: 10 }),
      }),
    }),
  },
  "retention leaving a run's attempts behind": {
    caseIds: ['retention.deletes-attempts'],
    mutate: (s, state) => ({
      ...s,
      retention: patch(s.retention, {
        cleanup: async (cutoff: Date, options?: CleanupOptions) => {
          const kept = [...state.perRun].map(([id, data]) => [id, data.attempts] as const);
          const result = await s.retention.cleanup(cutoff, options);
          for (const [id, attempts] of kept) state.runData(id).attempts = attempts;
          return result;
        },
      }),
    }),
  },
  'retention deleting a Running run that has a completedAt': {
    caseIds: ['retention.running-with-completed-at-kept'],
    mutate: (s, state) => ({
      ...s,
      retention: patch(s.retention, {
        cleanup: (cutoff: Date, options?: CleanupOptions) => {
          for (const run of state.runs.values())
            if (run.completedAt !== null && run.completedAt < cutoff.getTime())
              state.setRunStatus(run, 'Succeeded');
          return s.retention.cleanup(cutoff, options);
        },
      }),
    }),
  },
  'completedToday counted by start date': {
    caseIds: ['stats.today-by-completion-date'],
    mutate: (s, state) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getStatistics: async () => {
          const stats = await s.runs.getStatistics();
          const day = Math.floor(s.clock.now().getTime() / 86_400_000);
          const today = [...state.runs.values()].filter((r) => Math.floor(r.startedAt / 86_400_000) === day);
          return {
            ...stats,
            completedToday: today.filter((r) => r.status === 'Succeeded').length,
            failedToday: today.filter((r) => r.status === 'Failed').length,
          };
        },
      }),
    }),
  },
  'getExpiredClaims with expiry < now instead of <= now': {
    caseIds: ['leases.expiry-boundary'],
    mutate: (s) => ({
      ...s,
      runtime: patch(s.runtime, {
        getExpiredClaims: async (limit) =>
          (await s.runtime.getExpiredClaims(limit)).filter(
            (c) => c.leaseExpiresAt.getTime() < s.clock.now().getTime(),
          ),
      }),
    }),
  },
  'claims taken over only after expiry < now': {
    caseIds: ['leases.expiry-boundary'],
    mutate: (s) => ({
      ...s,
      runtime: patch(s.runtime, {
        tryClaimStep: async (runId, stepKey, lease) => {
          const claim = await s.runtime.getStepClaim(runId, stepKey);
          if (claim?.leaseExpiresAt?.getTime() === s.clock.now().getTime()) return false;
          return s.runtime.tryClaimStep(runId, stepKey, lease);
        },
      }),
    }),
  },
  'a non-atomic recordEvents': {
    caseIds: ['events.bulk-atomic'],
    mutate: (s) => ({
      ...s,
      outputs: patch<OutputsRepository>(s.outputs, {
        recordEvents: async (events: ReadonlyArray<{ runId: string; event: FlowEventInput }>) => {
          for (const { runId, event } of events) await s.outputs.recordEvent(runId, event);
        },
      }),
    }),
  },
  'getRunsPage breaking startedAt ties by id descending': {
    caseIds: ['queries.order-tie-by-id'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getRunsPage: async (query = {}) => {
          const all = await s.runs.getRunsPage({ ...query, skip: 0, take: 500 });
          const sorted = [...all.runs].sort(
            (a, b) => b.startedAt.getTime() - a.startedAt.getTime() || byIdDesc(a, b),
          );
          const skip = Math.max(0, query.skip ?? 0);
          return { runs: sorted.slice(skip, skip + (query.take ?? 50)), totalCount: all.totalCount };
        },
      }),
    }),
  },
  'getRunsPage treating a negative skip as its absolute value': {
    caseIds: ['queries.paging.edge-cases'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getRunsPage: (query = {}) => s.runs.getRunsPage({ ...query, skip: Math.abs(query.skip ?? 0) }),
      }),
    }),
  },
  'flows.getAll breaking name ties by id descending': {
    caseIds: ['flows.get-all.ordered-by-name'],
    mutate: (s) => ({
      ...s,
      flows: patch<FlowStore>(s.flows, {
        getAll: async () =>
          (await s.flows.getAll()).sort((a, b) =>
            a.name < b.name ? -1 : a.name > b.name ? 1 : byIdDesc(a, b),
          ),
      }),
    }),
  },
  'timeseries durations rounded to whole milliseconds': {
    caseIds: ['timeseries.fractional-durations'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getRunTimeseries: async (query) =>
          (await s.runs.getRunTimeseries(query)).map((b) => ({
            ...b,
            p50DurationMs: b.p50DurationMs === null ? null : Math.round(b.p50DurationMs),
            p95DurationMs: b.p95DurationMs === null ? null : Math.round(b.p95DurationMs),
          })),
      }),
    }),
  },
  'a declared runtime contract missing getExpiredClaims': {
    caseIds: ['capabilities.required-contracts-present'],
    mutate: (s) => ({ ...s, runtime: patch(s.runtime, { getExpiredClaims: undefined as never }) }),
  },
  'unserialisable values rejected with a plain Error': {
    caseIds: ['outputs.unserialisable-rejected'],
    mutate: (s) => ({
      ...s,
      outputs: patch<OutputsRepository>(s.outputs, {
        saveStepOutput: async (runId, key, value) => {
          try {
            await s.outputs.saveStepOutput(runId, key, value);
          } catch (error) {
            throw new Error((error as Error).message);
          }
        },
      }),
    }),
  },
  'renewStepClaim accepting a zero duration': {
    caseIds: ['leases.duration-must-be-positive'],
    mutate: (s, state) => ({
      ...s,
      runtime: patch(s.runtime, {
        renewStepClaim: async (runId, stepKey, owner, durationMs) => {
          const claim = state.peekRunData(runId)?.claims.get(stepKey);
          if (!claim || claim.owner !== owner) return false;
          claim.leaseExpiresAt = s.clock.now().getTime() + durationMs;
          return true;
        },
      }),
    }),
  },
  'expired claims with one expiry listed by step key descending': {
    caseIds: ['leases.expired-claims-tie-order'],
    mutate: (s) => ({
      ...s,
      runtime: patch(s.runtime, {
        getExpiredClaims: async (limit) =>
          (await s.runtime.getExpiredClaims(limit)).sort(
            (a, b) =>
              a.leaseExpiresAt.getTime() - b.leaseExpiresAt.getTime() ||
              (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0) ||
              (a.stepKey < b.stepKey ? 1 : a.stepKey > b.stepKey ? -1 : 0),
          ),
      }),
    }),
  },
  'getActiveRuns(0) returning every run': {
    caseIds: ['runs.active.limit'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getActiveRuns: (limit) => s.runs.getActiveRuns(limit === 0 ? undefined : limit),
      }),
    }),
  },
  'run filters matched untrimmed': {
    caseIds: ['queries.filters-trimmed'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        getRunsPage: async (query = {}) => {
          const padded = [query.status, query.search].some((v) => v && v !== v.trim());
          return padded ? { runs: [], totalCount: 0 } : s.runs.getRunsPage(query);
        },
      }),
    }),
  },
  'overdue runs with one deadline listed by run id descending': {
    caseIds: ['control.past-deadline-tie-by-run-id'],
    mutate: (s) => ({
      ...s,
      control: patch(s.control, {
        getRunsPastDeadline: async (limit) =>
          (await s.control.getRunsPastDeadline(limit)).sort(
            (a, b) => a.timeoutAt.getTime() - b.timeoutAt.getTime() || (a.runId < b.runId ? 1 : -1),
          ),
      }),
    }),
  },
  'configureRun keeping the idempotency key as written': {
    caseIds: ['control.idempotency-key-trimmed'],
    mutate: (s, state) => ({
      ...s,
      control: patch(s.control, {
        configureRun: async (input) => {
          await s.control.configureRun(input);
          state.runData(input.runId).control!.idempotencyKey = input.idempotencyKey ?? null;
        },
      }),
    }),
  },
  'release-then-record with a check-then-insert ledger': {
    caseIds: ['race.ledger.release-then-record'],
    mutate: (s) => ({
      ...s,
      runs: patch<FlowRunStore>(s.runs, {
        tryRecordDispatch: async (runId, stepKey) => {
          const taken = (await s.runs.getDispatchedStepKeys(runId)).has(stepKey);
          await tick();
          if (taken) return false;
          await s.runs.tryRecordDispatch(runId, stepKey);
          return true;
        },
      }),
    }),
  },
};

describe('conformance cases reject wrong backends', () => {
  for (const [name, { caseIds, mutate }] of Object.entries(variants)) {
    for (const id of caseIds) {
      it(`${id} fails on: ${name}`, async () => {
        const error = await runCaseById(id, opener(mutate)).then(
          () => null,
          (e: unknown) => e,
        );
        // An assertion must catch the variant, not a TypeError from a case tripping over it.
        expect(error).toMatchObject({ name: 'AssertionError' });
      });
    }
  }

  it('every case above passes on the unmodified in-memory backend', async () => {
    const ids = new Set(Object.values(variants).flatMap((v) => v.caseIds));
    for (const id of ids)
      await runCaseById(
        id,
        opener((s) => s),
      );
  });

  it('every case id named above exists', () => {
    const known = new Set(STORAGE_CONFORMANCE_CASES.map((c) => c.id));
    for (const v of Object.values(variants)) for (const id of v.caseIds) expect(known).toContain(id);
  });
});
