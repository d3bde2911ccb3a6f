import { logicalNames } from '@floworch/sql';
import type { Recorded } from './recording-db.js';

/** Logical names that are not also physical ones (a bracketed one escaped the naming plugin). */
const LOGICAL = new Set(logicalNames().filter((name) => /[A-Z]/.test(name) || !/^[a-z]/.test(name)));

/** A statement's parameter value by its `@n` placeholder. */
function param(statement: Recorded, placeholder: string): unknown {
  return statement.parameters[Number(placeholder) - 1];
}

/**
 * The SQL Server rules that bit the reference implementation (and a few of this port's own), as
 * a list of human-readable violations for one compiled statement.
 */
export function dialectViolations(statement: Recorded): string[] {
  const { sql } = statement;
  // Driver-level transaction calls (begin/commit/rollback), logged by the recording driver, are not SQL.
  if (/^<driver: [a-z ]+>$/.test(sql)) return [];
  const problems: string[] = [];
  const bad = (why: string) => problems.push(why);

  // Placeholders: kysely numbers them @1..@n; every one must be bound and every binding used.
  const used = new Set([...sql.matchAll(/@(\d+)\b/g)].map((m) => Number(m[1])));
  for (let i = 1; i <= statement.parameters.length; i++)
    if (!used.has(i)) bad(`parameter @${i} is never used`);
  for (const i of used) if (i < 1 || i > statement.parameters.length) bad(`placeholder @${i} has no value`);

  // Paging: OFFSET needs ORDER BY, and FETCH must be positive (SQL Server rejects FETCH 0).
  if (/\bOFFSET\b/i.test(sql)) {
    const m = /ORDER BY[\s\S]+?OFFSET @(\d+) ROWS FETCH NEXT @(\d+) ROWS ONLY/i.exec(sql);
    if (!m) bad('OFFSET without a preceding ORDER BY or without FETCH NEXT … ROWS ONLY');
    else {
      const offset = param(statement, m[1]!);
      const fetch = param(statement, m[2]!);
      if (!(typeof offset === 'number' && Number.isInteger(offset) && offset >= 0))
        bad(`OFFSET ${String(offset)}`);
      if (!(typeof fetch === 'number' && Number.isInteger(fetch) && fetch > 0))
        bad(`FETCH NEXT ${String(fetch)}`);
    }
  }
  for (const m of sql.matchAll(/TOP \(@(\d+)\)/gi)) {
    const top = param(statement, m[1]!);
    if (!(typeof top === 'number' && Number.isInteger(top) && top > 0)) bad(`TOP (${String(top)})`);
  }

  // Other dialects' idioms and database clocks (every "now" comes from the injected clock).
  for (const [pattern, why] of [
    [/\bLIMIT\b/i, 'LIMIT (not T-SQL)'],
    [/\bRETURNING\b/i, 'RETURNING (T-SQL uses OUTPUT)'],
    [/ON CONFLICT/i, 'ON CONFLICT (not T-SQL)'],
    [/\bILIKE\b/i, 'ILIKE (not T-SQL)'],
    [/NOW\(\)|SYSDATETIMEOFFSET|SYSUTCDATETIME|GETDATE|GETUTCDATE|CURRENT_TIMESTAMP/i, 'database clock'],
    [/"/, 'double-quoted identifier (use brackets)'],
    [/\bcount\s*\(/i, 'COUNT (an INT in T-SQL, overflows past 2^31 rows; use COUNT_BIG)'],
  ] as const) {
    if (pattern.test(sql)) bad(why);
  }

  // LIKE: always against the escaped pattern variable with an explicit escape character.
  for (const m of sql.matchAll(/\bLIKE\b(.{0,20})/gi)) {
    if (!/^ @(p|\d+) ESCAPE N'\\'/i.test(m[1]!)) bad(`LIKE without ESCAPE N'\\': LIKE${m[1]}`);
  }

  // Insert-if-absent must hold a key-range lock from the probe to the insert.
  if (
    /INSERT INTO[\s\S]+WHERE NOT EXISTS/i.test(sql) &&
    !/WHERE NOT EXISTS \(SELECT 1( AS \[\w+\])? FROM \S+( AS \[\w+\])? WITH \(UPDLOCK, HOLDLOCK\)/i.test(sql)
  )
    bad('insert-if-absent without WITH (UPDLOCK, HOLDLOCK)');
  if (/\bMERGE\b/i.test(sql) && !/MERGE (INTO )?\S+ WITH \(HOLDLOCK\)/i.test(sql))
    bad('MERGE without WITH (HOLDLOCK)');

  // Names: every bracketed identifier is physical (PascalCase) — a camelCase one is a logical name
  // the naming plugin did not map — and brackets inside a name are doubled.
  for (const m of sql.matchAll(/\[([^\]]*)\]/g)) {
    if (LOGICAL.has(m[1]!)) bad(`unmapped logical name [${m[1]}]`);
  }
  // Every bound value is a plain value the driver can type (an expression bound as a parameter
  // means a builder helper wrapped it in val() by mistake).
  for (const value of statement.parameters) {
    if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value))
      bad(`parameter is an object (${Object.keys(value).join(', ')})`);
  }
  // Parameters stay parameters: no bound text value also appears inlined in the statement.
  for (const value of statement.parameters) {
    if (typeof value === 'string' && value.length >= 3 && sql.includes(`'${value}'`))
      bad(`parameter '${value}' is also inlined`);
  }

  // Explicit transactions: XACT_ABORT so any error rolls back everything, and balanced.
  const begins = (sql.match(/BEGIN TRANSACTION/g) ?? []).length;
  const commits = (sql.match(/COMMIT TRANSACTION/g) ?? []).length;
  if (begins !== commits) bad(`${begins} BEGIN TRANSACTION vs ${commits} COMMIT TRANSACTION`);
  if (begins > 0 && !sql.startsWith('SET XACT_ABORT ON;')) bad('transaction batch without SET XACT_ABORT ON');

  // Instants travel as ISO text converted by the server, never as driver-typed JS Dates.
  for (const value of statement.parameters) if (value instanceof Date) bad('a JS Date parameter');
  for (const m of sql.matchAll(/CONVERT\(DATETIMEOFFSET\(7\), @(\d+), 127\)/g)) {
    const value = param(statement, m[1]!);
    if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value))
      bad(`instant parameter ${String(value)} is not ISO-8601 UTC`);
  }

  if (!sql.trimEnd().endsWith(';')) bad('statement not terminated with ;');
  return problems;
}
