/** Messages from the chaos driver to a replica (over the IPC channel). */
export type DriverMessage = { readonly type: 'trigger'; readonly index: number } | { readonly type: 'stop' };

/** Messages from a replica to the chaos driver. */
export type ReplicaMessage =
  | { readonly type: 'ready'; readonly pid: number }
  | {
      readonly type: 'triggered';
      readonly index: number;
      readonly runId: string | null;
      readonly duplicate: boolean;
    }
  | { readonly type: 'trigger-failed'; readonly index: number; readonly error: string }
  | { readonly type: 'stopped'; readonly stopMs: number; readonly lingering: readonly string[] };

/** Environment variables the driver hands a replica. */
export const ReplicaEnv = {
  url: 'CHAOS_DB_URL',
  slot: 'CHAOS_SLOT',
  leaseMs: 'CHAOS_LEASE_MS',
  maintenanceIntervalMs: 'CHAOS_MAINTENANCE_MS',
  shutdownGraceMs: 'CHAOS_SHUTDOWN_GRACE_MS',
} as const;

/** `application_name` of a replica's connections (the driver's terminations match the database, not this). */
export const replicaAppName = (slot: number): string => `floworch_chaos_r${slot}`;
