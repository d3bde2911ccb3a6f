import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { finishStep, startRun, uuid } from '../fixtures.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Run queries, statistics and timeseries. */
export const queryCases: CaseGroup[] = [
  {
    name: 'queries',
    cases: [
      {
        id: 'queries.order-newest-first',
        title: 'getRunsPage orders by startedAt descending and lists carry no steps',
        run: async ({ storage, clock }) => {
          const ids: string[] = [];
          for (let i = 0; i < 4; i++) {
            ids.push((await startRun(storage)).id);
            clock.advance(1000);
          }
          const page = await storage.runs.getRunsPage();
          expect(page.runs.map((r) => r.id)).toEqual([...ids].reverse());
          expect(page.totalCount).toBe(4);
          expect(page.runs.every((r) => r.steps === null)).toBe(true);
        },
      },
      {
        id: 'queries.order-tie-by-id',
        title: 'runs started at the same instant are ordered by id ascending, in pages too',
        run: async ({ storage, clock }) => {
          // Enough ties that a sort cannot fall back on insertion order to look right.
          const ids: string[] = [];
          for (let i = 0; i < 70; i++) ids.push((await startRun(storage)).id);
          clock.advance(1000);
          const newest = (await startRun(storage)).id;
          const tied = [...ids].sort();
          const page = await storage.runs.getRunsPage({ take: 100 });
          expect(page.runs.map((r) => r.id)).toEqual([newest, ...tied]);
          const second = await storage.runs.getRunsPage({ skip: 3, take: 2 });
          expect(second.runs.map((r) => r.id)).toEqual(tied.slice(2, 4));
          expect((await storage.runs.getActiveRuns()).map((r) => r.id)).toEqual([newest, ...tied]);
        },
      },
      {
        id: 'queries.flow-filter',
        title: 'flowId filters exactly',
        run: async ({ storage }) => {
          const flowId = uuid();
          await startRun(storage, { flowId });
          await startRun(storage, { flowId });
          await startRun(storage);
          const page = await storage.runs.getRunsPage({ flowId });
          expect(page.totalCount).toBe(2);
          expect(page.runs.every((r) => r.flowId === flowId)).toBe(true);
        },
      },
      {
        id: 'queries.paging-total',
        title: 'skip/take page the results; totalCount counts every match',
        run: async ({ storage, clock }) => {
          const ids: string[] = [];
          for (let i = 0; i < 7; i++) {
            ids.unshift((await startRun(storage)).id);
            clock.advance(1000);
          }
          const page = await storage.runs.getRunsPage({ skip: 2, take: 3 });
          expect(page.totalCount).toBe(7);
          expect(page.runs.map((r) => r.id)).toEqual(ids.slice(2, 5));
          expect((await storage.runs.getRuns({ skip: 6, take: 3 })).map((r) => r.id)).toEqual(ids.slice(6));
        },
      },
      {
        id: 'queries.status-filter-case-insensitive',
        title: 'status filter matches case-insensitively',
        run: async ({ storage }) => {
          const a = await startRun(storage);
          const b = await startRun(storage);
          await storage.runs.completeRun(a.id, 'Failed');
          await storage.runs.completeRun(b.id, 'Succeeded');
          expect((await storage.runs.getRunsPage({ status: 'failed' })).runs.map((r) => r.id)).toEqual([
            a.id,
          ]);
          expect((await storage.runs.getRunsPage({ status: 'SUCCEEDED' })).runs.map((r) => r.id)).toEqual([
            b.id,
          ]);
          expect((await storage.runs.getRunsPage({ status: 'Running' })).totalCount).toBe(0);
        },
      },
      {
        id: 'queries.status-blank-ignored',
        title: 'a blank status filter is ignored',
        run: async ({ storage }) => {
          await startRun(storage);
          const done = await startRun(storage);
          await storage.runs.completeRun(done.id, 'Failed');
          expect((await storage.runs.getRunsPage({ status: '  ' })).totalCount).toBe(2);
          expect((await storage.runs.getRunsPage({ status: null })).totalCount).toBe(2);
        },
      },
      {
        id: 'queries.filters-trimmed',
        title: 'status and search filters are trimmed before matching',
        run: async ({ storage }) => {
          const done = await startRun(storage, { flowName: 'Invoices' });
          await storage.runs.completeRun(done.id, 'Succeeded');
          await startRun(storage, { flowName: 'Other' });
          expect((await storage.runs.getRunsPage({ status: '  succeeded ' })).runs.map((r) => r.id)).toEqual([
            done.id,
          ]);
          expect((await storage.runs.getRunsPage({ search: '  invoices  ' })).runs.map((r) => r.id)).toEqual([
            done.id,
          ]);
        },
      },
      {
        id: 'queries.search.run-fields',
        title: 'search matches run id, flow name, trigger key, status and job id',
        run: async ({ storage }) => {
          const byName = await startRun(storage, { flowName: 'InvoiceApproval' });
          const byTrigger = await startRun(storage, { triggerKey: 'nightly-cron' });
          const byJob = await startRun(storage, { jobId: 'hangfire-7781' });
          const byStatus = await startRun(storage);
          await storage.runs.completeRun(byStatus.id, 'TimedOut');
          const ids = async (search: string) =>
            (await storage.runs.getRunsPage({ search })).runs.map((r) => r.id);
          expect(await ids('invoiceappro')).toEqual([byName.id]);
          expect(await ids('NIGHTLY')).toEqual([byTrigger.id]);
          expect(await ids('7781')).toEqual([byJob.id]);
          expect(await ids('timedout')).toEqual([byStatus.id]);
          expect(await ids(byName.id.slice(9, 18))).toEqual([byName.id]);
        },
      },
      {
        id: 'queries.search.step-fields',
        title: 'search matches step keys, step errors and step outputs',
        run: async ({ storage }) => {
          const a = await startRun(storage);
          await finishStep(storage, a.id, 'reserve-inventory', 'Succeeded');
          const b = await startRun(storage);
          await finishStep(storage, b.id, 's', 'Failed', { errorMessage: 'Card declined by issuer' });
          const c = await startRun(storage);
          await finishStep(storage, c.id, 's', 'Succeeded', { outputJson: '{"tracking":"ZX-991"}' });
          const ids = async (search: string) =>
            (await storage.runs.getRunsPage({ search })).runs.map((r) => r.id);
          expect(await ids('Reserve-Inv')).toEqual([a.id]);
          expect(await ids('declined')).toEqual([b.id]);
          expect(await ids('zx-991')).toEqual([c.id]);
        },
      },
      {
        id: 'queries.search.attempt-history',
        title: 'search matches errors of earlier attempts that the step row no longer shows',
        run: async ({ storage }) => {
          const run = await startRun(storage);
          await finishStep(storage, run.id, 's', 'Failed', { errorMessage: 'transient-gateway-hiccup' });
          await finishStep(storage, run.id, 's', 'Succeeded');
          await startRun(storage);
          expect(
            (await storage.runs.getRunsPage({ search: 'gateway-hiccup' })).runs.map((r) => r.id),
          ).toEqual([run.id]);
        },
      },
      {
        id: 'queries.search.not-trigger-data-or-inputs',
        title: 'search does not look into trigger data or step inputs',
        run: async ({ storage }) => {
          const run = await startRun(storage, { triggerDataJson: '{"secret":"needle-in-trigger"}' });
          await finishStep(storage, run.id, 's', 'Succeeded', { inputJson: '{"q":"needle-in-input"}' });
          expect((await storage.runs.getRunsPage({ search: 'needle-in-trigger' })).totalCount).toBe(0);
          expect((await storage.runs.getRunsPage({ search: 'needle-in-input' })).totalCount).toBe(0);
        },
      },
      {
        id: 'queries.search.literal-wildcards',
        title: 'search treats %, _, \\ and [ literally',
        run: async ({ storage }) => {
          const pct = await startRun(storage, { flowName: 'rate 100%' });
          const under = await startRun(storage, { flowName: 'snake_case' });
          const slash = await startRun(storage, { flowName: 'path\\to' });
          const bracket = await startRun(storage, { flowName: 'arr[0]' });
          await startRun(storage, { flowName: 'plain name' });
          const ids = async (search: string) =>
            (await storage.runs.getRunsPage({ search })).runs.map((r) => r.id);
          expect(await ids('%')).toEqual([pct.id]);
          expect(await ids('_')).toEqual([under.id]);
          expect(await ids('\\')).toEqual([slash.id]);
          expect(await ids('[0')).toEqual([bracket.id]);
          expect(await ids('e_c')).toEqual([under.id]);
        },
      },
      {
        id: 'queries.combined-filters',
        title: 'flow + status + search + paging are ANDed',
        run: async ({ storage, clock }) => {
          const flowId = uuid();
          const hits: string[] = [];
          for (let i = 0; i < 4; i++) {
            const r = await startRun(storage, { flowId, flowName: 'Shipping' });
            await storage.runs.completeRun(r.id, 'Failed');
            hits.unshift(r.id);
            clock.advance(10);
          }
          const wrongStatus = await startRun(storage, { flowId, flowName: 'Shipping' });
          await startRun(storage, { flowName: 'Shipping' });
          await startRun(storage, { flowId, flowName: 'Billing' });
          const page = await storage.runs.getRunsPage({
            flowId,
            status: 'Failed',
            search: 'shipp',
            skip: 1,
            take: 2,
          });
          expect(page.totalCount).toBe(4);
          expect(page.runs.map((r) => r.id)).toEqual(hits.slice(1, 3));
          expect(page.runs.map((r) => r.id)).not.toContain(wrongStatus.id);
        },
      },
      {
        id: 'queries.paging.edge-cases',
        title: 'skip beyond total, take 0, negative values and take > 500 are clamped',
        run: async ({ storage }) => {
          for (let i = 0; i < 3; i++) await startRun(storage);
          expect(await storage.runs.getRunsPage({ skip: 10, take: 5 })).toEqual({ runs: [], totalCount: 3 });
          expect(await storage.runs.getRunsPage({ take: 0 })).toEqual({ runs: [], totalCount: 3 });
          const firstTwo = (await storage.runs.getRunsPage({ skip: 0, take: 2 })).runs.map((r) => r.id);
          const negative = await storage.runs.getRunsPage({ skip: -5, take: 2 });
          expect(negative.runs.map((r) => r.id)).toEqual(firstTwo);
          expect(negative.totalCount).toBe(3);
          expect(await storage.runs.getRunsPage({ take: -1 })).toEqual({ runs: [], totalCount: 3 });
          expect((await storage.runs.getRunsPage({ take: 100_000 })).runs).toHaveLength(3);
        },
      },
      {
        id: 'queries.paging.take-capped-at-500',
        title: 'take is capped at 500',
        run: async ({ storage }) => {
          for (let i = 0; i < 505; i++) await startRun(storage);
          const page = await storage.runs.getRunsPage({ take: 10_000 });
          expect(page.runs).toHaveLength(500);
          expect(page.totalCount).toBe(505);
        },
      },
      {
        id: 'queries.default-take-50',
        title: 'without take a page holds 50 runs',
        run: async ({ storage }) => {
          for (let i = 0; i < 55; i++) await startRun(storage);
          expect((await storage.runs.getRunsPage()).runs).toHaveLength(50);
          expect(await storage.runs.getRuns()).toHaveLength(50);
        },
      },
    ],
  },
  {
    name: 'statistics',
    cases: [
      {
        id: 'stats.counts',
        title: 'active runs, succeeded/failed today and flow definitions are counted exactly',
        run: async ({ storage }) => {
          await storage.flows.save({ id: uuid(), name: 'A' });
          await storage.flows.save({ id: uuid(), name: 'B' });
          await storage.flows.save({ id: uuid(), name: 'C' });
          await startRun(storage);
          await startRun(storage);
          const ok = await startRun(storage);
          const bad = await startRun(storage);
          const cancelled = await startRun(storage);
          await storage.runs.completeRun(ok.id, 'Succeeded');
          await storage.runs.completeRun(bad.id, 'Failed');
          await storage.runs.completeRun(cancelled.id, 'Cancelled');
          expect(await storage.runs.getStatistics()).toEqual({
            totalFlows: 3,
            activeRuns: 2,
            completedToday: 1,
            failedToday: 1,
          });
        },
      },
      {
        id: 'stats.today-is-utc-day',
        title: 'runs completed before the current UTC day are not counted as today',
        run: async ({ storage, clock }) => {
          clock.set(Date.UTC(2031, 2, 3, 23, 59, 0));
          const yesterday = await startRun(storage);
          await storage.runs.completeRun(yesterday.id, 'Succeeded');
          clock.set(Date.UTC(2031, 2, 4, 0, 1, 0));
          const today = await startRun(storage);
          await storage.runs.completeRun(today.id, 'Succeeded');
          const failedToday = await startRun(storage);
          await storage.runs.completeRun(failedToday.id, 'Failed');
          const stats = await storage.runs.getStatistics();
          expect(stats.completedToday).toBe(1);
          expect(stats.failedToday).toBe(1);
          expect(stats.activeRuns).toBe(0);
        },
      },
      {
        id: 'stats.today-by-completion-date',
        title:
          'a run started yesterday and finished today counts as today; one started today and running does not',
        run: async ({ storage, clock }) => {
          clock.set(Date.UTC(2031, 2, 3, 23, 0, 0));
          const ok = await startRun(storage);
          const bad = await startRun(storage);
          clock.set(Date.UTC(2031, 2, 4, 0, 30, 0));
          await storage.runs.completeRun(ok.id, 'Succeeded');
          await storage.runs.completeRun(bad.id, 'Failed');
          await startRun(storage);
          expect(await storage.runs.getStatistics()).toMatchObject({
            activeRuns: 1,
            completedToday: 1,
            failedToday: 1,
          });
        },
      },
    ],
  },
  {
    name: 'statistics-boundaries',
    cases: [
      {
        id: 'stats.today-boundaries',
        title: 'today starts at 00:00:00.000 UTC inclusive and ends at the next midnight exclusive',
        run: async ({ storage, clock }) => {
          const midnight = Date.UTC(2031, 2, 4);
          const atStart = await startRun(storage);
          const atEnd = await startRun(storage);
          const before = await startRun(storage);
          clock.set(midnight - 1);
          await storage.runs.completeRun(before.id, 'Succeeded');
          clock.set(midnight);
          await storage.runs.completeRun(atStart.id, 'Succeeded');
          // A clock may be set back: a completion stamped at the next midnight is not today.
          clock.set(midnight + 86_400_000);
          await storage.runs.completeRun(atEnd.id, 'Failed');
          clock.set(midnight + 3_600_000);
          expect(await storage.runs.getStatistics()).toMatchObject({ completedToday: 1, failedToday: 0 });
        },
      },
    ],
  },
  {
    name: 'timeseries',
    cases: [
      {
        id: 'timeseries.hourly-buckets',
        title: 'hourly buckets count runs by status with interpolated p50/p95 (100, 300 ⇒ 200, 290)',
        run: async ({ storage, clock }) => {
          const h0 = Date.UTC(2031, 2, 4, 6, 0, 0);
          clock.set(h0 + 60_000);
          const a = await startRun(storage);
          clock.advance(100);
          await storage.runs.completeRun(a.id, 'Succeeded');
          clock.set(h0 + 120_000);
          const b = await startRun(storage);
          clock.advance(300);
          await storage.runs.completeRun(b.id, 'Failed');
          clock.set(h0 + HOUR + 5_000);
          await startRun(storage);
          const buckets = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since: new Date(h0),
            until: new Date(h0 + 3 * HOUR),
          });
          expect(buckets).toHaveLength(3);
          expect(buckets[0]).toMatchObject({
            total: 2,
            succeeded: 1,
            failed: 1,
            running: 0,
            p50DurationMs: 200,
            p95DurationMs: 290,
          });
          expect(buckets[0]!.timestamp.getTime()).toBe(h0);
          expect(buckets[1]).toMatchObject({
            total: 1,
            running: 1,
            p50DurationMs: null,
            p95DurationMs: null,
          });
          expect(buckets[2]).toMatchObject({ total: 0, succeeded: 0, failed: 0, running: 0 });
        },
      },
      {
        id: 'timeseries.flow-filter',
        title: 'the flow filter counts only that flow',
        run: async ({ storage, clock }) => {
          const h0 = Date.UTC(2031, 2, 4, 6, 0, 0);
          clock.set(h0 + 1000);
          const flowId = uuid();
          await startRun(storage, { flowId });
          await startRun(storage);
          await startRun(storage);
          const buckets = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since: new Date(h0),
            until: new Date(h0 + HOUR),
            flowId,
          });
          expect(buckets.map((b) => b.total)).toEqual([1]);
        },
      },
      {
        id: 'timeseries.empty-zero-filled',
        title: 'an empty window returns zero-filled buckets with null percentiles',
        run: async ({ storage }) => {
          const since = new Date(Date.UTC(2031, 0, 1, 0, 0, 0));
          const buckets = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since,
            until: new Date(since.getTime() + 24 * HOUR),
          });
          expect(buckets).toHaveLength(24);
          expect(
            buckets.every((b) => b.total === 0 && b.p50DurationMs === null && b.p95DurationMs === null),
          ).toBe(true);
          expect(buckets[23]!.timestamp.getTime()).toBe(since.getTime() + 23 * HOUR);
        },
      },
      {
        id: 'timeseries.daily-30',
        title: 'daily buckets over 30 days assign runs to their UTC day',
        run: async ({ storage, clock }) => {
          const d0 = Date.UTC(2031, 1, 1);
          clock.set(d0 + 3 * DAY + 5 * HOUR);
          await startRun(storage);
          clock.set(d0 + 29 * DAY + 23 * HOUR);
          await startRun(storage);
          const buckets = await storage.runs.getRunTimeseries({
            granularity: 'Day',
            since: new Date(d0),
            until: new Date(d0 + 30 * DAY),
          });
          expect(buckets).toHaveLength(30);
          expect(buckets[3]!.total).toBe(1);
          expect(buckets[29]!.total).toBe(1);
          expect(buckets.reduce((n, b) => n + b.total, 0)).toBe(2);
        },
      },
      {
        id: 'timeseries.until-before-anchor-empty',
        title: 'until at or before the floored since returns []',
        run: async ({ storage }) => {
          const since = new Date(Date.UTC(2031, 0, 1, 5, 30));
          expect(
            await storage.runs.getRunTimeseries({
              granularity: 'Hour',
              since,
              until: new Date(Date.UTC(2031, 0, 1, 5, 0)),
            }),
          ).toEqual([]);
        },
      },
      {
        id: 'timeseries.timedout-and-skipped-own-fields',
        title: 'TimedOut and Skipped runs are counted in their own fields',
        run: async ({ storage, clock }) => {
          const h0 = Date.UTC(2031, 2, 4, 6, 0, 0);
          clock.set(h0 + 1000);
          const t = await startRun(storage);
          const s = await startRun(storage);
          const c = await startRun(storage);
          clock.advance(40);
          await storage.runs.completeRun(t.id, 'TimedOut');
          await storage.runs.completeRun(s.id, 'Skipped');
          await storage.runs.completeRun(c.id, 'Cancelled');
          const [bucket] = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since: new Date(h0),
            until: new Date(h0 + HOUR),
          });
          expect(bucket).toMatchObject({
            total: 3,
            timedOut: 1,
            skipped: 1,
            cancelled: 1,
            running: 0,
            p50DurationMs: 40,
          });
        },
      },
      {
        id: 'timeseries.since-is-lower-bound',
        title: 'runs before an unaligned since are excluded although its bucket is emitted',
        run: async ({ storage, clock }) => {
          const h0 = Date.UTC(2031, 2, 4, 6, 0, 0);
          clock.set(h0 + 10 * 60_000);
          await startRun(storage);
          clock.set(h0 + 40 * 60_000);
          await startRun(storage);
          const buckets = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since: new Date(h0 + 30 * 60_000),
            until: new Date(h0 + HOUR),
          });
          expect(buckets).toHaveLength(1);
          expect(buckets[0]!.timestamp.getTime()).toBe(h0);
          expect(buckets[0]!.total).toBe(1);
        },
      },
      {
        id: 'timeseries.fractional-durations',
        title:
          'percentiles interpolate between durations of finished runs only, keeping fractions of a millisecond',
        run: async ({ storage, clock }) => {
          const h0 = Date.UTC(2031, 2, 4, 6, 0, 0);
          clock.set(h0 + 1000);
          const a = await startRun(storage);
          const b = await startRun(storage);
          await startRun(storage);
          clock.advance(1000);
          await storage.runs.completeRun(a.id, 'Succeeded');
          clock.advance(1);
          await storage.runs.completeRun(b.id, 'Failed');
          const [bucket] = await storage.runs.getRunTimeseries({
            granularity: 'Hour',
            since: new Date(h0),
            until: new Date(h0 + HOUR),
          });
          // Durations 1000 and 1001 ms: the median is 1000.5 and the 95th percentile 1000.95.
          expect(bucket).toMatchObject({ total: 3, succeeded: 1, failed: 1, running: 1 });
          expect(bucket!.p50DurationMs).toBe(1000.5);
          expect(bucket!.p95DurationMs).toBeCloseTo(1000.95, 9);
        },
      },
    ],
  },
];
