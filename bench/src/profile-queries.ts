/**
 * Which statements one chain step costs on PostgreSQL: runs a few chain runs (concurrency 1 unless
 * told) on a fresh database and prints the statements the pool sent, grouped by their text, per
 * step, with the database's commits per step.
 *
 *   pnpm --filter @floworch/bench profile:queries [runs] [--sync-off] [--concurrency=N]
 *
 * `--sync-off` sets synchronous_commit=off on the pool's sessions: if steps/s jumps, commit
 * flushes (WAL fsync per autocommit write) bound the throughput; if not, CPU / round trips do.
 */

import { createPostgresStorage } from '@floworch/postgresql';
import pg from 'pg';
import { CommitCounter } from './commit-counter.js';
import { BenchDatabases, obtainPostgres } from './pg-server.js';
import { chainFlow, drive, startEngine, stepsOf } from './workloads.js';

const argv = process.argv.slice(2);
const runs = Number(argv.find((a) => /^\d+$/.test(a)) ?? 20);
const syncOff = argv.includes('--sync-off');
const concurrency = Number(argv.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? 1);
const server = await obtainPostgres();
const databases = new BenchDatabases(server.url);
const schema = `bench_profile_${process.pid}`;
const counts = new Map<string, number>();
/** Characters of statement text and parameters sent, per statement shape. */
const chars = new Map<string, number>();
let recording = false;
try {
  const url = await databases.create('floworch_bench_profile');
  const counter = await CommitCounter.open(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: Math.max(10, concurrency),
    ...(syncOff ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      if (recording) {
        const first = args[0];
        const text = typeof first === 'string' ? first : String((first as { text?: string }).text);
        const key = text
          .replace(/\s+/g, ' ')
          .replace(/"bench_profile_\d+"\./g, '')
          .slice(0, 150);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        const params = typeof first === 'string' ? args[1] : (first as { values?: unknown }).values;
        const size =
          text.length +
          (Array.isArray(params) ? params.reduce<number>((n, v) => n + String(v).length, 0) : 0);
        chars.set(key, (chars.get(key) ?? 0) + size);
      }
      return query(...args);
    };
  });
  const storage = await createPostgresStorage({ pool, schema });
  const engine = await startEngine({ storage, queries: () => 0, close: async () => {} }, concurrency);
  const window = concurrency === 1 ? 1 : concurrency * 2;
  await drive(engine, chainFlow, 5, window);
  recording = true;
  const commits0 = await counter.settle();
  const cpu0 = process.cpuUsage();
  const elapsed = await drive(engine, chainFlow, runs, window);
  const cpu = process.cpuUsage(cpu0);
  recording = false;
  await engine.stop();
  await storage.close();
  await pool.end();
  const commits = (await counter.settle()) - commits0;
  const steps = runs * stepsOf(chainFlow);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  let total = 0;
  let totalChars = 0;
  console.log('  /step  chars/stmt  statement');
  for (const [text, n] of sorted) {
    total += n;
    const c = chars.get(text) ?? 0;
    totalChars += c;
    console.log(`${(n / steps).toFixed(2).padStart(7)}  ${String(Math.round(c / n)).padStart(10)}  ${text}`);
  }
  console.log(
    `${(totalChars / steps).toFixed(0).padStart(7)}  characters of SQL text + parameters sent per step`,
  );
  console.log(
    `${(total / steps).toFixed(2).padStart(6)}  TOTAL statements per step (${runs} runs, ${steps} steps)`,
  );
  console.log(
    `concurrency ${concurrency}, synchronous_commit ${syncOff ? 'off' : 'server default'}: ` +
      `${((steps / elapsed) * 1000).toFixed(0)} steps/s, ${(elapsed / steps).toFixed(2)} ms/step wall, ` +
      `${((cpu.user + cpu.system) / 1000 / steps).toFixed(2)} ms/step Node CPU, ` +
      `${(commits / steps).toFixed(2)} commits/step (incl. engine stop)`,
  );
  await counter.close();
} finally {
  await databases.dropAll();
  await server.stop();
}
