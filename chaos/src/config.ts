import { parseArgs } from 'node:util';

/** One chaos configuration: how much load and how many faults, on what timeline (ms). */
export interface ChaosConfig {
  /** `quick` or `full`, for the report. */
  readonly name: string;
  /** Admin connection string (database `postgres` or any other the role may connect to). */
  readonly adminUrl: string;
  /** Replica processes running the engine. */
  readonly replicas: number;
  /** Runs triggered, spread evenly over `triggerWindowMs`. */
  readonly runs: number;
  /** Time over which the runs are triggered. */
  readonly triggerWindowMs: number;
  /** SIGKILLs of a random replica (each restarted). */
  readonly kills: number;
  /** Time between two kills; the first comes one interval after the start. */
  readonly killEveryMs: number;
  /** `pg_terminate_backend` of the chaos database's connections, this often … */
  readonly terminateEveryMs: number;
  /** … for this long from the start. */
  readonly terminateForMs: number;
  /** When one replica is stopped gracefully (and later restarted). */
  readonly gracefulStopAtMs: number;
  /** How long to wait after the faults for every run to finish. */
  readonly drainMs: number;
  /** Engine claim lease of the replicas (short, so takeovers happen within the test). */
  readonly leaseMs: number;
  /** Engine recovery interval of the replicas. */
  readonly maintenanceIntervalMs: number;
  /** Engine shutdown grace of the replicas. */
  readonly shutdownGraceMs: number;
  /** Keep the chaos database instead of dropping it (for digging into a failure). */
  readonly keepDatabase: boolean;
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const QUICK = {
  name: 'quick',
  replicas: 3,
  runs: 40,
  triggerWindowMs: 10_000,
  kills: 2,
  killEveryMs: 4_000,
  terminateEveryMs: 2_000,
  // Shorter than the full run's 20 s so the whole quick run fits in about a minute.
  terminateForMs: 12_000,
  gracefulStopAtMs: 6_000,
  drainMs: 20_000,
} as const;

const FULL = {
  name: 'full',
  replicas: 4,
  runs: 300,
  triggerWindowMs: 30_000,
  kills: 12,
  killEveryMs: 3_000,
  terminateEveryMs: 2_000,
  terminateForMs: 20_000,
  gracefulStopAtMs: 15_000,
  drainMs: 90_000,
} as const;

const USAGE = `pnpm chaos [--quick] [--replicas N] [--runs N] [--kills N] [--keep-db]
  --quick        3 replicas, 40 runs, 2 kills (about a minute)
  (default)      4 replicas, 300 runs, 12 kills
  --replicas N   replica processes
  --runs N       runs to trigger
  --kills N      SIGKILLs (one every few seconds)
  --keep-db      keep the floworch_chaos_* database afterwards
PostgreSQL: FLOWORCH_PG_URL (default ${DEFAULT_URL}).`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} must be a whole number ≥ 0\n${USAGE}`);
  return value;
}

/** Reads the command line (`--quick`, `--replicas`, `--runs`, `--kills`, `--keep-db`). */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChaosConfig {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      replicas: { type: 'string' },
      runs: { type: 'string' },
      kills: { type: 'string' },
      'keep-db': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const base = values.quick ? QUICK : FULL;
  const replicas = positive('replicas', values.replicas, base.replicas);
  if (replicas < 2) throw new Error(`--replicas must be at least 2 (one is stopped gracefully)\n${USAGE}`);
  return {
    ...base,
    adminUrl: env.FLOWORCH_PG_URL || DEFAULT_URL,
    replicas,
    runs: positive('runs', values.runs, base.runs),
    kills: positive('kills', values.kills, base.kills),
    leaseMs: 2_000,
    maintenanceIntervalMs: 1_000,
    shutdownGraceMs: 5_000,
    keepDatabase: values['keep-db'] ?? false,
  };
}
