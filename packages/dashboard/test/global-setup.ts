import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { setup as setupPostgres, teardown as teardownPostgres } from '../../postgresql/test/global-setup.js';

/** A PostgreSQL server for the suite (as the postgresql package finds one) and a fresh UI build. */
export async function setup(project: TestProject): Promise<void> {
  const script = fileURLToPath(new URL('../scripts/build-ui.mjs', import.meta.url));
  await Promise.all([
    setupPostgres(project),
    promisify(execFile)(process.execPath, [script], { cwd: fileURLToPath(new URL('..', import.meta.url)) }),
  ]);
}

export async function teardown(): Promise<void> {
  await teardownPostgres();
}
