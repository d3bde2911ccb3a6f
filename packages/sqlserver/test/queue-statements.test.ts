import { DuplicateRunError, InvalidArgumentError, ManualClock } from '@floworch/core';
import { checkStorageCapabilities, type RunWrites, type StepWrite } from '@floworch/core/backend';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqlNames } from '../src/sql/names.js';
import { createSqlServerStorage } from '../src/storage.js';
import { SqlServerQueueStore } from '../src/stores/queue-store.js';
import { batchPieces, PARAMETER_BUDGET, planRunWrites } from '../src/stores/queue-writes.js';
import { dialectViolations } from './support/dialect-rules.js';
import {
  defaultResponder,
  FLOW,
  type Recorded,
  RUN,
  recordingDb,
  SNAPSHOT_ROWS,
  sqlError,
  T0,
  T0_LEASE,
  UNIVERSAL_ROW,
} from './support/recording-db.js';
import { guardedStoresOver, runTour, storesOver } from './support/tour.js';

const n = new SqlNames('floworch');

/** Every statement of a log that is SQL (not a driver-level begin/commit/rollback marker). */
const sqlOnly = (log: readonly Recorded[]) => log.filter((s) => !s.sql.startsWith('<driver:'));

/** Position of `needle` in `text`, failing the test when it is missing. */
function at(text: string, needle: string): number {
  const index = text.indexOf(needle);
  expect(index, `missing: ${needle}`).toBeGreaterThanOrEqual(0);
  return index;
}

describe('queue statements: every method', () => {
  it('binds every caller value as a parameter: none is spliced into the statement text', async () => {
    // Status names are also written as literals by the statements themselves (N'Running', …).
    const statuses = new Set([
      'Running',
      'Pending',
      'Succeeded',
      'Failed',
      'Skipped',
      'Cancelled',
      'TimedOut',
    ]);
    const problems: string[] = [];
    for (const [method, statements] of await runTour()) {
      if (!method.startsWith('queue.')) continue;
      for (const statement of sqlOnly(statements)) {
        for (const value of statement.parameters) {
          if (typeof value !== 'string' || value.length < 2 || statuses.has(value)) continue;
          if (statement.sql.includes(`'${value.replaceAll("'", "''")}'`))
            problems.push(`${method}: ${value}`);
        }
        expect(statement.sql, method).not.toMatch(/\bLIMIT\b|\bRETURNING\b|FETCH NEXT @\d+ ROWS/);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('queue statements: take', () => {
  it('reads due rows with UPDLOCK, ROWLOCK, READPAST in index order, their run rows share-locked with READPAST, bounded by a positive TOP', async () => {
    const byMethod = await runTour();
    const [take] = byMethod.get('queue.take')!;
    expect(byMethod.get('queue.take')).toHaveLength(1);
    const text = take!.sql;
    expect(text.match(/\[FlowStepDispatches\] AS d WITH \(UPDLOCK, ROWLOCK, READPAST\)/g)).toHaveLength(2);
    expect(
      text.match(/\[FlowRuns\] AS r WITH \(REPEATABLEREAD, ROWLOCK, READPAST\) ON r\.\[Id\] = d\.\[RunId\]/g),
    ).toHaveLength(2);
    // The order of IX_FlowStepDispatches_VisibleAt, so TOP stops early without a sort.
    expect(text).toMatch(
      /SELECT TOP \(@\d+\) d\.\[RunId\][^;]+ORDER BY d\.\[VisibleAt\], d\.\[RunId\], d\.\[StepKey\];/,
    );
    expect(text).toMatch(
      /d\.\[VisibleAt\] IS NOT NULL AND d\.\[VisibleAt\] <= @now AND r\.\[Status\] = N'Running'/,
    );
    // The claim read takes no lock of its own: the claim writes re-check under the claim's lock.
    expect(text).toMatch(/LEFT JOIN \[floworch\]\.\[FlowStepClaims\] AS c ON/);
    // limit, bound twice (push and take); owner and instants bound, never spliced.
    expect(take!.parameters).toEqual([T0.toISOString(), T0_LEASE.toISOString(), 'w1', 5, 5]);
    expect(text).not.toContain("'w1'");
    expect(text).not.toMatch(/\bLIMIT\b|\bRETURNING\b/);
  });

  it('claims by insert or by taking over a lapsed lease of a non-terminal step, reporting only what it won (OUTPUT … INTO)', async () => {
    const [take] = (await runTour()).get('queue.take')!;
    const text = take!.sql;
    expect(text).toMatch(
      /c\.\[RunId\] IS NULL OR \(c\.\[LeaseExpiresAt\] IS NOT NULL AND c\.\[LeaseExpiresAt\] <= @now AND NOT EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowSteps\] AS s[^;]+IN \(N'Succeeded', N'Failed', N'Skipped'\)\)\)/,
    );
    expect(text).toMatch(
      /UPDATE c SET \[Owner\] = @owner, \[ClaimedAt\] = @now, \[LeaseExpiresAt\] = @expires\s+OUTPUT inserted\.\[RunId\], inserted\.\[StepKey\] INTO @won/,
    );
    // The takeover re-checks the lapse and the step status under the claim's own lock.
    expect(text).toMatch(
      /WHERE t\.\[Claimed\] = 1 AND c\.\[LeaseExpiresAt\] IS NOT NULL AND c\.\[LeaseExpiresAt\] <= @now AND NOT EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowSteps\] AS s WHERE s\.\[RunId\] = c\.\[RunId\]/,
    );
    // Rows without a claim are claimed by a plain insert: the ledger row's update lock already
    // makes this taker the step's only claimer, and a key-range probe would deadlock takers.
    expect(text).toMatch(
      /INSERT INTO \[floworch\]\.\[FlowStepClaims\][^;]+OUTPUT inserted\.\[RunId\], inserted\.\[StepKey\] INTO @won[^;]+FROM @due AS t WHERE t\.\[Claimed\] = 0;/,
    );
    expect(text).not.toContain('HOLDLOCK');
    // Taken rows reappear only when the lease lapses.
    expect(text).toMatch(
      /UPDATE d SET \[VisibleAt\] = @expires\s+FROM \[floworch\]\.\[FlowStepDispatches\] AS d WITH \(ROWLOCK\) JOIN @due/,
    );
    expect(text).toMatch(/FROM @due AS t\s+JOIN @won AS w/);
    expect(text).toMatch(/\[Ord\] INT IDENTITY\(1, 1\)/);
    // Lock order: ledger (with the run row) first, then claims.
    expect(at(text, 'INSERT INTO @due')).toBeLessThan(at(text, 'UPDATE c SET [Owner]'));
    expect(at(text, 'BEGIN TRANSACTION')).toBeLessThan(at(text, 'UPDATE TOP'));
    expect(at(text, 'COMMIT TRANSACTION')).toBeLessThan(at(text, 'ORDER BY t.[Ord]'));
  });

  it('rows held by a live claim (or whose step finished) are pushed to now + lease, never to NULL, before taking', async () => {
    const [take] = (await runTour()).get('queue.take')!;
    const text = take!.sql;
    const push = text.slice(at(text, 'UPDATE TOP'), at(text, 'INSERT INTO @due'));
    expect(push).toMatch(/^UPDATE TOP \(@4\) d SET \[VisibleAt\] = @expires/);
    expect(push).toMatch(/JOIN \[floworch\]\.\[FlowStepClaims\] AS c ON/);
    expect(push).toMatch(/c\.\[LeaseExpiresAt\] IS NULL OR c\.\[LeaseExpiresAt\] > @now OR EXISTS/);
    expect(text).not.toMatch(/\[VisibleAt\] = NULL/);
  });

  it('maps taken rows with lower-case ids, the lease expiry and the control row', async () => {
    const { queue } = storesOver(() => [
      {
        ...UNIVERSAL_ROW,
        Attempt: 2,
        CtlRunId: UNIVERSAL_ROW.RunId,
        CtlFlowId: UNIVERSAL_ROW.FlowId,
        CtlTriggerKey: 'manual',
        CtlIdempotencyKey: 'k',
        CtlCreatedAt: T0,
        CtlTimeoutAtUtc: T0_LEASE,
        CtlCancelRequested: 1,
        CtlCancelReason: 'stop',
        CtlCancelRequestedAtUtc: T0,
        CtlTimedOutAtUtc: null,
      },
    ]);
    const [step] = await queue.take({ owner: 'w1', limit: 1, leaseMs: 30_000 });
    expect(step).toEqual({
      runId: RUN,
      flowId: FLOW,
      stepKey: 's',
      owner: 'w1',
      attempt: 2,
      visibleAt: T0,
      leaseExpiresAt: T0_LEASE,
      control: {
        runId: RUN,
        flowId: FLOW,
        triggerKey: 'manual',
        idempotencyKey: 'k',
        createdAt: T0,
        timeoutAt: T0_LEASE,
        cancelRequested: true,
        cancelReason: 'stop',
        cancelRequestedAt: T0,
        timedOutAt: null,
      },
    });
  });

  it('limit ≤ 0 (or not a number) sends nothing; a non-positive lease is refused', async () => {
    const { queue, ctx } = storesOver();
    for (const limit of [0, -1, Number.NaN, 0.5])
      expect(await queue.take({ owner: 'w1', limit, leaseMs: 1 })).toEqual([]);
    expect(ctx.log).toHaveLength(0);
    await expect(
      guardedStoresOver().storage.queue!.take({ owner: 'w1', limit: 1, leaseMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a claim inserted behind its back (duplicate key) rolls the take back whole: nothing taken, no error', async () => {
    const { queue } = storesOver(() => sqlError(2627));
    expect(await queue.take({ owner: 'w1', limit: 3, leaseMs: 1000 })).toEqual([]);
    await expect(
      storesOver(() => sqlError(208)).queue.take({ owner: 'w1', limit: 3, leaseMs: 1000 }),
    ).rejects.toThrow();
  });

  it('a deadlock victim is retried', async () => {
    let calls = 0;
    const { queue } = storesOver(() => (++calls < 2 ? sqlError(1205) : []));
    expect(await queue.take({ owner: 'w1', limit: 1, leaseMs: 1000 })).toEqual([]);
    expect(calls).toBe(2);
  });
});

describe('queue statements: transact', () => {
  it('locks the run row exclusively first and reads the whole snapshot in one round trip', async () => {
    const { queue, ctx } = storesOver();
    let seen: unknown;
    await queue.transact(RUN, async (tx) => {
      seen = {
        status: tx.runStatus,
        flowId: tx.flowId,
        steps: Object.fromEntries(tx.steps),
        queue: Object.fromEntries(tx.queue),
        claim: tx.claim('s'),
        control: tx.control?.triggerKey,
      };
    });
    expect(seen).toEqual({
      status: 'Running',
      flowId: FLOW,
      steps: { s: 'Running', t: 'Pending' },
      queue: { s: { attempt: 1, visibleAt: T0_LEASE }, t: { attempt: 2, visibleAt: T0 } },
      claim: { owner: 'w1', leaseExpiresAt: T0_LEASE },
      control: 'manual',
    });
    // begin, snapshot, commit: a transaction that writes nothing sends no write batch.
    expect(ctx.log.map((s) => s.sql.split('\n')[0])).toEqual([
      '<driver: begin transaction>',
      'SET XACT_ABORT ON;',
      '<driver: commit>',
    ]);
    const snapshot = ctx.log[1]!.sql;
    const lock = at(
      snapshot,
      'FROM [floworch].[FlowRuns] WITH (XLOCK, HOLDLOCK, ROWLOCK) WHERE [Id] = @run;',
    );
    for (const table of ['FlowSteps', 'FlowStepDispatches', 'FlowStepClaims', 'FlowRunControls'])
      expect(at(snapshot, `[floworch].[${table}]`), table).toBeGreaterThan(lock);
    expect(ctx.log[1]!.parameters).toEqual([RUN]);
  });

  it('applies the writes in one batch after the work, in contract order: run, timeout, ledger, claims, steps, outputs, events', async () => {
    const byMethod = await runTour();
    const log = byMethod.get('queue.transact')!;
    expect(log[0]!.sql).toBe('<driver: begin transaction>');
    expect(log.at(-1)!.sql).toBe('<driver: commit>');
    const statements = sqlOnly(log);
    expect(statements).toHaveLength(3); // snapshot, the output read by the work, one write batch
    expect(statements[1]!.sql).toMatch(/^SELECT \[ValueJson\] FROM \[floworch\]\.\[FlowOutputs\]/);
    const writes = statements[2]!.sql;
    const order = [
      "UPDATE [floworch].[FlowRuns] SET [Status] = @3, [CompletedAt] = @now WHERE [Id] = @run AND [Status] = N'Running';",
      'UPDATE [floworch].[FlowRunControls]\n  SET [TimedOutAtUtc] = @now',
      'INSERT INTO [floworch].[FlowStepDispatches]',
      'INSERT INTO [floworch].[FlowStepClaims]',
      'UPDATE a SET [Status] = f.[Status]',
      'INSERT INTO [floworch].[FlowStepAttempts]',
      'INSERT INTO [floworch].[FlowOutputs]',
      'INSERT INTO [floworch].[FlowEvents]',
    ].map((needle) => at(writes, needle));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(writes).toMatch(
      /^SET XACT_ABORT ON;\nDECLARE @run UNIQUEIDENTIFIER = @1, @now DATETIMEOFFSET\(7\) = CONVERT/,
    );
    expect(dialectViolations(statements[2]!)).toEqual([]);
  });

  it('a skip appends an attempt numbered gap-free under UPDLOCK, HOLDLOCK and upserts the step row', async () => {
    const writes = sqlOnly((await runTour()).get('queue.transact')!)[2]!.sql;
    expect(writes).toMatch(
      /ISNULL\(\(SELECT MAX\(a\.\[AttemptNo\]\) FROM \[floworch\]\.\[FlowStepAttempts\] AS a WITH \(UPDLOCK, HOLDLOCK\)[^;]+\), 0\) \+ 1/,
    );
    expect(writes).toMatch(/N'Skipped', NULL, NULL, s\.\[Reason\], NULL, @now, @now, s\.\[TraceJson\]/);
    expect(writes).toMatch(
      /INSERT INTO \[floworch\]\.\[FlowSteps\][^;]+WHERE NOT EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowSteps\] WITH \(UPDLOCK, HOLDLOCK\)/,
    );
    // finish: the latest attempt and the step row.
    expect(writes).toMatch(/a\.\[AttemptNo\] = \(SELECT MAX\(m\.\[AttemptNo\]\)/);
  });

  it('events keep their order: identities follow ORDER BY of the INSERT … SELECT', async () => {
    const writes = sqlOnly((await runTour()).get('queue.transact')!)[2]!.sql;
    expect(writes).toMatch(/INSERT INTO \[floworch\]\.\[FlowEvents\][^;]+FROM @e\d+ ORDER BY \[Ord\];/);
  });

  it('a manual retry resets the step row, drops the claim and re-queues the row', async () => {
    const writes = sqlOnly((await runTour()).get('queue.transact(retry)')!)[1]!.sql;
    expect(writes).toMatch(
      /DELETE FROM \[floworch\]\.\[FlowStepClaims\] WHERE \[RunId\] = @run AND \[StepKey\] IN \(@\d+\);/,
    );
    expect(writes).toMatch(
      /SET \[Status\] = N'Running', \[OutputJson\] = NULL, \[ErrorMessage\] = NULL, \[CompletedAt\] = NULL, \[StartedAt\] = @now/,
    );
    expect(at(writes, 'INSERT INTO [floworch].[FlowStepDispatches]')).toBeLessThan(
      at(writes, 'DELETE FROM [floworch].[FlowStepClaims]'),
    );
  });

  it('when the work throws, nothing is written: rollback, and the error propagates', async () => {
    const { queue, ctx } = storesOver();
    await expect(
      queue.transact(RUN, async (tx) => {
        tx.saveOutput('x', 1);
        throw new Error('plan failed');
      }),
    ).rejects.toThrow('plan failed');
    expect(ctx.log.map((s) => s.sql.split('\n')[0])).toEqual([
      '<driver: begin transaction>',
      'SET XACT_ABORT ON;',
      '<driver: rollback>',
    ]);
  });

  it('when a write fails, the transaction is rolled back and the database error propagates', async () => {
    const { queue, ctx } = storesOver((s) =>
      s.sql.includes('INSERT INTO [floworch].[FlowOutputs]')
        ? sqlError(547, 'constraint')
        : defaultResponder(s),
    );
    await expect(queue.transact(RUN, async (tx) => tx.saveOutput('x', 1))).rejects.toThrow('constraint');
    expect(ctx.log.at(-1)!.sql).toBe('<driver: rollback>');
    expect(ctx.log.some((s) => s.sql === '<driver: commit>')).toBe(false);
  });

  it('an unknown run gives the work a snapshot with run null; a malformed id is refused before any SQL', async () => {
    const { queue, ctx } = storesOver((s) => (s.sql.includes('AS [Kind]') ? [] : [UNIVERSAL_ROW]));
    expect(await queue.transact(RUN, async (tx) => [tx.runStatus, tx.flowId])).toEqual([null, '']);
    const before = ctx.log.length;
    await expect(queue.transact('nope', async () => 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(ctx.log).toHaveLength(before);
  });
});

describe('queue statements: applying run writes', () => {
  const everyKind = (count: number): RunWrites => {
    const keys = Array.from({ length: count }, (_, i) => `k${i}`);
    const stepWrites: StepWrite[] = [
      { kind: 'finish', status: 'Failed', outputJson: null, errorMessage: 'boom' },
      { kind: 'skip', stepType: 'Work', reason: 'why', traceJson: null },
      { kind: 'reset' },
      { kind: 'start', stepType: 'Work', inputJson: null },
    ];
    return {
      run: { reopen: true },
      timedOut: 'late',
      steps: new Map(keys.map((k, i) => [k, stepWrites[i % 4]!])),
      queue: new Map(keys.map((k, i) => [k, { attempt: 2, visibleAt: i % 4 ? T0 : null }])),
      claims: new Map(
        keys.map((k, i) => [
          k,
          i % 2 ? { kind: 'delete' } : { kind: 'put', owner: 'w1', leaseExpiresAt: T0_LEASE },
        ]),
      ),
      outputs: new Map(keys.map((k) => [k, '{"v":1}'])),
      events: keys.map((k) => ({ type: 'step.completed', stepKey: k, message: null, timestamp: T0 })),
      notify: false,
    };
  };
  const prelude = sql`DECLARE @run UNIQUEIDENTIFIER = ${RUN}, @now DATETIMEOFFSET(7) = CONVERT(DATETIMEOFFSET(7), ${T0.toISOString()}, 127);`;

  it('every write kind compiles to statements that obey the dialect rules', () => {
    const { db } = recordingDb();
    const batches = batchPieces(db, prelude, planRunWrites(n, everyKind(8), FLOW, T0));
    expect(batches).toHaveLength(1);
    const compiled = batches[0]!.compile(db);
    const text = compiled.sql;
    expect(dialectViolations({ sql: text, parameters: compiled.parameters })).toEqual([]);
    expect(text).toContain(
      "UPDATE [floworch].[FlowRuns] SET [Status] = N'Running', [CompletedAt] = NULL WHERE [Id] = @run;",
    );
    expect(text).toMatch(
      /DELETE FROM \[floworch\]\.\[FlowStepClaims\] WHERE \[RunId\] = @run AND \[StepKey\] IN \(@\d+, @\d+, @\d+, @\d+\);/,
    );
    expect(text).not.toContain('DELETE FROM [floworch].[FlowSteps]');
    expect(text).not.toContain('DELETE FROM [floworch].[FlowStepDispatches]');
    // A missing control row is created with the run's flow id before the timeout is latched.
    expect(text).toMatch(
      /IF NOT EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowRunControls\] WITH \(UPDLOCK, HOLDLOCK\)/,
    );
    expect(compiled.parameters).toContain(FLOW);
    expect(compiled.parameters).toContain('late');
  });

  it('large write sets are split into batches that each stay under the parameter budget, order kept', () => {
    const { db } = recordingDb();
    const batches = batchPieces(db, prelude, planRunWrites(n, everyKind(1500), FLOW, T0));
    expect(batches.length).toBeGreaterThan(3);
    const rank: Record<string, number> = {
      FlowRuns: 0,
      FlowRunControls: 1,
      FlowStepDispatches: 2,
      FlowStepClaims: 3,
      FlowStepAttempts: 4,
      FlowSteps: 4,
      FlowOutputs: 5,
      FlowEvents: 6,
    };
    const ranks: number[] = [];
    for (const batch of batches) {
      const compiled = batch.compile(db);
      expect(compiled.parameters.length).toBeLessThanOrEqual(PARAMETER_BUDGET);
      expect(dialectViolations({ sql: compiled.sql, parameters: compiled.parameters })).toEqual([]);
      expect(compiled.sql).toMatch(/^DECLARE @run UNIQUEIDENTIFIER = @1, @now/);
      // Table variables are declared once per batch.
      const declared = [...compiled.sql.matchAll(/DECLARE (@\w+) TABLE/g)].map((m) => m[1]);
      expect(new Set(declared).size).toBe(declared.length);
      for (const m of compiled.sql.matchAll(/\[floworch\]\.\[(\w+)\]/g)) ranks.push(rank[m[1]!]!);
    }
    // Across all batches, tables are written in contract order.
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  });

  it('table-variable VALUES lists stay within 1 000 rows', () => {
    const { db } = recordingDb();
    const writes: RunWrites = {
      ...everyKind(0),
      run: null,
      timedOut: null,
      queue: new Map(
        Array.from(
          { length: 2500 },
          (_, i) => [`q${i}`, { kind: 'put', attempt: 1, visibleAt: null }] as const,
        ),
      ),
    };
    for (const batch of batchPieces(db, prelude, planRunWrites(n, writes, FLOW, T0))) {
      const text = batch.compile(db).sql;
      for (const m of text.matchAll(/VALUES ([^;]+);/g))
        expect(m[1]!.split('), (').length).toBeLessThanOrEqual(1000);
    }
  });
});

describe('queue statements: startRun', () => {
  it('writes key, run, trigger data and headers, control row, events and entry rows in one transaction batch', async () => {
    const byMethod = await runTour();
    const [start] = byMethod.get('queue.startRun')!;
    expect(byMethod.get('queue.startRun')).toHaveLength(1);
    const text = start!.sql;
    expect(text.startsWith('SET XACT_ABORT ON;')).toBe(true);
    const probe = at(
      text,
      'SELECT @existing = [RunId] FROM [floworch].[FlowIdempotencyKeys] WITH (UPDLOCK, HOLDLOCK)',
    );
    const exists = at(
      text,
      'EXISTS (SELECT 1 FROM [floworch].[FlowRuns] WITH (UPDLOCK, HOLDLOCK) WHERE [Id] = @run)',
    );
    expect(probe).toBeLessThan(exists);
    for (const table of [
      'FlowIdempotencyKeys',
      'FlowRuns',
      'FlowOutputs',
      'FlowRunControls',
      'FlowEvents',
      'FlowStepDispatches',
      'FlowStepClaims',
    ])
      expect(at(text, `INSERT INTO [floworch].[${table}]`), table).toBeGreaterThan(exists);
    // Idempotency parts are normalised for the lookup; the control row keeps the trimmed key.
    expect(start!.parameters.slice(3, 5)).toEqual(['webhook', 'key-a']);
    expect(start!.parameters).toContain('Key-A');
    expect(start!.parameters).toContain('{"x-trace":"1"}');
    expect(start!.parameters).toContain('__trigger:headers');
  });

  it('takes the first takeFor.limit entry rows for the owner: claims with the lease, rows visible at its end', async () => {
    const { queue, ctx } = storesOver(() => [{ Duplicate: 0, RunId: null }]);
    const result = await queue.startRun({
      run: { runId: RUN.toUpperCase(), flowId: FLOW, flowName: 'flow', triggerKey: 'manual' },
      triggerHeaders: null,
      idempotencyKey: null,
      timeoutAt: null,
      events: [],
      entrySteps: ['a', 'b', 'c'],
      takeFor: { owner: 'w1', leaseMs: 30_000, limit: 2 },
    });
    expect(result.duplicate).toBe(false);
    expect(result.runId).toBe(RUN);
    expect(result.taken.map((t) => [t.stepKey, t.attempt, t.visibleAt, t.leaseExpiresAt])).toEqual([
      ['a', 1, T0, T0_LEASE],
      ['b', 1, T0, T0_LEASE],
    ]);
    expect(result.taken[0]!.control).toMatchObject({
      runId: RUN,
      flowId: FLOW,
      triggerKey: 'manual',
      cancelRequested: false,
    });
    const params = ctx.log[0]!.parameters;
    const lease = T0_LEASE.toISOString();
    const now = T0.toISOString();
    // Ledger rows: a and b at the lease end, c due now; claims for a and b only.
    expect(params).toEqual(
      expect.arrayContaining(['a', 1, lease, 'b', 1, lease, 'c', 1, now, 'a', 'w1', lease, 'b', 'w1', lease]),
    );
    expect(ctx.log[0]!.sql).not.toContain('FlowIdempotencyKeys');
  });

  it('a registered idempotency key answers the earlier run, duplicate and nothing taken', async () => {
    const { queue } = storesOver(() => [{ Duplicate: 0, RunId: RUN.toUpperCase() }]);
    expect(
      await queue.startRun({
        run: { runId: '11111111-2222-4333-8444-555555555555', flowId: FLOW, flowName: null, triggerKey: 'w' },
        triggerHeaders: null,
        idempotencyKey: 'k',
        timeoutAt: null,
        events: [],
        entrySteps: ['a'],
        takeFor: { owner: 'w1', leaseMs: 1000, limit: 1 },
      }),
    ).toEqual({ runId: RUN, duplicate: true, taken: [] });
  });

  it('an existing run id is DuplicateRunError (flag or duplicate key), bad input is refused before any SQL', async () => {
    const input = {
      run: { runId: RUN, flowId: FLOW, flowName: null, triggerKey: null },
      triggerHeaders: null,
      idempotencyKey: null,
      timeoutAt: null,
      events: [],
      entrySteps: ['a'],
    };
    await expect(
      storesOver(() => [{ Duplicate: 1, RunId: null }]).queue.startRun(input),
    ).rejects.toBeInstanceOf(DuplicateRunError);
    await expect(storesOver(() => sqlError(2627)).queue.startRun(input)).rejects.toBeInstanceOf(
      DuplicateRunError,
    );
    const s = storesOver();
    await expect(
      s.queue.startRun({ ...input, run: { ...input.run, triggerDataJson: '{nope' } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      s.queue.startRun({ ...input, events: [{ type: 'x'.repeat(129), stepKey: '__run' }] }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.queue.startRun({ ...input, run: { ...input.run, runId: '' } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      s.queue.startRun({ ...input, entrySteps: Array.from({ length: 800 }, (_, i) => `s${i}`) }),
    ).rejects.toThrow(/2100 parameters/);
    expect(s.ctx.log).toHaveLength(0);
  });
});

describe('queue statements: start, renew, release, wake, next', () => {
  it('startStep fences on the claim, numbers the attempt under UPDLOCK, HOLDLOCK and stores the event in the same transaction', async () => {
    const byMethod = await runTour();
    const [start] = byMethod.get('queue.startStep')!;
    const text = start!.sql;
    const fence = at(text, 'IF EXISTS (SELECT 1 FROM [floworch].[FlowStepClaims] WITH (UPDLOCK, HOLDLOCK)');
    expect(fence).toBeGreaterThan(at(text, 'BEGIN TRANSACTION'));
    expect(
      at(text, 'ISNULL(MAX([AttemptNo]), 0) + 1 FROM [floworch].[FlowStepAttempts] WITH (UPDLOCK, HOLDLOCK)'),
    ).toBeGreaterThan(fence);
    const event = at(text, 'INSERT INTO [floworch].[FlowEvents]');
    expect(event).toBeLessThan(at(text, 'END;\nCOMMIT TRANSACTION;'));
    expect(start!.parameters.slice(-4)).toEqual([T0.toISOString(), 'step.started', 's', 'go']);
    expect(byMethod.get('queue.startStep(no event)')![0]!.sql).not.toContain('FlowEvents');
    expect(
      await storesOver(() => [{ ok: 0 }]).queue.startStep({
        runId: RUN,
        stepKey: 's',
        owner: 'w2',
        stepType: 'Work',
        inputJson: null,
      }),
    ).toBe(false);
    expect(
      await storesOver(() => [{ ok: 1 }]).queue.startStep({
        runId: RUN,
        stepKey: 's',
        owner: 'w1',
        stepType: 'Work',
        inputJson: null,
      }),
    ).toBe(true);
  });

  it('renew extends claim and queued row to now + lease and reads the control row in one round trip', async () => {
    const byMethod = await runTour();
    expect(byMethod.get('queue.renew')).toHaveLength(1);
    const [renew] = byMethod.get('queue.renew')!;
    const text = renew!.sql;
    expect(at(text, 'UPDATE d SET [VisibleAt] = @expires')).toBeLessThan(
      at(text, 'UPDATE [floworch].[FlowStepClaims] WITH (ROWLOCK) SET [LeaseExpiresAt] = @expires'),
    );
    expect(text).toMatch(
      /d\.\[VisibleAt\] IS NOT NULL\s+AND EXISTS \(SELECT 1 FROM \[floworch\]\.\[FlowStepClaims\] AS c WITH \(UPDLOCK, ROWLOCK\)/,
    );
    expect(text).toMatch(
      /SELECT @held AS \[Held\], ctl\.\[RunId\] AS \[CtlRunId\][^;]+LEFT JOIN \[floworch\]\.\[FlowRunControls\] AS ctl/,
    );
    expect(renew!.parameters).toContain(T0_LEASE.toISOString());
    const gone = await storesOver(() => [{ Held: 0, CtlRunId: null }]).queue.renew(RUN, 's', 'w1', 1000);
    expect(gone).toEqual({ held: false, control: null });
    const held = await storesOver(() => [{ ...SNAPSHOT_ROWS.at(-1), Held: 1 }]).queue.renew(
      RUN,
      's',
      'w1',
      1000,
    );
    expect(held.held).toBe(true);
    expect(held.control).toMatchObject({ runId: RUN, triggerKey: 'manual' });
    await expect(guardedStoresOver().storage.queue!.renew(RUN, 's', 'w1', 0)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('release hands the row back (due now by default) and deletes the claim, only for its owner', async () => {
    const byMethod = await runTour();
    const now = byMethod.get('queue.release')![0]!;
    const later = byMethod.get('queue.release(later)')![0]!;
    expect(now.parameters[4]).toBe(T0.toISOString());
    expect(later.parameters[4]).toBe(T0_LEASE.toISOString());
    expect(at(now.sql, 'UPDATE d SET [VisibleAt] = @at')).toBeLessThan(
      at(now.sql, 'DELETE FROM [floworch].[FlowStepClaims]'),
    );
    expect(now.sql).toMatch(
      /DELETE FROM \[floworch\]\.\[FlowStepClaims\] WHERE \[RunId\] = @run AND \[StepKey\] = @key AND \[Owner\] = @owner;/,
    );
    expect(await storesOver(() => [{ Released: 0 }]).queue.release(RUN, 's', 'w2')).toBe(false);
  });

  it('wake makes a queued, unclaimed (or lapsed) row due now in one statement', async () => {
    const [wake] = (await runTour()).get('queue.wake')!;
    expect(wake!.sql).toMatch(/UPDATE d SET \[VisibleAt\] = @now\s+OUTPUT inserted\.\[StepKey\]/);
    expect(wake!.sql).toMatch(
      /d\.\[VisibleAt\] IS NOT NULL\s+AND NOT EXISTS[^;]+c\.\[LeaseExpiresAt\] IS NULL OR c\.\[LeaseExpiresAt\] > @now/,
    );
    expect(await storesOver(() => []).queue.wake(RUN, 's')).toBe(false);
    expect(await storesOver(() => [{ StepKey: 's' }]).queue.wake(RUN, 's')).toBe(true);
  });

  it('nextVisibleAt is the earliest queued row of a Running run, or null', async () => {
    const [next] = (await runTour()).get('queue.nextVisibleAt')!;
    expect(next!.sql).toMatch(/SELECT MIN\(d\.\[VisibleAt\]\)[^;]+r\.\[Status\] = N'Running';/);
    expect(await storesOver(() => [{ VisibleAt: T0 }]).queue.nextVisibleAt()).toEqual(T0);
    expect(await storesOver(() => [{ VisibleAt: null }]).queue.nextVisibleAt()).toBeNull();
  });
});

describe('queue capability', () => {
  it('the backend registers the queue store and declares it truthfully; it has no listen (polling)', async () => {
    const { db } = recordingDb();
    const storage = await createSqlServerStorage({ kysely: db, migrate: false, clock: new ManualClock(T0) });
    expect(storage.capabilities).toContain('queue');
    expect(storage.queue).toBeInstanceOf(SqlServerQueueStore);
    expect(checkStorageCapabilities(storage)).toEqual([]);
    expect(storage.queue.listen).toBeUndefined();
  });
});

describe('queue statements: takeStep and listDue (job-system delivery)', () => {
  it('takeStep locks as take does (ledger UPDLOCK + READPAST, run share-locked with READPAST) and reads why with no locks', async () => {
    const [statement] = (await runTour()).get('queue.takeStep')!;
    const text = statement!.sql;
    expect(text).toMatch(/\[FlowStepDispatches\] AS d WITH \(UPDLOCK, ROWLOCK, READPAST\)/);
    expect(text).toMatch(
      /\[FlowRuns\] AS r WITH \(REPEATABLEREAD, ROWLOCK, READPAST\) ON r\.\[Id\] = d\.\[RunId\]/,
    );
    expect(text).toMatch(
      /c\.\[LeaseExpiresAt\] IS NOT NULL AND c\.\[LeaseExpiresAt\] <= @now AND NOT EXISTS/,
    );
    // Lock order: ledger and run first, then the claim, then the ledger row moves to the lease expiry.
    expect(at(text, 'FROM [floworch].[FlowStepDispatches] AS d WITH (UPDLOCK')).toBeLessThan(
      at(text, 'UPDATE c SET [Owner]'),
    );
    expect(at(text, 'COMMIT TRANSACTION')).toBeLessThan(at(text, 'WITH (READUNCOMMITTED)'));
    expect(text).not.toContain('HOLDLOCK');
    expect(statement!.parameters).toContain('w1');
    expect(text).not.toContain("'w1'");
  });

  const state = (over: Record<string, unknown>) => () => [
    {
      Won: 0,
      FlowId: null,
      Attempt: null,
      VisibleAt: null,
      RunStatus: 'Running',
      NowAttempt: 2,
      NowVisibleAt: T0,
      Owner: null,
      LeaseExpiresAt: null,
      Terminal: 0,
      CtlRunId: null,
      ...over,
    },
  ];
  const request = { runId: RUN, stepKey: 's', owner: 'w1', leaseMs: 30_000 };

  it('maps a won row to a taken step with the lease expiry and the row as it was before the take', async () => {
    const { queue } = storesOver(state({ Won: 1, FlowId: FLOW.toUpperCase(), Attempt: 3, VisibleAt: T0 }));
    expect(await queue.takeStep(request)).toEqual({
      kind: 'taken',
      step: {
        runId: RUN,
        flowId: FLOW,
        stepKey: 's',
        owner: 'w1',
        attempt: 3,
        visibleAt: T0,
        leaseExpiresAt: T0_LEASE,
        control: null,
      },
    });
  });

  it('tells busy, later, gone and locked apart from the unlocked read', async () => {
    const future = new Date(T0.getTime() + 5_000);
    expect(await storesOver(state({ Owner: 'x', LeaseExpiresAt: future })).queue.takeStep(request)).toEqual({
      kind: 'busy',
    });
    expect(await storesOver(state({ NowVisibleAt: future })).queue.takeStep(request)).toEqual({
      kind: 'later',
      attempt: 2,
      visibleAt: future,
    });
    expect(await storesOver(state({ NowVisibleAt: null })).queue.takeStep(request)).toEqual({ kind: 'gone' });
    expect(await storesOver(state({ RunStatus: 'Succeeded' })).queue.takeStep(request)).toEqual({
      kind: 'gone',
    });
    expect(await storesOver(state({ RunStatus: null })).queue.takeStep(request)).toEqual({ kind: 'gone' });
    expect(await storesOver(state({})).queue.takeStep(request)).toEqual({ kind: 'locked' });
    expect(await storesOver(() => sqlError(2627)).queue.takeStep(request)).toEqual({ kind: 'locked' });
    await expect(
      guardedStoresOver().storage.queue!.takeStep({ ...request, leaseMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('listDue reads due rows of running runs in index order under a positive TOP; limit ≤ 0 sends nothing', async () => {
    const [statement] = (await runTour()).get('queue.listDue')!;
    expect(statement!.sql).toMatch(
      /SELECT TOP \(@\d+\) d\.\[RunId\][^;]+d\.\[VisibleAt\] <= @before AND r\.\[Status\] = N'Running'\s+ORDER BY d\.\[VisibleAt\], d\.\[RunId\], d\.\[StepKey\];/,
    );
    const { queue, ctx } = storesOver();
    expect(await queue.listDue({ dueBefore: T0, limit: 0 })).toEqual([]);
    expect(ctx.log).toHaveLength(0);
    const rows = await storesOver(() => [
      { RunId: RUN.toUpperCase(), FlowId: FLOW.toUpperCase(), StepKey: 's', Attempt: 2, VisibleAt: T0 },
    ]).queue.listDue({ dueBefore: T0, limit: 5 });
    expect(rows).toEqual([{ runId: RUN, flowId: FLOW, stepKey: 's', attempt: 2, visibleAt: T0 }]);
  });

  it('startStep records the job id on the attempt and the step row', async () => {
    const { queue, ctx } = storesOver(() => [{ ok: 1 }]);
    await queue.startStep({
      runId: RUN,
      stepKey: 's',
      owner: 'w1',
      stepType: 'Work',
      inputJson: null,
      jobId: 'j-9',
    });
    const [statement] = ctx.log;
    expect(statement!.parameters).toContain('j-9');
    expect(statement!.sql).toMatch(/\[JobId\] = @job/);
  });
});
