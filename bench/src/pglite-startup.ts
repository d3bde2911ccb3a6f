/**
 * PGlite start-up workload: how long `createPgliteStorage` takes to open a database and how much
 * memory (peak RSS) the process needs for it, for a fresh directory with and without the cached
 * cluster template, for `memory://`, and for reopening an existing directory. Each measurement
 * runs in its own child process, so peak RSS is that open's alone.
 *
 * `tsx --conditions=@floworch/source src/pglite-startup.ts` runs it on its own; `pnpm bench`
 * runs it when the pglite backend is selected and writes `pglite-startup.md` / `.json`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@floworch/core';
import { createPgliteStorage } from '@floworch/postgresql/pglite';

/** One measured open. */
export interface StartupRow {
  /** What was opened. */
  readonly scenario: string;
  /** Until `createPgliteStorage` resolved (schema migrated), ms. */
  readonly openMs: number;
  /** Peak resident set size of the measuring process, MiB. */
  readonly peakRssMiB: number;
}

const self = fileURLToPath(import.meta.url);

/** Child side: opens once, prints one JSON line. */
async function child(dataDir: string, cache: string): Promise<void> {
  const t0 = performance.now();
  const storage = await createPgliteStorage({
    dataDir,
    templateCache: cache === 'off' ? false : cache,
    logger: silentLogger,
  });
  const openMs = performance.now() - t0;
  await storage.close();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ openMs, peakRssMiB })}\n`);
}

/** Runs one open in a fresh process. */
function measure(scenario: string, dataDir: string, cache: string): Promise<StartupRow> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@floworch/source', self, '--child', dataDir, cache],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        return reject(new Error(`${scenario}: child exited ${code}: ${out}`));
      const { openMs, peakRssMiB } = JSON.parse(line) as { openMs: number; peakRssMiB: number };
      resolve({ scenario, openMs: Math.round(openMs), peakRssMiB: Math.round(peakRssMiB) });
    });
  });
}

/** Measures every scenario once, in order (the template is created by the second one). */
export async function measurePgliteStartup(
  log: (message: string) => void = console.log,
): Promise<StartupRow[]> {
  const root = await mkdtemp(join(tmpdir(), 'floworch-pglite-startup-'));
  const cache = join(root, 'template-cache');
  const rows: StartupRow[] = [];
  const run = async (scenario: string, dataDir: string, cacheArg: string) => {
    const row = await measure(scenario, dataDir, cacheArg);
    log(`pglite start-up: ${scenario}: ${row.openMs} ms, peak RSS ${row.peakRssMiB} MiB`);
    rows.push(row);
  };
  try {
    await run('fresh directory, initdb (template cache off)', join(root, 'a'), 'off');
    await run('fresh directory, initdb + template saved (first open on a machine)', join(root, 'b'), cache);
    await run('fresh directory from the template', join(root, 'c'), cache);
    await run('memory:// from the template', 'memory://', cache);
    await run('memory://, initdb (template cache off)', 'memory://', 'off');
    await run('existing directory, reopened', join(root, 'c'), cache);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a markdown table. */
export function startupMarkdown(rows: readonly StartupRow[]): string {
  return [
    '| PGlite open | time ms | peak RSS MiB |',
    '| --- | ---: | ---: |',
    ...rows.map((r) => `| ${r.scenario} | ${r.openMs} | ${r.peakRssMiB} |`),
  ].join('\n');
}

/** Measures and writes `pglite-startup.md` and `pglite-startup.json` into `outDir`. */
export async function writePgliteStartup(
  outDir: string,
  log?: (message: string) => void,
): Promise<StartupRow[]> {
  const rows = await measurePgliteStartup(log);
  await writeFile(join(outDir, 'pglite-startup.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeFile(join(outDir, 'pglite-startup.md'), `# PGlite start-up\n\n${startupMarkdown(rows)}\n`);
  return rows;
}

if (process.argv[1] === self) {
  const [flag, dataDir, cache] = process.argv.slice(2);
  if (flag === '--child') await child(dataDir!, cache!);
  else console.log(startupMarkdown(await measurePgliteStartup()));
}
