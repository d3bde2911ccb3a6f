import os from 'node:os';
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
