import type { ChaosConfig } from './config.js';
import type { ChaosDatabase } from './database.js';
import { type FaultLog, schedule, type TriggerRouter } from './driver.js';
import type { ReplicaSet } from './replicas.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `budgetMs`) for a replica that is up and not being stopped; returns its slot. */
async function readyReplica(replicas: ReplicaSet, budgetMs = 60_000): Promise<number | undefined> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const ready = replicas.readySlots();
    if (ready.length > 0) return ready[Math.floor(Math.random() * ready.length)];
    if (Date.now() > deadline) return undefined;
    await sleep(100);
  }
}

/**
 * Runs the fault timeline from now: triggers spread over the window, SIGKILLs (each waits for a
 * live replica, so the configured number really happens even while restarts are slow),
 * `pg_terminate_backend` rounds on the chaos database, and one graceful stop. Resolves when all
 * of it is done.
 */
export async function runFaultTimeline(
  config: ChaosConfig,
  replicas: ReplicaSet,
  router: TriggerRouter,
  database: ChaosDatabase,
  say: (line: string) => void,
): Promise<FaultLog> {
  const faults: FaultLog = {
    kills: 0,
    terminationRounds: 0,
    connectionsTerminated: 0,
    terminationErrors: 0,
    gracefulStops: 0,
  };
  const t0 = Date.now();
  const until = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
  const { killsAt, triggersAt, terminationsAt } = schedule(config);

  const triggers = (async () => {
    for (const [index, ms] of triggersAt.entries()) {
      await until(ms);
      router.submit(index);
    }
  })();
  const kills = (async () => {
    let last = -Infinity;
    for (const ms of killsAt) {
      // On schedule, but never closer than killEveryMs to the previous kill (slow restarts would
      // otherwise bunch the late ones together and take every replica down at once).
      await until(ms);
      await sleep(Math.max(0, last + config.killEveryMs - Date.now()));
      const slot = await readyReplica(replicas);
      const pid = slot === undefined ? null : replicas.kill(slot);
      if (pid === null) continue;
      last = Date.now();
      faults.kills++;
      say(`SIGKILL replica ${slot} (pid ${pid})`);
    }
  })();
  const terminations = (async () => {
    for (const ms of terminationsAt) {
      await until(ms);
      try {
        const n = await database.terminateConnections();
        faults.terminationRounds++;
        faults.connectionsTerminated += n;
        say(`pg_terminate_backend: ${n} connections of ${database.name}`);
      } catch (error) {
        faults.terminationErrors++;
        say(`pg_terminate_backend failed: ${(error as Error).message}`);
      }
    }
  })();
  const gracefulStop = (async () => {
    await until(config.gracefulStopAtMs);
    const slot = await readyReplica(replicas);
    if (slot === undefined) return;
    say(`graceful stop of replica ${slot}`);
    await replicas.stop(slot);
    faults.gracefulStops++;
    say(
      `replica ${slot} stopped (stop() + close() took ${replicas.stops.at(-1)?.stopMs ?? '?'} ms); restarting it`,
    );
    await replicas.start(slot);
  })();
  await Promise.all([triggers, kills, terminations, gracefulStop]);
  return faults;
}
