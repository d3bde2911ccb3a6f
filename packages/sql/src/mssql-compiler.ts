import {
  type AggregateFunctionNode,
  type AliasNode,
  type CompiledQuery,
  type MergeQueryNode,
  MssqlQueryCompiler,
  type QueryId,
  RawNode,
  type RootOperationNode,
  type TableNode,
} from 'kysely';

/**
 * kysely's MSSQL compiler with four house rules: identifiers in brackets (valid whatever
 * `QUOTED_IDENTIFIER` says), every statement terminated by `;` (T-SQL requires it after `MERGE`),
 * every `MERGE` holding a key-range lock on its target (`WITH (HOLDLOCK)`) so concurrent
 * upserts of one key serialise instead of failing with a duplicate key, and every `count` made
 * `count_big` (T-SQL's `count` is an INT and overflows past 2^31 rows; PostgreSQL's is a bigint).
 */
export class BracketMssqlQueryCompiler extends MssqlQueryCompiler {
  protected override getLeftIdentifierWrapper(): string {
    return '[';
  }

  protected override getRightIdentifierWrapper(): string {
    return ']';
  }

  protected override sanitizeIdentifier(identifier: string): string {
    return identifier.replaceAll(']', ']]');
  }

  override compileQuery(node: RootOperationNode, queryId: QueryId): CompiledQuery {
    const compiled = super.compileQuery(node, queryId);
    return compiled.sql.endsWith(';') ? compiled : { ...compiled, sql: `${compiled.sql};` };
  }

  protected override visitAggregateFunction(node: AggregateFunctionNode): void {
    super.visitAggregateFunction(node.func.toLowerCase() === 'count' ? { ...node, func: 'count_big' } : node);
  }

  protected override visitMergeQuery(node: MergeQueryNode): void {
    super.visitMergeQuery({ ...node, into: withHoldLock(node.into) as unknown as TableNode });
  }
}

/** `target WITH (HOLDLOCK) AS alias`: T-SQL puts the hint between the table and its alias. */
function withHoldLock(into: TableNode | AliasNode): RawNode {
  if (into.kind === 'AliasNode')
    return RawNode.create(['', ' WITH (HOLDLOCK) AS ', ''], [into.node, into.alias]);
  return RawNode.create(['', ' WITH (HOLDLOCK)'], [into]);
}
