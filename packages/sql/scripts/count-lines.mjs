#!/usr/bin/env node
// Counts code lines (non-blank, not comment-only) of the SQL layers, at a git ref or in the
// working tree:  node packages/sql/scripts/count-lines.mjs [ref]
// "SQL Server logic" is packages/sqlserver/src without connection/ and schema/ (connection
// handling, migrations and DDL), i.e. the code that builds and runs the store statements.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ref = process.argv[2];
const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();

function listFiles(dir) {
  if (ref) {
    try {
      const out = execFileSync('git', ['ls-tree', '-r', '--name-only', ref, dir], {
        cwd: root,
        encoding: 'utf8',
      });
      return out.split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }
  const abs = join(root, dir);
  const found = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else found.push(relative(root, p));
    }
  };
  walk(abs);
  return found;
}

function read(path) {
  return ref
    ? execFileSync('git', ['show', `${ref}:${path}`], { cwd: root, encoding: 'utf8' })
    : readFileSync(join(root, path), 'utf8');
}

/** Code lines: not blank, not a line that is only a comment (`//`, or inside a block comment). */
function codeLines(text) {
  let count = 0;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    if (line.startsWith('/*')) {
      if (!line.includes('*/')) inBlock = true;
      continue;
    }
    count++;
  }
  return count;
}

function count(dir, exclude = [], only = null) {
  const files = listFiles(dir).filter(
    (f) =>
      f.endsWith('.ts') &&
      !f.endsWith('.test.ts') &&
      !exclude.some((x) => f.startsWith(`${dir}/${x}`)) &&
      (only === null || only.some((x) => f === `${dir}/${x}`)),
  );
  return files.reduce((sum, f) => sum + codeLines(read(f)), 0);
}

// The shared layer's SQL Server side: compiled by the statement tests, never run by PostgreSQL's.
const MSSQL_SIDE = ['mssql.ts', 'mssql-compiler.ts'];

const rows = [
  [
    'SQL Server logic (packages/sqlserver/src minus connection/, schema/)',
    count('packages/sqlserver/src', ['connection', 'schema']),
  ],
  ['  of which stores/', count('packages/sqlserver/src/stores')],
  [
    'PostgreSQL logic (packages/postgresql/src minus connection/, schema/)',
    count('packages/postgresql/src', ['connection', 'schema']),
  ],
  ['Shared layer (packages/sql/src)', count('packages/sql/src')],
  ['  dialect-neutral part (run by the PostgreSQL/PGlite suites)', count('packages/sql/src', MSSQL_SIDE)],
  ['  SQL Server side (mssql.ts, mssql-compiler.ts)', count('packages/sql/src', [], MSSQL_SIDE)],
];
console.log(`code lines at ${ref ?? 'working tree'}`);
for (const [name, n] of rows) console.log(`${String(n).padStart(6)}  ${name}`);
