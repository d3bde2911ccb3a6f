import type { CheckResult, RunSnapshot } from './checks.js';
import type { ChaosConfig } from './config.js';
import type { FaultLog, TriggerRouter } from './driver.js';
import type { ReplicaSet } from './replicas.js';

/** Everything the final report prints. */
export interface ChaosReport {
  readonly config: ChaosConfig;
  readonly database: string;
  readonly logDir: string;
  readonly seconds: number;
  readonly faults: FaultLog;
  readonly router: TriggerRouter;
  readonly replicas: ReplicaSet;
  readonly runs: readonly RunSnapshot[];
  readonly results: readonly CheckResult[];
  /** Warning/error messages the replicas logged, with counts. */
  readonly logTally: ReadonlyMap<string, number>;
}

/** How many of each value. */
function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

/** Prints the numbers and the verdict of every check. */
export function printReport(r: ChaosReport): void {
  const failedSteps = r.runs.flatMap((run) => run.steps.filter((s) => s.status === 'Failed'));
  const lines = [
    '',
    `=== floworch chaos (${r.config.name}) — ${r.seconds.toFixed(1)} s ===`,
    `replicas ${r.config.replicas} · processes started ${r.replicas.pids.size} · database ${r.database}`,
    `faults: SIGKILL ${r.faults.kills} · pg_terminate_backend rounds ${r.faults.terminationRounds} (${r.faults.connectionsTerminated} connections${r.faults.terminationErrors ? `, ${r.faults.terminationErrors} rounds failed` : ''}) · graceful stops ${r.faults.gracefulStops}`,
    ...r.replicas.stops.map(
      (s) =>
        `graceful stop: replica ${s.slot} pid ${s.pid}: stop() + close() took ${s.stopMs ?? 'more than the limit'} ms${s.lingering.length ? `; still open 250 ms later: ${tally(s.lingering)}` : ''}`,
    ),
    `triggers: ${r.router.acknowledged.size}/${r.config.runs} acknowledged · ${r.router.failures} rejected and retried · ${r.router.resent} resent after their replica died`,
    `runs: ${r.runs.length} stored · ${tally(r.runs.map((x) => x.status))}`,
    ...(failedSteps.length
      ? [`failed steps: ${tally(failedSteps.map((s) => `${s.stepKey}: ${(s.error ?? '').slice(0, 100)}`))}`]
      : []),
    `replica log lines: ${[...r.logTally].map(([m, n]) => `${n}× ${m}`).join(' · ') || 'none'}`,
    '',
  ];
  for (const result of r.results) {
    lines.push(`${result.ok ? 'PASS' : 'FAIL'}  ${result.name} — ${result.summary}`);
    for (const p of result.problems.slice(0, 5)) lines.push(`        ${p}`);
    if (result.problems.length > 5) lines.push(`        … and ${result.problems.length - 5} more`);
  }
  const failed = r.results.filter((x) => !x.ok).length;
  lines.push(
    '',
    failed === 0 ? 'chaos: all checks passed' : `chaos: ${failed} check(s) failed`,
    `logs: ${r.logDir}`,
  );
  console.log(lines.join('\n'));
}

/** Counts the `msg` of every JSON log line in the replicas' log files. */
export async function tallyLogs(logDir: string): Promise<Map<string, number>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const counts = new Map<string, number>();
  for (const file of (await readdir(logDir)).filter((f) => f.startsWith('replica-'))) {
    for (const line of (await readFile(`${logDir}/${file}`, 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? '?');
        counts.set(msg, (counts.get(msg) ?? 0) + 1);
      } catch {
        // not a log line
      }
    }
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1]));
}
