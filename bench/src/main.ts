import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { FlowDefinition } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import {
  type Backend,
  benchRedisUrl,
  bullmqBackend,
  inMemoryBackend,
  pgliteBackend,
  postgresBackend,
  redisReachable,
} from './backends.js';
import { lineChartSvg, type Series } from './chart.js';
import { describeMachine, probeLatency } from './machine.js';
import { dbosPeer, graphileWorkerPeer, measurePeer, type Peer, type PeerRep } from './peers.js';
import { BenchDatabases, obtainPostgres, type PgServer } from './pg-server.js';
import { writePgliteStartup } from './pglite-startup.js';
import { type BenchReport, type BenchRow, type TargetCheck, toMarkdown, writeReport } from './report.js';
import { median, quantile, round } from './stats.js';
import { chainFlow, drive, type Engine, eventHandoffs, fanFlow, startEngine, stepsOf } from './workloads.js';

type BackendName = Backend['name'];

interface Config {
  readonly reps: number;
  readonly concurrencies: readonly number[];
  /** Concurrencies of the fan-out workload. */
  readonly fanConcurrencies: readonly number[];
  readonly chainRuns: Record<BackendName, number>;
  readonly fanRuns: Record<BackendName, number>;
  readonly handoffRuns: Record<BackendName, number>;
  readonly warmupRuns: Record<BackendName, number>;
  readonly soakCheckpoints: readonly [number, number];
  readonly soakRetentionEvery: number;
  /** Peer chain runs (concurrency 10), hand-off runs, warm-up runs. */
  readonly peerRuns: { chain: number; handoff: number; warmup: number };
}

const FULL: Config = {
  reps: 3,
  concurrencies: [1, 4, 10, 32],
  fanConcurrencies: [4, 10],
  chainRuns: { inmemory: 2_000, postgresql: 200, pglite: 30, bullmq: 200 },
  fanRuns: { inmemory: 300, postgresql: 30, pglite: 10, bullmq: 30 },
  handoffRuns: { inmemory: 500, postgresql: 60, pglite: 20, bullmq: 60 },
  warmupRuns: { inmemory: 300, postgresql: 20, pglite: 5, bullmq: 20 },
  soakCheckpoints: [5_000, 20_000],
  soakRetentionEvery: 2_500,
  peerRuns: { chain: 200, handoff: 60, warmup: 20 },
};

const QUICK: Config = {
  reps: 1,
  concurrencies: [1, 4, 10, 32],
  fanConcurrencies: [10],
  chainRuns: { inmemory: 300, postgresql: 20, pglite: 4, bullmq: 20 },
  fanRuns: { inmemory: 100, postgresql: 4, pglite: 2, bullmq: 4 },
  handoffRuns: { inmemory: 50, postgresql: 8, pglite: 3, bullmq: 8 },
  warmupRuns: { inmemory: 50, postgresql: 3, pglite: 1, bullmq: 1 },
  soakCheckpoints: [1_000, 5_000],
  soakRetentionEvery: 1_000,
  peerRuns: { chain: 20, handoff: 8, warmup: 3 },
};

// ---------------------------------------------------------------------------------------------
// arguments (`pnpm bench -- --quick` passes a bare `--` through; ignore it)

const args = process.argv.slice(2).filter((a) => a !== '--');
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
if (flag('help')) {
  console.log(
    'pnpm bench [--quick] [--backends=inmemory,postgresql,pglite] [--peers=graphile-worker,graphile-worker-batched,dbos] [--no-peers] [--reps=N] [--out=DIR] [--no-soak] [--no-startup]',
  );
  process.exit(0);
}
const quick = flag('quick');
const base = quick ? QUICK : FULL;
const config: Config = { ...base, reps: Number(option('reps') ?? base.reps) };
const backendNames = (option('backends') ?? 'postgresql,bullmq,inmemory,pglite').split(',') as BackendName[];
const peerNames = flag('no-peers')
  ? []
  : (option('peers') ?? 'graphile-worker,graphile-worker-batched,dbos').split(',').filter(Boolean);
const PEER_BACKENDS = new Set(['graphile-worker (defaults)', 'graphile-worker (batched)', 'DBOS Transact']);
const PEERS: Record<string, () => Peer> = {
  'graphile-worker': () => graphileWorkerPeer(false),
  'graphile-worker-batched': () => graphileWorkerPeer(true),
  dbos: () => dbosPeer(),
};
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(option('out') ?? path.join(here, '..', 'results', quick ? 'quick' : ''));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('warning: run with --expose-gc (pnpm bench does) for heap-after-GC numbers');

const MiB = 2 ** 20;
const log = (message: string) => console.log(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${message}`);

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / MiB;
}

/** Samples RSS every 50 ms; returns a stop function giving the peak in MiB. */
function rssSampler(): () => number {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage().rss) / MiB;
  };
}

// ---------------------------------------------------------------------------------------------
// one workload on one backend: fresh schema, overhead probe, warm-up, median of `reps` repetitions

interface Rep {
  stepsPerSec: number;
  runsPerSec: number;
  commitsPerStep?: number;
  queriesPerStep?: number;
  cpuMsPerStep: number;
  peakRssMiB: number;
  heapAfterGcMiB: number;
  handoff?: number[];
  eventHandoff?: number[];
  failed: number;
}

async function measure(
  backend: Backend,
  workload: 'chain' | 'fan-out/fan-in' | 'idle hand-off',
  flow: FlowDefinition,
  concurrency: number,
  runs: number,
): Promise<BenchRow> {
  const handoff = workload === 'idle hand-off';
  const window = handoff ? 1 : Math.max(4, concurrency * 2);
  const steps = runs * stepsOf(flow);
  const ws = await backend.prepare(`${workload}_${concurrency}`, concurrency);
  const reps: Rep[] = [];
  try {
    // Commits the engine's own start/stop costs (migrator check, flow sync, recovery pass).
    let overhead = 0;
    if (ws.commits) {
      const before = await ws.commits();
      const session = await ws.open();
      const engine = await startEngine(session, concurrency);
      await engine.stop();
      await session.close();
      overhead = (await ws.commits()) - before;
    }
    {
      const session = await ws.open();
      const engine = await startEngine(session, concurrency);
      await drive(engine, flow, config.warmupRuns[backend.name], window);
      await engine.stop();
      await session.close();
    }
    for (let i = 0; i < config.reps; i++) {
      heapAfterGc();
      const commitsBefore = ws.commits ? await ws.commits() : 0;
      const session = await ws.open();
      const engine: Engine = await startEngine(session, concurrency);
      engine.clock.enabled = handoff;
      engine.trackEvents = handoff;
      const q0 = session.queries();
      const stopRss = rssSampler();
      const cpu0 = process.cpuUsage();
      const elapsed = await drive(engine, flow, runs, window);
      const cpu = process.cpuUsage(cpu0);
      const peakRssMiB = stopRss();
      const queries = session.queries() - q0;
      const rep: Rep = {
        stepsPerSec: (steps / elapsed) * 1000,
        runsPerSec: (runs / elapsed) * 1000,
        cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps,
        peakRssMiB,
        heapAfterGcMiB: heapAfterGc(),
        failed: engine.failed,
        ...(backend.name === 'inmemory' ? {} : { queriesPerStep: queries / steps }),
        ...(handoff ? { handoff: engine.clock.chainHandoffs(), eventHandoff: eventHandoffs(engine) } : {}),
      };
      await engine.stop();
      await session.close();
      if (ws.commits) rep.commitsPerStep = ((await ws.commits()) - commitsBefore - overhead) / steps;
      reps.push(rep);
    }
  } finally {
    await ws.dispose();
  }
  const med = (pick: (r: Rep) => number | undefined): number | undefined => {
    const values = reps.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? median(values) : undefined;
  };
  const pct = (key: 'handoff' | 'eventHandoff', q: number) =>
    handoff ? med((r) => quantile(r[key] ?? [], q)) : undefined;
  const row: BenchRow = {
    workload,
    backend: backend.name,
    concurrency,
    runs,
    stepsPerSec: med((r) => r.stepsPerSec)!,
    runsPerSec: med((r) => r.runsPerSec)!,
    handoffP50Ms: pct('handoff', 0.5),
    handoffP95Ms: pct('handoff', 0.95),
    handoffP99Ms: pct('handoff', 0.99),
    commitsPerStep: med((r) => r.commitsPerStep),
    queriesPerStep: med((r) => r.queriesPerStep),
    cpuMsPerStep: med((r) => r.cpuMsPerStep),
    peakRssMiB: Math.max(...reps.map((r) => r.peakRssMiB)),
    heapAfterGcMiB: med((r) => r.heapAfterGcMiB),
    repetitions: reps.length,
    failedRuns: reps.reduce((n, r) => n + r.failed, 0),
    extra: {
      stepsPerSecPerRep: reps.map((r) => round(r.stepsPerSec, 0)),
      ...(handoff
        ? {
            eventHandoffP50Ms: round(pct('eventHandoff', 0.5)!, 3),
            eventHandoffP95Ms: round(pct('eventHandoff', 0.95)!, 3),
            eventHandoffP99Ms: round(pct('eventHandoff', 0.99)!, 3),
            handoffSamplesPerRep: reps[0]?.handoff?.length ?? 0,
          }
        : {}),
    },
  };
  log(
    `${workload} ${backend.name} c=${concurrency}: ${round(row.stepsPerSec, 0)} steps/s` +
      (row.commitsPerStep !== undefined ? `, ${round(row.commitsPerStep, 2)} commits/step` : '') +
      (row.queriesPerStep !== undefined ? `, ${round(row.queriesPerStep, 1)} queries/step` : '') +
      `, ${round(row.cpuMsPerStep!, 3)} Node CPU ms/step` +
      (handoff ? `, hand-off p50 ${round(row.handoffP50Ms!, 3)} ms` : '') +
      ` (reps ${reps.map((r) => round(r.stepsPerSec, 0)).join(', ')})`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------
// peers: the same chain on graphile-worker / DBOS Transact, each on its own database

async function measurePeerRow(
  peer: Peer,
  url: string,
  workload: 'chain' | 'idle hand-off',
  concurrency: number,
): Promise<BenchRow> {
  const handoff = workload === 'idle hand-off';
  const runs = handoff ? config.peerRuns.handoff : config.peerRuns.chain;
  // DBOS executes a workflow's steps one after another, so open workflows = steps executing.
  const window = handoff ? 1 : peer.name.startsWith('DBOS') ? concurrency : Math.max(4, concurrency * 2);
  const reps: PeerRep[] = await measurePeer(peer, url, {
    concurrency,
    runs,
    warmupRuns: config.peerRuns.warmup,
    reps: config.reps,
    window,
    handoff,
  });
  const med = (pick: (r: PeerRep) => number) => median(reps.map(pick));
  const sps = (r: PeerRep) => (r.steps / r.elapsedMs) * 1000;
  const pct = (q: number) => (handoff ? med((r) => quantile(r.handoff ?? [], q)) : undefined);
  const row: BenchRow = {
    workload,
    backend: peer.name,
    concurrency,
    runs,
    stepsPerSec: med(sps),
    runsPerSec: med((r) => (r.runs / r.elapsedMs) * 1000),
    handoffP50Ms: pct(0.5),
    handoffP95Ms: pct(0.95),
    handoffP99Ms: pct(0.99),
    commitsPerStep: med((r) => r.commits / r.steps),
    queriesPerStep: med((r) => r.queries / r.steps),
    cpuMsPerStep: med((r) => r.cpuMs / r.steps),
    repetitions: reps.length,
    extra: {
      stepsPerSecPerRep: reps.map((r) => round(sps(r), 0)),
      commitsPerStepPerRep: reps.map((r) => round(r.commits / r.steps, 3)),
      config: peer.config,
      window,
      ...(handoff ? { handoffSamplesPerRep: reps[0]?.handoff?.length ?? 0 } : {}),
    },
  };
  log(
    `${workload} ${peer.name} c=${concurrency}: ${round(row.stepsPerSec, 0)} steps/s, ` +
      `${round(row.commitsPerStep!, 2)} commits/step, ${round(row.queriesPerStep!, 1)} queries/step, ` +
      `${round(row.cpuMsPerStep!, 3)} Node CPU ms/step` +
      (handoff ? `, hand-off p50 ${round(row.handoffP50Ms!, 3)} ms` : '') +
      ` (reps ${reps.map((r) => round(sps(r), 0)).join(', ')})`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------
// soak: many runs on the in-memory backend, memory sampled

interface SoakResult {
  row: BenchRow;
  samples: { runs: number; rssMiB: number; heapMiB: number }[];
}

async function soak(retention: boolean): Promise<SoakResult> {
  const concurrency = 10;
  const storage = createInMemoryStorage();
  const session = { storage, queries: () => 0, close: async () => {} };
  const engine = await startEngine(session, concurrency);
  const samples: SoakResult['samples'] = [];
  const checkpoints: Record<string, number> = {};
  const [first, last] = config.soakCheckpoints;
  let cleaning: Promise<unknown> | undefined;
  let nextCleanup = config.soakRetentionEvery;
  let done = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    samples.push({ runs: done, rssMiB: round(m.rss / MiB, 1), heapMiB: round(m.heapUsed / MiB, 1) });
  }, 250);
  heapAfterGc();
  const stopRss = rssSampler();
  const elapsed = await drive(engine, chainFlow, last, 64, (completed) => {
    done = completed;
    if (retention && completed >= nextCleanup && !cleaning) {
      nextCleanup += config.soakRetentionEvery;
      cleaning = storage.retention.cleanup(new Date()).finally(() => {
        cleaning = undefined;
      });
    }
    if (completed === first || completed === last) {
      const heap = heapAfterGc();
      const rss = process.memoryUsage().rss / MiB;
      checkpoints[`rssMiBAt${completed}`] = round(rss, 1);
      checkpoints[`heapAfterGcMiBAt${completed}`] = round(heap, 1);
      samples.push({ runs: completed, rssMiB: round(rss, 1), heapMiB: round(heap, 1) });
    }
  });
  clearInterval(timer);
  const peak = stopRss();
  await cleaning;
  await engine.stop();
  const rssFirst = checkpoints[`rssMiBAt${first}`]!;
  const rssLast = checkpoints[`rssMiBAt${last}`]!;
  const heapFirst = checkpoints[`heapAfterGcMiBAt${first}`]!;
  const heapLast = checkpoints[`heapAfterGcMiBAt${last}`]!;
  const row: BenchRow = {
    workload: retention ? `soak (retention every ${config.soakRetentionEvery})` : 'soak (no retention)',
    backend: 'inmemory',
    concurrency,
    runs: last,
    stepsPerSec: ((last * stepsOf(chainFlow)) / elapsed) * 1000,
    runsPerSec: (last / elapsed) * 1000,
    peakRssMiB: peak,
    heapAfterGcMiB: heapLast,
    repetitions: 1,
    failedRuns: engine.failed,
    extra: {
      ...checkpoints,
      rssChangePct: round(((rssLast - rssFirst) / rssFirst) * 100, 1),
      heapChangePct: round(((heapLast - heapFirst) / heapFirst) * 100, 1),
      heapBytesPerRetainedRun: round(((heapLast - heapFirst) * MiB) / (last - first), 0),
    },
  };
  log(
    `${row.workload}: ${round(row.stepsPerSec, 0)} steps/s; RSS ${rssFirst} → ${rssLast} MiB, heap ${heapFirst} → ${heapLast} MiB`,
  );
  return { row, samples };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const loadBefore = os.loadavg().map((v) => round(v, 2));
  log(`${quick ? 'quick' : 'full'} run: backends ${backendNames.join(', ')}, ${config.reps} repetition(s)`);
  let server: PgServer | undefined;
  let databases: BenchDatabases | undefined;
  let probeUrl: string | undefined;
  // A killed run (SIGTERM / SIGINT) still drops the databases it created.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log(`${signal}: dropping the bench databases and exiting`);
      void (databases?.dropAll() ?? Promise.resolve()).finally(() => process.exit(1));
    });
  }
  const latency: Record<string, string> = {};
  const backends: Backend[] = [];
  const pglite = pgliteBackend();
  for (const name of backendNames) {
    if (name === 'inmemory') backends.push(inMemoryBackend);
    else if (name === 'pglite') backends.push(pglite);
    else if (name === 'postgresql' || name === 'bullmq') {
      if (name === 'bullmq' && !(await redisReachable())) {
        log(`bullmq: skipped, Redis unreachable at ${benchRedisUrl} (FLOWORCH_BENCH_REDIS_URL)`);
        continue;
      }
      if (!server || !databases || !probeUrl) {
        server = await obtainPostgres();
        log(`PostgreSQL from ${server.source}`);
        databases = new BenchDatabases(server.url);
        probeUrl = await databases.create('floworch_bench');
      }
      backends.push(name === 'postgresql' ? postgresBackend(probeUrl) : bullmqBackend(probeUrl));
    } else throw new Error(`unknown backend '${name}'`);
  }
  const rows: BenchRow[] = [];
  const soaks: SoakResult[] = [];
  const skippedPeers: string[] = [];
  let machine: Awaited<ReturnType<typeof describeMachine>>;
  try {
    machine = await describeMachine(server?.url);
    if (probeUrl) {
      for (const [k, v] of Object.entries(await probeLatency(probeUrl))) latency[`${k}AtStart`] = v;
      log(`PostgreSQL latency: ${JSON.stringify(latency)}`);
    }
    for (const backend of backends) {
      for (const c of config.concurrencies) {
        rows.push(await measure(backend, 'chain', chainFlow, c, config.chainRuns[backend.name]));
      }
      for (const c of config.fanConcurrencies) {
        rows.push(await measure(backend, 'fan-out/fan-in', fanFlow, c, config.fanRuns[backend.name]));
      }
      rows.push(await measure(backend, 'idle hand-off', chainFlow, 10, config.handoffRuns[backend.name]));
      if (backend.name === 'postgresql' && databases) {
        for (const name of peerNames) {
          const make = PEERS[name];
          if (!make) throw new Error(`unknown peer '${name}'`);
          const peer = make();
          for (const workload of ['chain', 'idle hand-off'] as const) {
            const url = await databases.create(peer.prefix);
            try {
              rows.push(await measurePeerRow(peer, url, workload, 10));
            } catch (error) {
              log(`${peer.name} ${workload} failed: ${String(error)}`);
              skippedPeers.push(`${peer.name} (${workload}): ${String(error)}`);
            } finally {
              await databases.drop(url);
            }
          }
        }
      }
      if (backend.name === 'inmemory' && !flag('no-soak')) {
        for (const retention of [true, false]) {
          const result = await soak(retention);
          soaks.push(result);
          rows.push(result.row);
        }
      }
    }
    if (probeUrl) {
      for (const [k, v] of Object.entries(await probeLatency(probeUrl))) latency[`${k}AtEnd`] = v;
    }
  } finally {
    await pglite.shutdown();
    await databases?.dropAll();
    await server?.stop();
  }

  // targets (compared, never asserted)
  const find = (workload: string, backend: string, c?: number) =>
    rows.find(
      (r) => r.workload === workload && r.backend === backend && (c === undefined || r.concurrency === c),
    );
  const targets: TargetCheck[] = [];
  const pgChain = find('chain', 'postgresql', 10);
  const peerChains = rows.filter((r) => r.workload === 'chain' && PEER_BACKENDS.has(r.backend));
  const fastestPeer = peerChains.reduce<BenchRow | undefined>(
    (a, b) => (a === undefined || b.stepsPerSec > a.stepsPerSec ? b : a),
    undefined,
  );
  const peerSection: string[] = [];
  if (pgChain) {
    if (fastestPeer) {
      const ratio = pgChain.stepsPerSec / fastestPeer.stepsPerSec;
      targets.push({
        target: 'chain, PostgreSQL, concurrency 10: ≥ 2× the fastest peer',
        measured: `${round(pgChain.stepsPerSec, 0)} steps/s vs ${fastestPeer.backend} ${round(fastestPeer.stepsPerSec, 0)} steps/s: ${round(ratio, 2)}×`,
        met: ratio >= 2,
      });
      const handoffOf = (backend: string) => find('idle hand-off', backend);
      peerSection.push(
        '### @floworch vs peers (PostgreSQL, same server, each on its own database; 5-step chain, concurrency 10)',
        '',
        '| system | chain steps/s | @floworch ÷ it | commits/step | statements/step | Node CPU ms/step | idle hand-off p50 / p95 ms | @floworch p50 ÷ its p50 |',
        '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
      );
      const pgHandoff = handoffOf('postgresql');
      for (const r of [pgChain, ...peerChains]) {
        const h = handoffOf(r.backend === 'postgresql' ? 'postgresql' : r.backend);
        const name = r.backend === 'postgresql' ? '@floworch (postgresql)' : r.backend;
        peerSection.push(
          `| ${name} | ${round(r.stepsPerSec, 0)} | ${round(pgChain.stepsPerSec / r.stepsPerSec, 2)} | ${round(r.commitsPerStep ?? Number.NaN, 2)} | ${round(r.queriesPerStep ?? Number.NaN, 1)} | ${round(r.cpuMsPerStep ?? Number.NaN, 3)} | ${h ? `${round(h.handoffP50Ms!, 2)} / ${round(h.handoffP95Ms!, 2)}` : '–'} | ${h && pgHandoff ? round(pgHandoff.handoffP50Ms! / h.handoffP50Ms!, 2) : '–'} |`,
        );
      }
      peerSection.push('');
      for (const r of peerChains) peerSection.push(`- ${r.backend}: ${r.extra?.config}`);
      for (const skipped of skippedPeers) peerSection.push(`- skipped: ${skipped}`);
      peerSection.push('');
    }
    targets.push({
      target: 'chain, PostgreSQL, concurrency 10: ≤ 3 commits per step',
      measured: `${round(pgChain.commitsPerStep ?? Number.NaN, 2)} commits/step (${round(pgChain.queriesPerStep ?? Number.NaN, 1)} statements/step)`,
      met: (pgChain.commitsPerStep ?? Number.POSITIVE_INFINITY) <= 3,
    });
  }
  for (const backend of ['postgresql', 'inmemory']) {
    const h = find('idle hand-off', backend);
    if (!h) continue;
    targets.push({
      target: `idle hand-off p50 ≤ 2 ms, ${backend} (handler end → next handler start)`,
      measured: `p50 ${round(h.handoffP50Ms!, 2)} ms, p95 ${round(h.handoffP95Ms!, 2)}, p99 ${round(h.handoffP99Ms!, 2)}; event-based (step.completed → step.started) p50 ${h.extra?.eventHandoffP50Ms} ms`,
      met: h.handoffP50Ms! <= 2,
    });
  }
  const memChain = rows.filter((r) => r.workload === 'chain' && r.backend === 'inmemory');
  if (memChain.length) {
    const c10 = memChain.find((r) => r.concurrency === 10) ?? memChain[0]!;
    const best = memChain.reduce((a, b) => (b.stepsPerSec > a.stepsPerSec ? b : a));
    targets.push({
      target: 'in-memory: ≥ 50 000 steps/s',
      measured: `${round(c10.stepsPerSec, 0)} steps/s at concurrency ${c10.concurrency} (${round((c10.stepsPerSec / 50_000) * 100, 0)} %); best ${round(best.stepsPerSec, 0)} at ${best.concurrency}`,
      met: best.stepsPerSec >= 50_000,
    });
  }
  const [first, last] = config.soakCheckpoints;
  for (const s of soaks) {
    const x = s.row.extra ?? {};
    targets.push({
      target: `in-memory ${s.row.workload}: RSS flat (± 10 %) between ${first / 1000}K and ${last / 1000}K runs`,
      measured: `RSS ${x[`rssMiBAt${first}`]} → ${x[`rssMiBAt${last}`]} MiB (${x.rssChangePct} %); heap after GC ${x[`heapAfterGcMiBAt${first}`]} → ${x[`heapAfterGcMiBAt${last}`]} MiB`,
      met: Math.abs(Number(x.rssChangePct)) <= 10,
    });
  }

  // charts
  const series = (backend: string, workload: string): Series => ({
    label: `${workload} · ${backend}`,
    points: rows
      .filter((r) => r.backend === backend && r.workload === workload)
      .map((r) => [r.concurrency, round(r.stepsPerSec, 0)] as const),
  });
  const extra: Record<string, string> = {};
  const chartFor = (names: string[], file: string, title: string) => {
    const s = names
      .filter((b) => backendNames.includes(b as BackendName))
      .flatMap((b) => [series(b, 'chain'), series(b, 'fan-out/fan-in')])
      .filter((x) => x.points.length > 0);
    if (s.length) extra[file] = lineChartSvg(title, 'concurrency (workers)', 'steps/s', s);
  };
  chartFor(['inmemory'], 'throughput-inmemory.svg', 'Throughput vs concurrency — in-memory');
  chartFor(
    ['postgresql', 'pglite'],
    'throughput-postgres.svg',
    'Throughput vs concurrency — PostgreSQL, PGlite',
  );
  if (soaks.length) {
    extra['soak-memory.svg'] = lineChartSvg(
      'Soak (in-memory): memory vs completed runs',
      'completed runs',
      'MiB',
      soaks.flatMap((s) => [
        {
          label: `RSS · ${s.row.workload.replace(/ every \d+/, '')}`,
          points: s.samples.map((p) => [p.runs, p.rssMiB] as const),
        },
        {
          label: `heap · ${s.row.workload.replace(/ every \d+/, '')}`,
          points: s.samples.map((p) => [p.runs, p.heapMiB] as const),
        },
      ]),
      { logX: false },
    );
  }

  const report: BenchReport = {
    startedAt,
    mode: quick ? 'quick' : 'full',
    machine: machine!,
    conditions: {
      postgres: server?.source ?? 'not measured',
      repetitions: config.reps,
      loadavgAtStart: loadBefore.join(' '),
      loadavgAtEnd: os
        .loadavg()
        .map((v) => round(v, 2))
        .join(' '),
      durationSec: round((performance.now() - t0) / 1000, 0),
      pgPoolSize: 'max(10, concurrency)',
      peers: peerNames.join(', ') || 'none',
      ...latency,
    },
    rows,
    targets,
    notes: [
      'steps/s and runs/s: median of the repetitions after one warm-up (fresh schema per workload, fresh engine and pool per repetition); a run is triggered whenever one completes, keeping max(4, 2 × concurrency) runs open (hand-off: 1).',
      'hand-off: handler of chain step k returns → handler of step k+1 starts (performance.now); the event-based figure (step.completed → step.started events) is in the JSON.',
      'commits/step: pg_stat_database.xact_commit delta over a repetition (pool ended so backends flush), minus the engine start/stop cost measured once per workload, divided by steps (trigger commits included). queries/step: statements the pool sent during the runs.',
      'peak RSS and heap are of this Node process (the PostgreSQL server is a separate process; PGlite lives inside this one).',
      'See bench/README.md for the analysis of missed targets.',
    ],
    sections: [
      ...peerSection,
      ...(soaks.length
        ? [
            '### Soak detail',
            '',
            '| soak | RSS MiB at checkpoints | heap after GC MiB at checkpoints | RSS change | heap bytes per retained run |',
            '| --- | --- | --- | ---: | ---: |',
            ...soaks.map((s) => {
              const x = s.row.extra ?? {};
              return `| ${s.row.workload} | ${x[`rssMiBAt${first}`]} → ${x[`rssMiBAt${last}`]} | ${x[`heapAfterGcMiBAt${first}`]} → ${x[`heapAfterGcMiBAt${last}`]} | ${x.rssChangePct} % | ${x.heapBytesPerRetainedRun} |`;
            }),
          ]
        : []),
    ],
  };
  const written = writeReport(outDir, 'results', report, extra);
  console.log(`\n${toMarkdown(report)}`);
  log(`wrote ${written.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  // PGlite open time and memory: separate processes (peak RSS per open), after everything else.
  if (backendNames.includes('pglite') && !flag('no-startup')) await writePgliteStartup(outDir, log);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
