// pnpm chaos [--quick]: replicas of the engine on one fresh PostgreSQL database, under SIGKILLs,
// dropped connections and a graceful stop; then consistency checks. Exit code 1 when any fails.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStorage } from '@floworch/postgresql';
import { sql } from 'kysely';
import { runChecks } from './checks.js';
import { collect, openChecker, runIdsToWatch, waitForTerminal } from './collect.js';
import { parseConfig } from './config.js';
import { createChaosDatabase } from './database.js';
import { TriggerRouter } from './driver.js';
import { fileLogger } from './file-logger.js';
import { ENGINE_SCHEMA, EXECUTIONS_DDL } from './flow.js';
import { ReplicaSet } from './replicas.js';
import { printReport, tallyLogs } from './report.js';
import { runFaultTimeline } from './timeline.js';

const config = parseConfig(process.argv.slice(2));
const began = Date.now();
const say = (line: string) =>
  console.log(`[chaos ${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const database = await createChaosDatabase(config.adminUrl);
const logDir = await mkdtemp(join(tmpdir(), 'floworch-chaos-'));
say(
  `${config.name}: ${config.replicas} replicas, ${config.runs} runs, ${config.kills} kills; database ${database.name}; logs ${logDir}`,
);
const driverLog = fileLogger(join(logDir, 'driver.log'));
const replicas = new ReplicaSet(config, database.url, logDir);
const router = new TriggerRouter(replicas);
replicas.listen(
  (slot, message) => router.onMessage(slot, message),
  (slot) => router.onGone(slot),
);
let exitCode = 1;
try {
  // Migrate once and create the side table before the replicas start (they migrate too: a no-op).
  const setup = await createPostgresStorage({
    connectionString: database.url,
    schema: ENGINE_SCHEMA,
    applicationName: 'floworch_chaos_setup',
    logger: driverLog,
  });
  await sql.raw(EXECUTIONS_DDL).execute(setup.db);
  await setup.close();

  say('starting replicas');
  await replicas.startAll();
  say(`replicas ready (pids ${[...replicas.pids].join(', ')})`);
  const faults = await runFaultTimeline(config, replicas, router, database, say);
  say(`faults over; waiting for ${router.outstanding().length} unanswered triggers, then for open runs`);
  const drainUntil = Date.now() + config.drainMs;
  while (router.outstanding().length > 0 && Date.now() < drainUntil) await sleep(200);
  const checker = await openChecker(database.url, driverLog);
  try {
    const runIds = await runIdsToWatch(checker, router);
    const stillOpen = await waitForTerminal(checker, runIds, Math.max(5_000, drainUntil - Date.now()));
    say(`${runIds.length - stillOpen}/${runIds.length} runs terminal; stopping replicas`);
    router.close();
    await replicas.stopAll();
    const collected = await collect(checker, config.runs);
    const results = runChecks({
      ...collected,
      acknowledged: router.acknowledged,
      unacknowledged: router.outstanding(),
      killedPids: replicas.killedPids,
      exits: replicas.exits,
    });
    printReport({
      config,
      database: database.name,
      logDir,
      seconds: (Date.now() - began) / 1000,
      faults,
      router,
      replicas,
      runs: collected.runs,
      results,
      logTally: await tallyLogs(logDir),
    });
    exitCode = results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await checker.close();
  }
} catch (error) {
  console.error('chaos: the suite itself failed:', error);
  exitCode = 2;
} finally {
  router.close();
  await replicas.close();
  await database.dispose(config.keepDatabase);
  say(config.keepDatabase ? `kept database ${database.name}` : `dropped database ${database.name}`);
}
process.exit(exitCode);
