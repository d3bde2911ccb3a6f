import {
  IdentifierNode as Identifier,
  type IdentifierNode,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SchemableIdentifierNode,
  type UnknownRow,
} from 'kysely';
import { LOGICAL_COLUMNS, type LogicalTable } from './schema.js';

/** How one database spells the logical names: tables and columns, plus the schema to qualify with. */
export interface PhysicalNames {
  /** Logical name → physical name, for every table and column. */
  readonly names: ReadonlyMap<string, string>;
  /** Physical result column → logical name; a name two logical columns share keeps its rule spelling. */
  readonly results: ReadonlyMap<string, string>;
  /** Schema every table is qualified with (none when the connection is already schema-bound). */
  readonly schema?: string;
}

/** `flowRuns` → `flow_runs`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `flowRuns` → `FlowRuns`. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Every logical table and column name, once. */
export function logicalNames(): string[] {
  const all = new Set<string>();
  for (const [table, columns] of Object.entries(LOGICAL_COLUMNS) as [LogicalTable, readonly string[]][]) {
    all.add(table);
    for (const column of columns) all.add(column);
  }
  return [...all];
}

/** Builds a name map from a spelling rule, with explicit exceptions where a database deviates. */
export function physicalNames(
  spell: (logical: string) => string,
  exceptions: Readonly<Record<string, string>>,
  schema?: string,
): PhysicalNames {
  const names = new Map<string, string>();
  const results = new Map<string, string>();
  for (const name of logicalNames()) {
    const exception = exceptions[name];
    names.set(name, exception ?? spell(name));
    if (exception === undefined) results.set(spell(name), name);
  }
  for (const [name, exception] of Object.entries(exceptions)) {
    if (!results.has(exception)) results.set(exception, name);
  }
  return schema === undefined ? { names, results } : { names, results, schema };
}

/** PostgreSQL's spelling: snake_case, except the columns whose names predate the convention. */
export function postgresNames(schema?: string): PhysicalNames {
  return physicalNames(snakeCase, { controlCreatedAt: 'created_at_utc' }, schema);
}

/** SQL Server's spelling: PascalCase, except the columns named differently there. */
export function sqlServerNames(schema?: string): PhysicalNames {
  return physicalNames(
    pascalCase,
    { controlCreatedAt: 'CreatedAt', timestampUtc: 'Timestamp', registrationSeq: 'RegisteredSeq' },
    schema,
  );
}

/**
 * Rewrites logical identifiers (tables, columns, and aliases spelled like them, so `s.flowId` finds
 * the alias `flowId`) to physical ones; other names pass untouched.
 */
class NamingTransformer extends OperationNodeTransformer {
  constructor(private readonly physical: PhysicalNames) {
    super();
  }

  protected override transformIdentifier(node: IdentifierNode): IdentifierNode {
    const mapped = this.physical.names.get(node.name);
    return mapped === undefined ? node : Identifier.create(mapped);
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode): SchemableIdentifierNode {
    const isTable = node.schema === undefined && this.physical.names.has(node.identifier.name);
    const transformed = super.transformSchemableIdentifier(node);
    // Only tables get here without a schema of their own; qualify them with the configured one.
    if (!isTable || this.physical.schema === undefined || !isTableName(node.identifier.name))
      return transformed;
    return { ...transformed, schema: Identifier.create(this.physical.schema) };
  }
}

function isTableName(name: string): boolean {
  return Object.hasOwn(LOGICAL_COLUMNS, name);
}

/**
 * Queries are written once against {@link LogicalDatabase}; this plugin spells every table and
 * column the way one database stores it (and qualifies tables with its schema), and maps result
 * column names back to logical ones. Where two logical columns share a physical name, results
 * carry the one spelled by the rule: queries select the other under an explicit alias.
 */
export class NamingPlugin implements KyselyPlugin {
  readonly #transformer: NamingTransformer;
  readonly #back: ReadonlyMap<string, string>;

  /** @param physical the database's spelling of every logical name */
  constructor(physical: PhysicalNames) {
    this.#transformer = new NamingTransformer(physical);
    this.#back = physical.results;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const { result } = args;
    if (!result.rows || result.rows.length === 0) return result;
    return { ...result, rows: result.rows.map((row) => this.#mapRow(row)) };
  }

  #mapRow(row: UnknownRow): UnknownRow {
    const out: UnknownRow = {};
    for (const [key, value] of Object.entries(row)) out[this.#back.get(key) ?? key] = value;
    return out;
  }
}
