/**
 * Side-by-side peers on the same PostgreSQL server, each on its own fresh database: the same
 * 5-step chain (trivial step bodies) at concurrency 10, and the idle hand-off (one run at a time).
 *
 * - graphile-worker: one task; each job is one step and enqueues the next step's job with
 *   `helpers.addJob` before it returns. Runs are triggered with `WorkerUtils.addJob`.
 *   `defaults` is `run()` with `concurrency: 10` and nothing else; `batched` adds the documented
 *   throughput options (`localQueue.size = concurrency + 1`, `completeJobBatchDelay: 0`).
 * - DBOS Transact: a workflow of 5 `DBOS.runStep` steps, started with `DBOS.startWorkflow`; at
 *   most `concurrency` workflows open at once (each executes one step at a time, so at most
 *   `concurrency` steps execute at once — the same bound as the engine's worker count).
 *
 * Measured like the engine's rows: one warm-up, then `reps` repetitions on a fresh process-side
 * pool (ended before the final counter read), `xact_commit` delta of the peer's database minus the
 * peer's own start/stop cost (measured once with zero runs) ÷ steps, client-side statement count,
 * Node CPU per step.
 */

import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { Logger, makeWorkerUtils, type Runner, run as runWorker, type Task } from 'graphile-worker';
import pg from 'pg';
import { CommitCounter } from './commit-counter.js';

/** Steps per chain run (matches the engine's chain flow). */
export const CHAIN_STEPS = 5;

/** One repetition of a peer workload. */
export interface PeerRep {
  readonly elapsedMs: number;
  readonly steps: number;
  readonly runs: number;
  readonly commits: number;
  readonly queries: number;
  readonly cpuMs: number;
  /** Handler end of step k → handler start of step k+1 (ms), hand-off workload only. */
  readonly handoff?: number[];
}

/** A started peer: drives runs, then stops (ending every connection it opened). */
interface PeerInstance {
  /** Completes `runs` chain runs keeping at most `window` open; resolves with elapsed ms. */
  drive(runs: number, window: number): Promise<number>;
  /** Statements sent so far (client-side). */
  queries(): number;
  stop(): Promise<void>;
}

/** A peer system under test. */
export interface Peer {
  readonly name: string;
  /** Database name prefix. */
  readonly prefix: string;
  /** What was configured, for the report. */
  readonly config: string;
  /** Prepares the (empty) database: schema migrations. */
  setup(url: string): Promise<void>;
  start(url: string, concurrency: number, clock: HandlerClock): Promise<PeerInstance>;
}

/** Handler start/end times per run and step (performance.now). */
export class HandlerClock {
  readonly #times = new Map<string, Array<[number, number] | undefined>>();
  enabled = false;

  mark(run: string, step: number, phase: 0 | 1): void {
    if (!this.enabled) return;
    let row = this.#times.get(run);
    if (!row) {
      row = [];
      this.#times.set(run, row);
    }
    const t = performance.now();
    const cell = row[step] ?? [t, t];
    cell[phase] = t;
    row[step] = cell;
  }

  handoffs(): number[] {
    const gaps: number[] = [];
    for (const row of this.#times.values()) {
      for (let k = 0; k + 1 < CHAIN_STEPS; k++) {
        const end = row[k]?.[1];
        const next = row[k + 1]?.[0];
        if (end !== undefined && next !== undefined) gaps.push(next - end);
      }
    }
    return gaps;
  }

  clear(): void {
    this.#times.clear();
  }
}

/** Counts the statements sent through a pool's clients. */
function countQueries(pool: pg.Pool): () => number {
  let n = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      n++;
      return query(...args);
    };
  });
  return () => n;
}

/** Keeps `window` runs open: `launch()` starts one; the caller reports each completion. */
function windowDriver(launch: (n: number) => Promise<void>): {
  drive(runs: number, window: number): Promise<number>;
  completed(): void;
} {
  let state:
    | {
        runs: number;
        window: number;
        launched: number;
        done: number;
        t0: number;
        resolve: (ms: number) => void;
        reject: (e: unknown) => void;
        pumping: boolean;
      }
    | undefined;
  const pump = async (): Promise<void> => {
    const s = state;
    if (!s || s.pumping) return;
    s.pumping = true;
    try {
      while (s.launched < s.runs && s.launched - s.done < s.window) {
        s.launched++;
        await launch(s.launched);
      }
    } catch (error) {
      s.reject(error);
    } finally {
      s.pumping = false;
    }
  };
  return {
    drive(runs, window) {
      return new Promise<number>((resolve, reject) => {
        state = {
          runs,
          window,
          launched: 0,
          done: 0,
          t0: performance.now(),
          resolve,
          reject,
          pumping: false,
        };
        void pump();
      });
    },
    completed() {
      const s = state;
      if (!s) return;
      s.done++;
      if (s.done >= s.runs) {
        state = undefined;
        s.resolve(performance.now() - s.t0);
      } else void pump();
    },
  };
}

const silentGwLogger = new Logger(() => () => {});

/** graphile-worker, defaults or with its batching options. */
export function graphileWorkerPeer(batched: boolean): Peer {
  return {
    name: batched ? 'graphile-worker (batched)' : 'graphile-worker (defaults)',
    prefix: batched ? 'gw_bench_batched' : 'gw_bench',
    config: batched
      ? 'run({ concurrency: 10, preset.worker: { localQueue: { size: 11 }, completeJobBatchDelay: 0 } })'
      : 'run({ concurrency: 10 }) (pollInterval 2000 with LISTEN/NOTIFY, prepared statements)',
    async setup(url) {
      const utils = await makeWorkerUtils({ connectionString: url, logger: silentGwLogger });
      await utils.migrate();
      await utils.release();
    },
    async start(url, concurrency, clock) {
      let onComplete = () => {};
      const task: Task = async (payload, helpers) => {
        const { r, k } = payload as { r: string; k: number };
        clock.mark(r, k, 0);
        // (the step's work: nothing)
        clock.mark(r, k, 1);
        if (k + 1 < CHAIN_STEPS) await helpers.addJob('step', { r, k: k + 1 });
        else onComplete();
      };
      const pool = new pg.Pool({ connectionString: url, max: concurrency + 2 });
      const workerQueries = countQueries(pool);
      const utilsPool = new pg.Pool({ connectionString: url, max: 2 });
      const utilsQueries = countQueries(utilsPool);
      const runner: Runner = await runWorker({
        pgPool: pool,
        concurrency,
        noHandleSignals: true,
        logger: silentGwLogger,
        taskList: { step: task },
        ...(batched
          ? { preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0 } } }
          : {}),
      });
      const utils = await makeWorkerUtils({ pgPool: utilsPool, logger: silentGwLogger });
      let seq = 0;
      const driver = windowDriver(async () => {
        await utils.addJob('step', { r: `run${++seq}`, k: 0 });
      });
      onComplete = () => driver.completed();
      return {
        drive: (runs, window) => driver.drive(runs, window),
        queries: () => workerQueries() + utilsQueries(),
        async stop() {
          await runner.stop();
          await utils.release();
          await utilsPool.end();
          await pool.end();
        },
      };
    },
  };
}

let dbosChain: ((run: string) => Promise<number>) | undefined;
let dbosClock: HandlerClock | undefined;

/** DBOS Transact: a workflow of five steps. */
export function dbosPeer(): Peer {
  return {
    name: 'DBOS Transact',
    prefix: 'dbos_bench',
    config:
      'DBOS.launch() defaults; workflow of 5 DBOS.runStep steps started with DBOS.startWorkflow, ≤ 10 open',
    async setup(url) {
      // Migrations before the commit counter opens its transaction (DBOS's migrations would
      // otherwise wait for it).
      await DBOS.migrate(url);
    },
    async start(url, concurrency, clock) {
      dbosClock = clock;
      dbosChain ??= DBOS.registerWorkflow(
        async (run: string) => {
          for (let k = 0; k < CHAIN_STEPS; k++) {
            await DBOS.runStep(
              async () => {
                dbosClock?.mark(run, k, 0);
                dbosClock?.mark(run, k, 1);
                return k;
              },
              { name: `s${k}` },
            );
          }
          return CHAIN_STEPS;
        },
        { name: 'benchChain' },
      );
      const pool = new pg.Pool({ connectionString: url, max: Math.max(10, concurrency) });
      const queries = countQueries(pool);
      DBOS.setConfig({
        name: 'floworch-bench',
        systemDatabaseUrl: url,
        systemDatabasePool: pool,
        logLevel: 'error',
        runMigrations: false,
      });
      await DBOS.launch();
      let seq = 0;
      const chain = dbosChain;
      const driver = windowDriver(async () => {
        const handle = await DBOS.startWorkflow(chain)(`run${++seq}`);
        void handle.getResult().then(
          () => driver.completed(),
          () => driver.completed(),
        );
      });
      return {
        drive: (runs, window) => driver.drive(runs, window),
        queries,
        async stop() {
          await DBOS.shutdown();
          await pool.end();
        },
      };
    },
  };
}

/**
 * Measures one peer workload on a database: the start/stop cost (zero runs), a warm-up, then
 * `reps` repetitions. `window` runs are kept open (1 for the hand-off).
 */
export async function measurePeer(
  peer: Peer,
  url: string,
  opts: {
    concurrency: number;
    runs: number;
    warmupRuns: number;
    reps: number;
    window: number;
    handoff: boolean;
  },
): Promise<PeerRep[]> {
  await peer.setup(url);
  const counter = await CommitCounter.open(url);
  const clock = new HandlerClock();
  try {
    const before = await counter.settle();
    {
      const idle = await peer.start(url, opts.concurrency, clock);
      await idle.stop();
    }
    const overhead = (await counter.settle()) - before;
    {
      const warm = await peer.start(url, opts.concurrency, clock);
      await warm.drive(opts.warmupRuns, opts.window);
      await warm.stop();
    }
    const reps: PeerRep[] = [];
    for (let i = 0; i < opts.reps; i++) {
      const c0 = await counter.settle();
      const instance = await peer.start(url, opts.concurrency, clock);
      clock.clear();
      clock.enabled = opts.handoff;
      const q0 = instance.queries();
      const cpu0 = process.cpuUsage();
      const elapsedMs = await instance.drive(opts.runs, opts.window);
      const cpu = process.cpuUsage(cpu0);
      const queries = instance.queries() - q0;
      clock.enabled = false;
      await instance.stop();
      const commits = (await counter.settle()) - c0 - overhead;
      reps.push({
        elapsedMs,
        steps: opts.runs * CHAIN_STEPS,
        runs: opts.runs,
        commits,
        queries,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(opts.handoff ? { handoff: clock.handoffs() } : {}),
      });
    }
    return reps;
  } finally {
    await counter.close();
  }
}
