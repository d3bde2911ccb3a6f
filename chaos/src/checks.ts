import { JOIN_STEPS, STEP_KEYS } from './flow.js';
import type { ReplicaExit } from './replicas.js';

/** A run as the engine's storage reports it. */
export interface RunSnapshot {
  readonly runId: string;
  readonly status: string;
  readonly steps: ReadonlyArray<{
    readonly stepKey: string;
    readonly status: string;
    readonly error: string | null;
  }>;
}

/** One handler execution from the side table. */
export interface Execution {
  readonly runId: string;
  readonly stepKey: string;
  readonly pid: number;
  /** The handler returned (its `finished_at` is set). */
  readonly finished: boolean;
}

/** Everything the checks look at, gathered after the faults stopped. */
export interface ChaosObservations {
  /** Every run of the chaos flow in the database. */
  readonly runs: readonly RunSnapshot[];
  /** Trigger index → run id the engine answered (`null`: accepted without a run, e.g. disabled). */
  readonly acknowledged: ReadonlyMap<number, string | null>;
  /** Trigger indexes never acknowledged by any replica. */
  readonly unacknowledged: readonly number[];
  /** Trigger index → run id registered under its idempotency key (`null`: no key). */
  readonly idempotencyKeys: ReadonlyMap<number, string | null>;
  readonly executions: readonly Execution[];
  /** Pids the driver SIGKILLed. */
  readonly killedPids: ReadonlySet<number>;
  readonly exits: readonly ReplicaExit[];
}

/** The verdict of one check. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  /** One-line summary. */
  readonly summary: string;
  /** Individual violations (the report prints the first few). */
  readonly problems: readonly string[];
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled', 'TimedOut']);
const TERMINAL_STEP = new Set(['Succeeded', 'Failed', 'Skipped']);

const result = (name: string, problems: string[], summary: string): CheckResult => ({
  name,
  ok: problems.length === 0,
  summary,
  problems,
});

/** Executions grouped by `runId/stepKey`. */
function byStep(executions: readonly Execution[]): Map<string, Execution[]> {
  const groups = new Map<string, Execution[]>();
  for (const e of executions) {
    const key = `${e.runId}/${e.stepKey}`;
    const list = groups.get(key) ?? [];
    list.push(e);
    groups.set(key, list);
  }
  return groups;
}

/** Every trigger was acknowledged with a run id (the driver retries on other replicas). */
export function checkTriggers(o: ChaosObservations): CheckResult {
  const problems = o.unacknowledged.map((i) => `trigger #${i} was never acknowledged`);
  for (const [index, runId] of o.acknowledged) {
    if (runId === null) problems.push(`trigger #${index} was acknowledged without a run id`);
  }
  return result('every trigger accepted', problems, `${o.acknowledged.size} acknowledged`);
}

/** Every run reached a terminal status. */
export function checkTerminal(o: ChaosObservations): CheckResult {
  const open = o.runs.filter((r) => !TERMINAL.has(r.status));
  return result(
    'every run terminal',
    open.map(
      (r) =>
        `run ${r.runId} is ${r.status} (steps: ${r.steps.map((s) => `${s.stepKey}=${s.status}`).join(', ')})`,
    ),
    `${o.runs.length - open.length}/${o.runs.length} terminal`,
  );
}

/**
 * A terminal run's steps agree with it: a Succeeded run has every step Succeeded, each with a
 * recorded execution, and its join steps (`c`, `d`) executed to the end; a Failed run has a
 * Failed step; no terminal run has a step still Running or Pending.
 */
export function checkConsistent(o: ChaosObservations): CheckResult {
  const groups = byStep(o.executions);
  const problems: string[] = [];
  for (const run of o.runs) {
    if (!TERMINAL.has(run.status)) continue; // reported by checkTerminal
    const steps = new Map(run.steps.map((s) => [s.stepKey, s]));
    for (const s of run.steps) {
      if (!TERMINAL_STEP.has(s.status))
        problems.push(`run ${run.runId} is ${run.status} but step ${s.stepKey} is ${s.status}`);
    }
    if (run.status === 'Succeeded') {
      for (const key of STEP_KEYS) {
        const step = steps.get(key);
        if (step && !TERMINAL_STEP.has(step.status)) continue; // reported above
        if (step?.status !== 'Succeeded') {
          problems.push(`run ${run.runId} Succeeded but step ${key} is ${step?.status ?? 'missing'}`);
        } else if (!groups.has(`${run.runId}/${key}`)) {
          problems.push(`run ${run.runId} Succeeded but step ${key} has no recorded execution`);
        }
      }
      for (const key of JOIN_STEPS) {
        if (!(groups.get(`${run.runId}/${key}`) ?? []).some((e) => e.finished)) {
          problems.push(`run ${run.runId} Succeeded but join step ${key} never finished executing`);
        }
      }
    } else if (run.status === 'Failed' && !run.steps.some((s) => s.status === 'Failed')) {
      problems.push(`run ${run.runId} Failed without a Failed step`);
    }
  }
  return result('every run consistent', problems, `${o.runs.length} runs checked`);
}

/** Every registered idempotency key and every acknowledged run id points at a stored run. */
export function checkIdempotency(o: ChaosObservations): CheckResult {
  const stored = new Set(o.runs.map((r) => r.runId.toLowerCase()));
  const problems: string[] = [];
  let keys = 0;
  for (const [index, runId] of o.idempotencyKeys) {
    if (runId === null) continue;
    keys++;
    if (!stored.has(runId.toLowerCase()))
      problems.push(`key chaos-${index} → run ${runId}, which does not exist`);
  }
  for (const [index, runId] of o.acknowledged) {
    if (runId !== null && !stored.has(runId.toLowerCase())) {
      problems.push(`trigger #${index} was answered with run ${runId}, which does not exist`);
    }
  }
  return result('no idempotency key without its run', problems, `${keys} keys, ${stored.size} runs`);
}

/** Counts of {@link checkExactlyOnce}. */
export interface ExecutionCounts {
  /** (run, step) pairs executed at least once. */
  readonly pairs: number;
  readonly executions: number;
  /** Extra executions explained by a SIGKILL of an executing process. */
  readonly reexecutedAfterKill: number;
}

/**
 * Each (run, step) executed exactly once — except that an execution by a process that was
 * SIGKILLed may be followed by another (the step was taken over). Two executions by processes
 * that were never killed are a violation.
 */
export function checkExactlyOnce(o: ChaosObservations): CheckResult & { counts: ExecutionCounts } {
  const problems: string[] = [];
  let reexecutedAfterKill = 0;
  const groups = byStep(o.executions);
  for (const [pair, list] of groups) {
    if (list.length === 1) continue;
    const survivors = list.filter((e) => !o.killedPids.has(e.pid));
    if (survivors.length > 1) {
      problems.push(
        `${pair} executed ${list.length} times (${survivors.length} by processes that were not killed: pids ${survivors.map((e) => e.pid).join(', ')})`,
      );
    } else {
      reexecutedAfterKill += list.length - 1;
    }
  }
  const counts = { pairs: groups.size, executions: o.executions.length, reexecutedAfterKill };
  return {
    ...result(
      'executions exactly once (except after a kill)',
      problems,
      `${counts.executions} executions of ${counts.pairs} steps; ${reexecutedAfterKill} re-executed after their process was killed`,
    ),
    counts,
  };
}

/** No replica ended other than by our SIGKILL or our graceful stop. */
export function checkCrashes(o: ChaosObservations): CheckResult {
  const crashes = o.exits.filter((e) => e.kind === 'crashed');
  return result(
    'no process crashes other than the kills',
    crashes.map(
      (c) =>
        `replica ${c.slot} (pid ${c.pid}) exited with code ${c.code} signal ${c.signal}: ${c.tail.slice(-3).join(' | ')}`,
    ),
    `${crashes.length} crashes, ${o.exits.filter((e) => e.kind === 'killed').length} kills, ${o.exits.filter((e) => e.kind === 'stopped').length} graceful stops`,
  );
}

/** All checks, in report order. */
export function runChecks(o: ChaosObservations): CheckResult[] {
  return [
    checkTriggers(o),
    checkTerminal(o),
    checkConsistent(o),
    checkIdempotency(o),
    checkExactlyOnce(o),
    checkCrashes(o),
  ];
}
