import { type Clock, type FlowStorage, STORAGE_CAPABILITIES, type StorageCapability } from '@floworch/core';
import { defineStorage } from '@floworch/core/backend';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema/database.js';
import { SCHEMA_VERSION } from './schema/ddl.js';
import { readSchemaVersion } from './schema/migrator.js';
import type { PgContext } from './sql/context.js';
import { translatePgError } from './sql/errors.js';
import { PgControlStore } from './stores/control-store.js';
import { PgFlowStore } from './stores/flow-store.js';
import { PgOutputs } from './stores/outputs.js';
import { type NotificationSource, PgQueueStore } from './stores/queue-store.js';
import { PgRetentionStore } from './stores/retention.js';
import { PgRunStore } from './stores/run-store.js';
import { PgRuntimeStore } from './stores/runtime-store.js';
import { PgScheduleStore } from './stores/schedule-store.js';
import { PgSignalStore } from './stores/signal-store.js';
import { PgWebhookRejectionStore, PgWebhookReplayStore } from './stores/webhook-stores.js';

/** A PostgreSQL-backed {@link FlowStorage} implementing every optional contract. */
export interface PostgresStorage extends Required<FlowStorage> {
  /** The schema the tables live in. */
  readonly schema: string;
  /** The kysely instance (schema-bound) the stores use, for advanced queries and tests. */
  readonly db: Kysely<Database>;
}

/**
 * Builds the guarded store bundle over one kysely instance; `close` releases what the caller owns;
 * `notifications`, when given, lets the queue wake consumers through LISTEN/NOTIFY.
 */
export function assembleStorage(
  name: string,
  db: Kysely<Database>,
  schema: string,
  clock: Clock,
  close: () => Promise<void>,
  notifications?: NotificationSource,
): PostgresStorage {
  const ctx: PgContext = { db: db.withSchema(schema), schema, clock };
  const outputs = new PgOutputs(ctx, notifications);
  const capabilities: readonly StorageCapability[] = STORAGE_CAPABILITIES;
  return defineStorage<PostgresStorage>({
    name,
    schema,
    db: ctx.db,
    clock,
    capabilities,
    flows: new PgFlowStore(ctx),
    runs: new PgRunStore(ctx),
    outputs,
    events: outputs,
    runtime: new PgRuntimeStore(ctx),
    queue: new PgQueueStore(ctx, notifications),
    control: new PgControlStore(ctx),
    retention: new PgRetentionStore(ctx),
    signals: new PgSignalStore(ctx),
    schedules: new PgScheduleStore(ctx),
    webhookReplay: new PgWebhookReplayStore(ctx),
    webhookRejections: new PgWebhookRejectionStore(ctx),
    ping: async () => {
      await sql`SELECT 1`.execute(db);
    },
    schemaStatus: async () => {
      const current = await readSchemaVersion(db, schema);
      return { current, expected: SCHEMA_VERSION, upToDate: current === SCHEMA_VERSION };
    },
    close,
    translateError: translatePgError,
  });
}
