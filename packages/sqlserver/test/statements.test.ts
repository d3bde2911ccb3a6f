import { DuplicateRunError, FlowNotFoundError, InvalidArgumentError } from '@floworch/core';
import { containsPattern } from '@floworch/sql';
import { describe, expect, it } from 'vitest';
import { KEY_COLLATION } from '../src/sql/names.js';
import { dialectViolations } from './support/dialect-rules.js';
import { FLOW, RUN, sqlError, UNIVERSAL_ROW } from './support/recording-db.js';
import { guardedStoresOver, runTour, storesOver, TOUR } from './support/tour.js';

/** The prototype in `store`'s chain that defines `method`. */
function protoOf(store: object, method: string): object {
  let p = Object.getPrototypeOf(store) as object;
  while (!Object.hasOwn(p, method)) p = Object.getPrototypeOf(p) as object;
  return p;
}

describe('statements: every store method compiled by kysely for SQL Server', () => {
  it('the tour calls every public method of every store', async () => {
    const stores = storesOver();
    const toured = new Set(TOUR.map(([name]) => name.replace(/\(.*\)$/, '')));
    const prefixes: Record<string, object> = {
      flows: stores.flows,
      runs: stores.runs,
      runtime: stores.runtime,
      queue: stores.queue,
      control: stores.control,
      outputs: stores.outputs,
      retention: stores.retention,
      signals: stores.signals,
      schedules: stores.schedules,
      webhookReplay: stores.replay,
      webhookRejections: stores.rejections,
    };
    const missing: string[] = [];
    for (const [prefix, store] of Object.entries(prefixes)) {
      // Walk the whole chain: shared SQL stores contribute methods from a base class.
      const methods = new Set<string>();
      for (
        let p = Object.getPrototypeOf(store) as object | null;
        p && p !== Object.prototype;
        p = Object.getPrototypeOf(p)
      )
        for (const name of Object.getOwnPropertyNames(p)) methods.add(name);
      for (const method of methods) {
        const proto = protoOf(store, method);
        if (method === 'constructor' || method.endsWith('Statement')) continue;
        const descriptor = Object.getOwnPropertyDescriptor(proto, method);
        if (typeof descriptor?.value !== 'function' || method.startsWith('#')) continue;
        if (prefix === 'outputs' && method === 'getRunEvents') continue;
        if (['put', 'read', 'transition', 'deleteBatch', 'isLastBatch'].includes(method)) continue; // non-public helpers
        if (!toured.has(`${prefix}.${method}`)) missing.push(`${prefix}.${method}`);
      }
    }
    expect(missing).toEqual([]);
    expect(toured.has('events.getRunEvents')).toBe(true);
  });

  it('every statement obeys the dialect rules (paging, FETCH > 0, LIKE escaping, lock guards, clock, XACT_ABORT)', async () => {
    const byMethod = await runTour();
    const violations: string[] = [];
    for (const [method, statements] of byMethod) {
      if (statements.length === 0) violations.push(`${method}: issued no statement`);
      for (const s of statements) for (const v of dialectViolations(s)) violations.push(`${method}: ${v}`);
    }
    expect(violations).toEqual([]);
  });

  it('writes that hand a row back use OUTPUT inserted.* instead of a second read', async () => {
    const byMethod = await runTour();
    for (const method of [
      'flows.save',
      'flows.setEnabled',
      'runs.startRun',
      'runs.completeRunIfActive',
      'runs.tryRecordDispatch',
      'runtime.renewStepClaim',
      'control.extendDeadline',
      'control.tryRegisterIdempotencyKey',
      'schedules.save',
      'webhookReplay.tryRegister',
      'webhookRejections.write',
    ]) {
      const [statement] = byMethod.get(method)!;
      expect(statement!.sql, method).toMatch(/OUTPUT \[?inserted\]?\.[[*]/i);
    }
  });

  it('insert-if-absent primitives probe WITH (UPDLOCK, HOLDLOCK) before inserting', async () => {
    const byMethod = await runTour();
    for (const method of [
      'runs.tryRecordDispatch',
      'runtime.tryClaimStep',
      'runtime.tryClaimStep(lease)',
      'control.tryRegisterIdempotencyKey',
      'control.requestCancel',
      'control.markTimedOut',
      'webhookReplay.tryRegister',
    ]) {
      const [statement] = byMethod.get(method)!;
      expect(statement!.sql, method).toMatch(
        /NOT EXISTS \(SELECT 1( AS \[\w+\])? FROM \S+( AS \[\w+\])? WITH \(UPDLOCK, HOLDLOCK/i,
      );
    }
    for (const method of ['flows.save', 'control.configureRun', 'outputs.saveStepOutput', 'schedules.save']) {
      expect(byMethod.get(method)![0]!.sql, method).toMatch(
        /^MERGE (INTO )?\S+ WITH \(HOLDLOCK\) AS \[?t\b/i,
      );
    }
  });

  it('attempt numbering and fencing serialise on the step under UPDLOCK, HOLDLOCK in one transaction', async () => {
    const byMethod = await runTour();
    const start = byMethod.get('runs.recordStepStart(fenced)')![0]!.sql;
    expect(start).toMatch(
      /FROM \[floworch\]\.\[FlowStepClaims\] WITH \(UPDLOCK, HOLDLOCK\)[\s\S]+\[Owner\] = @owner/,
    );
    expect(start).toMatch(
      /ISNULL\(MAX\(\[AttemptNo\]\), 0\) \+ 1 FROM \[floworch\]\.\[FlowStepAttempts\] WITH \(UPDLOCK, HOLDLOCK\)/,
    );
    expect(start.indexOf('BEGIN TRANSACTION')).toBeLessThan(start.indexOf('MAX([AttemptNo])'));
    const skipped = byMethod.get('runtime.recordSkippedStep')![0]!.sql;
    expect(skipped).toMatch(/FlowStepAttempts\] WITH \(UPDLOCK, HOLDLOCK\)/);
    expect(skipped).not.toMatch(/N'Running'/);
  });

  it('a lapsed lease is taken over only under the row lock and only for non-terminal steps', async () => {
    const byMethod = await runTour();
    const claim = byMethod.get('runtime.tryClaimStep(lease)')![0]!;
    expect(claim.sql).toMatch(/WITH \(UPDLOCK, HOLDLOCK, ROWLOCK\)/);
    expect(claim.sql).toMatch(/WITH \(UPDLOCK, ROWLOCK\)[\s\S]+\[LeaseExpiresAt\] <= @now/);
    expect(claim.sql).toMatch(/NOT EXISTS[\s\S]+IN \(N'Succeeded', N'Failed', N'Skipped'\)/);
    // Lease end = clock + duration, as ISO text.
    expect(claim.parameters).toContain('2031-03-04T10:17:53.456Z');
  });

  it('signal delivery takes the oldest undelivered waiter with UPDLOCK, ROWLOCK, READPAST, then waits for in-flight ones', async () => {
    const byMethod = await runTour();
    const deliver = byMethod.get('signals.deliverSignal')![0]!.sql;
    const readpast = deliver.indexOf('WITH (UPDLOCK, ROWLOCK, READPAST)');
    const blocking = deliver.indexOf('WITH (UPDLOCK, ROWLOCK)');
    expect(readpast).toBeGreaterThan(0);
    expect(blocking).toBeGreaterThan(readpast);
    expect(deliver).toMatch(/\[DeliveredAt\] IS NULL\s+ORDER BY \[CreatedAt\], \[RegisteredSeq\]/);
    expect(deliver).toMatch(/OUTPUT inserted\.\[StepKey\], inserted\.\[DeliveredAt\] INTO @hit/);
  });

  it('retention deletes a bounded batch with READPAST and every dependent table in one transaction', async () => {
    const byMethod = await runTour();
    const [batch] = byMethod.get('retention.cleanup')!;
    expect(batch!.sql).toMatch(
      /DELETE TOP \(@\d+\) FROM \[floworch\]\.\[FlowRuns\] WITH \(READPAST, ROWLOCK\)/,
    );
    expect(batch!.sql).toMatch(/\[CompletedAt\] < CONVERT/);
    for (const table of [
      'FlowStepClaims',
      'FlowStepDispatches',
      'FlowRunControls',
      'FlowIdempotencyKeys',
      'FlowSignalWaiters',
      'FlowOutputs',
      'FlowEvents',
      'FlowStepAttempts',
      'FlowSteps',
    ]) {
      expect(batch!.sql, table).toContain(`DELETE x FROM [floworch].[${table}] AS x JOIN @ids`);
    }
    expect(batch!.parameters[0]).toBe(100);
  });

  it('retention keeps going while full batches come back and stops on a short one', async () => {
    let calls = 0;
    const { retention, ctx } = storesOver(() => [{ deleted: ++calls < 3 ? 2 : 1 }]);
    expect(await retention.cleanup(new Date(), { batchSize: 2 })).toEqual({ runsDeleted: 5 });
    expect(ctx.log).toHaveLength(3);
  });
});

describe('statements: paging', () => {
  it('take = 0 answers from the count alone: no OFFSET … FETCH is sent', async () => {
    const { runs, ctx } = storesOver();
    const page = await runs.getRunsPage({ take: 0 });
    expect(page).toEqual({ runs: [], totalCount: 3 });
    expect(ctx.log).toHaveLength(1);
    expect(ctx.log[0]!.sql).toMatch(/^select count_big\(\*\) as \[total\]/);
    expect(ctx.log.some((s) => /FETCH/.test(s.sql))).toBe(false);
  });

  it('skip beyond the total answers without a page query', async () => {
    const { runs, ctx } = storesOver();
    expect(await runs.getRunsPage({ skip: 3, take: 10 })).toEqual({ runs: [], totalCount: 3 });
    expect(ctx.log).toHaveLength(1);
  });

  // Clamping skip and take is the storage guard's job; the store pages with what it is given.
  it('a run page is ordered newest first, ties by id text, then OFFSET … FETCH', async () => {
    const { runs, ctx } = storesOver();
    await runs.getRunsPage({ skip: 0, take: 500 });
    const page = ctx.log[1]!;
    expect(page.sql).toMatch(
      /order by \[r\]\.\[StartedAt\] desc, CONVERT\(NCHAR\(36\), \[r\]\.\[Id\]\) COLLATE Latin1_General_100_BIN2 offset @1 rows fetch next @2 rows only;$/,
    );
    expect(page.parameters).toEqual([0, 500]);
  });

  it('event paging always fetches at least one row, at most 1 000 (clamped by the guard)', async () => {
    for (const [take, expected] of [
      [0, 1],
      [-3, 1],
      [5000, 1000],
      [undefined, 200],
    ] as const) {
      const { storage, ctx } = guardedStoresOver();
      await storage.events!.getRunEvents(RUN, { skip: -1, take });
      expect(ctx.log[0]!.parameters.slice(-2)).toEqual([0, expected]);
      expect(ctx.log[0]!.sql).toMatch(/ORDER BY \[Sequence\] OFFSET @\d+ ROWS FETCH NEXT @\d+ ROWS ONLY;$/i);
    }
  });

  it('webhook paging: take ≤ 0 → 50, > 500 → 500 (clamped by the guard); a page past the end sends no FETCH', async () => {
    const a = guardedStoresOver();
    await a.storage.webhookRejections!.query({ take: 0, skip: -2 });
    expect(a.ctx.log[1]!.parameters).toEqual([0, 50]);
    expect(a.ctx.log[1]!.sql).toMatch(/ORDER BY \[Id\] DESC OFFSET/i);
    const b = guardedStoresOver();
    await b.storage.webhookRejections!.query({ take: 9999, skip: 7 });
    expect(b.ctx.log).toHaveLength(1);
    const c = storesOver();
    expect(await c.rejections.query({ includeAccepted: false, includeRejected: false })).toEqual({
      items: [],
      total: 0,
    });
    expect(c.ctx.log).toHaveLength(0);
  });

  it('run paging: negative skip and oversized take reach OFFSET/FETCH clamped by the guard', async () => {
    const { storage, ctx } = guardedStoresOver();
    await storage.runs.getRunsPage({ skip: -5, take: 10_000 });
    expect(ctx.log[1]!.parameters).toEqual([0, 500]);
  });

  it('getActiveRuns(0) and getExpiredClaims(0) send nothing (no TOP (0))', async () => {
    const { runs, runtime, ctx } = storesOver();
    expect(await runs.getActiveRuns(0)).toEqual([]);
    expect(await runtime.getExpiredClaims(0)).toEqual([]);
    expect(ctx.log).toHaveLength(0);
  });
});

describe('statements: search is literal', () => {
  it('escapes %, _, [ and the escape character itself; ] stays literal', () => {
    expect(containsPattern('100%', true)).toBe('%100\\%%');
    expect(containsPattern('snake_case', true)).toBe('%snake\\_case%');
    expect(containsPattern('arr[0]', true)).toBe('%arr\\[0]%');
    expect(containsPattern('path\\to', true)).toBe('%path\\\\to%');
    expect(containsPattern('plain', true)).toBe('%plain%');
  });

  it('run search binds the escaped, trimmed term in every comparison, case-insensitively', async () => {
    const { runs, ctx } = storesOver();
    await runs.getRunsPage({ search: '  a%b_c[d]\\e ' });
    const [count] = ctx.log;
    expect(count!.parameters).toEqual(Array(11).fill('%a\\%b\\_c\\[d]\\\\e%'));
    const likes = count!.sql.match(/COLLATE Latin1_General_100_CI_AS LIKE @\d+ ESCAPE N'\\'/g) ?? [];
    expect(likes).toHaveLength(11);
    expect(count!.sql).toContain('CONVERT(NVARCHAR(36), [r].[Id]) COLLATE');
    expect(count!.sql).toContain('[FlowSteps] as [s]');
    expect(count!.sql).toContain('[FlowStepAttempts] as [a]');
    expect(count!.sql).not.toMatch(/TriggerDataJson\] COLLATE|InputJson\] COLLATE/);
  });

  it('status filter is case-insensitive by explicit collation, not by the database default', async () => {
    const { runs, ctx } = storesOver();
    await runs.getRunsPage({ status: ' FAILED ' });
    expect(ctx.log[0]!.sql).toContain('[r].[Status] COLLATE Latin1_General_100_CI_AS = @1');
    expect(ctx.log[0]!.parameters).toEqual(['FAILED']);
  });
});

describe('statements: race outcomes and errors', () => {
  it('a duplicate-key error (2627/2601) on an insert-if-absent is the loser’s false', async () => {
    for (const number of [2627, 2601]) {
      const s = storesOver(() => sqlError(number));
      expect(await s.runs.tryRecordDispatch(RUN, 's')).toBe(false);
      expect(await s.control.tryRegisterIdempotencyKey(FLOW, 't', 'k', RUN)).toBe(false);
      expect(await s.replay.tryRegister(FLOW, 't', 'n', new Date())).toBe(false);
    }
  });

  it('no row back means the key existed: false', async () => {
    const s = storesOver(() => []);
    expect(await s.runs.tryRecordDispatch(RUN, 's')).toBe(false);
    expect(await s.runtime.tryClaimStep(RUN, 's')).toBe(false);
    expect(await s.control.tryRegisterIdempotencyKey(FLOW, 't', 'k', RUN)).toBe(false);
  });

  it('other errors are not swallowed', async () => {
    const s = storesOver(() => sqlError(208, "Invalid object name 'x'"));
    await expect(s.runs.tryRecordDispatch(RUN, 's')).rejects.toThrow(/Invalid object name/);
  });

  it('a deadlock victim (1205) is retried', async () => {
    let calls = 0;
    const s = storesOver(() => (++calls < 3 ? sqlError(1205) : [{ won: 1 }]));
    expect(await s.runtime.tryClaimStep(RUN, 's')).toBe(true);
    expect(calls).toBe(3);
  });

  it('errors nested the way kysely hands them over (arrays, causes) are recognised', async () => {
    const s = storesOver(() => Object.assign(new Error('agg'), { errors: [sqlError(2627)] }));
    expect(await s.runs.tryRecordDispatch(RUN, 's')).toBe(false);
  });

  it('startRun maps a duplicate primary key to DuplicateRunError', async () => {
    const s = storesOver(() => sqlError(2627));
    await expect(
      s.runs.startRun({ runId: RUN, flowId: FLOW, flowName: null, triggerKey: null }),
    ).rejects.toBeInstanceOf(DuplicateRunError);
  });

  it('setEnabled of an unknown id throws FlowNotFoundError', async () => {
    const s = storesOver(() => []);
    await expect(s.flows.setEnabled(FLOW, true)).rejects.toBeInstanceOf(FlowNotFoundError);
  });

  it('malformed ids and over-long keys are refused with InvalidArgumentError before any SQL', async () => {
    const s = storesOver();
    await expect(s.runs.getRunDetail('not-a-uuid')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.runs.tryRecordDispatch(RUN, 'k'.repeat(257))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(s.ctx.log).toHaveLength(0);
  });
});

describe('statements: values', () => {
  it('ids come back lower-case; BIGINT sequences and counts as numbers; bits as booleans', async () => {
    const s = storesOver();
    const run = await s.runs.getRunDetail(RUN);
    expect(run!.id).toBe(RUN);
    expect(run!.flowId).toBe(FLOW);
    const [event] = await s.outputs.getRunEvents(RUN);
    expect(event!.sequence).toBe(7);
    expect((await s.runs.getStatistics()).totalFlows).toBe(1);
    expect((await s.flows.getById(FLOW))!.isEnabled).toBe(true);
  });

  it('idempotency parts are trimmed and lower-cased before they are bound', async () => {
    const s = storesOver();
    await s.control.findRunIdByIdempotencyKey(FLOW, ' Webhook ', '  Key-A ');
    expect(s.ctx.log[0]!.parameters).toEqual([FLOW, 'webhook', 'key-a']);
  });

  it('signal names are trimmed, never case-folded', async () => {
    const s = storesOver();
    await s.signals.deliverSignal(RUN, '  Approve ', '{}');
    expect(s.ctx.log[0]!.parameters).toContain('Approve');
  });

  it('run detail builds a synthetic attempt #1 for a step without attempt rows', async () => {
    const s = storesOver((st) => (/FlowStepAttempts/.test(st.sql) ? [] : [UNIVERSAL_ROW]));
    const run = await s.runs.getRunDetail(RUN);
    expect(run!.steps![0]!.attempts.map((a) => a.attempt)).toEqual([1]);
    expect(run!.steps![0]!.attemptCount).toBe(1);
  });

  it('rejection reasons are truncated to 64 characters before the insert', async () => {
    const s = storesOver();
    await s.rejections.write({
      flowId: null,
      triggerKey: null,
      receivedAt: new Date(),
      remoteIp: null,
      reason: 'x'.repeat(100),
      statusCode: 400,
      bodyBytes: 0,
      bodyTruncated: null,
      headersJson: null,
      scheme: null,
      processingMs: null,
      isAccepted: false,
    });
    expect(s.ctx.log[0]!.parameters).toContain('x'.repeat(64));
  });

  it('binary collation constant is the BIN2 one', () => {
    expect(KEY_COLLATION).toBe('Latin1_General_100_BIN2');
  });
});

describe('statements: shared run reads', () => {
  it('run detail reads the run first, then steps (start, ordinal key), attempts and trigger headers', async () => {
    const { runs, ctx } = storesOver();
    await runs.getRunDetail(RUN);
    const sqls = ctx.log.map((s) => s.sql);
    expect(sqls).toHaveLength(4);
    expect(sqls[0]).toMatch(/^select \* from \[floworch\]\.\[FlowRuns\] where \[Id\] = @1;$/);
    expect(sqls[1]).toMatch(/order by \[StartedAt\], \[StepKey\] COLLATE Latin1_General_100_BIN2;$/);
    expect(sqls[2]).toMatch(/from \[floworch\]\.\[FlowStepAttempts\] .*order by \[AttemptNo\];$/);
    expect(sqls[3]).toMatch(/from \[floworch\]\.\[FlowOutputs\] where \[RunId\] = @1 and \[Key\] = @2;$/);
    expect(ctx.log.every((s) => s.parameters[0] === RUN)).toBe(true);
  });

  it('statistics are one statement of four counts over today as ISO-8601 instants', async () => {
    const { runs, ctx } = storesOver();
    await runs.getStatistics();
    expect(ctx.log).toHaveLength(1);
    const [stats] = ctx.log;
    expect(stats!.sql.match(/select count_big\(\*\) as \[n\]/g)).toHaveLength(4);
    expect(stats!.sql).toMatch(/\[CompletedAt\] >= CONVERT\(DATETIMEOFFSET\(7\), @\d+, 127\)/);
    expect(stats!.parameters).toContain('2031-03-04T00:00:00.000Z');
    expect(stats!.parameters).toContain('2031-03-05T00:00:00.000Z');
  });

  it('the time series selects the whole-bucket window; a bounded active-run list fetches a positive count', async () => {
    const { runs, ctx } = storesOver();
    await runs.getRunTimeseries({
      since: new Date('2031-03-04T08:30:00Z'),
      until: new Date('2031-03-04T10:00:00Z'),
      granularity: 'Hour',
    });
    expect(ctx.log[0]!.parameters).toEqual(['2031-03-04T08:00:00.000Z', '2031-03-04T10:00:00.000Z']);
    await runs.getActiveRuns(5);
    expect(ctx.log[1]!.sql).toMatch(/offset @\d+ rows fetch next @\d+ rows only;$/);
    expect(ctx.log[1]!.parameters.slice(-2)).toEqual([0, 5]);
  });
});
