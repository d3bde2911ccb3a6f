import { InvalidArgumentError } from '@floworch/core';
import { type RawBuilder, sql } from 'kysely';

/** Binary collation of key columns: ordinal, case-sensitive comparison and ordering. */
export const KEY_COLLATION = 'Latin1_General_100_BIN2';

/** The default schema. */
export const DEFAULT_SCHEMA = 'dbo';

/** Every table this backend owns, PascalCase as in the reference system. */
export const TABLES = [
  'FlowDefinitions',
  'FlowRuns',
  'FlowSteps',
  'FlowStepAttempts',
  'FlowOutputs',
  'FlowStepDispatches',
  'FlowStepClaims',
  'FlowRunControls',
  'FlowIdempotencyKeys',
  'FlowEvents',
  'FlowSignalWaiters',
  'FlowScheduleStates',
  'WebhookReplayNonces',
  'WebhookRejections',
  'FlowSchemaVersion',
] as const;

/** One of {@link TABLES}. */
export type TableName = (typeof TABLES)[number];

const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Validates a schema name. Only plain identifiers are accepted so that the name can be bracketed
 * into DDL and dynamic SQL without any quoting ambiguity.
 * @throws InvalidArgumentError for anything else
 */
export function validateSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new InvalidArgumentError(
      'schema',
      `'${String(schema)}' is not a plain SQL identifier (letters, digits, underscore; at most 128)`,
    );
  }
  return schema;
}

/** Qualified, bracketed table names for one schema. */
export class SqlNames {
  /** The validated schema name. */
  readonly schema: string;

  /** @param schema schema name (validated) */
  constructor(schema: string = DEFAULT_SCHEMA) {
    this.schema = validateSchemaName(schema);
  }

  /** `[schema].[Table]` as plain text (for DDL strings). */
  text(table: TableName): string {
    return `[${this.schema}].[${table}]`;
  }

  /** `[schema].[Table]` as a raw SQL fragment. */
  table(table: TableName): RawBuilder<unknown> {
    return sql.raw(this.text(table));
  }
}
