import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

/** What the numbers were measured on, recorded next to them. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly postgres?: Record<string, string>;
}

/**
 * Round trip (`SELECT 1`) and single-row autocommit insert (one commit, one WAL flush) latencies
 * on one connection, p50 / p95 in ms: the floor under every sequential statement and commit.
 */
export async function probeLatency(pgUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const time = async (sql: string, n: number): Promise<string> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await client.query(sql);
      xs.push(performance.now() - t);
    }
    xs.sort((a, b) => a - b);
    const at = (q: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))]!.toFixed(2);
    return `p50 ${at(0.5)} / p95 ${at(0.95)} ms`;
  };
  try {
    const table = `bench_latency_probe_${process.pid}`;
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (x int)`);
    try {
      return {
        roundTripSelect1: await time('SELECT 1', 200),
        commitInsert: await time(`INSERT INTO ${table} VALUES (1)`, 100),
      };
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
    }
  } finally {
    await client.end();
  }
}

/** Describes this machine, and the PostgreSQL server's version and durability settings when given. */
export async function describeMachine(pgUrl?: string): Promise<MachineInfo> {
  const info: MachineInfo = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  if (!pgUrl) return info;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const settings: Record<string, string> = {};
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    settings.server_version = version.rows[0]?.server_version ?? '?';
    for (const name of [
      'synchronous_commit',
      'fsync',
      'wal_sync_method',
      'commit_delay',
      'shared_buffers',
      'max_connections',
      'wal_level',
      'autovacuum',
    ]) {
      const r = await client.query<Record<string, string>>(`SHOW ${name}`);
      settings[name] = Object.values(r.rows[0] ?? {})[0] ?? '?';
    }
    return { ...info, postgres: settings };
  } finally {
    await client.end();
  }
}
