import { describe, expect, it } from 'vitest';
import {
  type ChaosObservations,
  checkConsistent,
  checkCrashes,
  checkExactlyOnce,
  checkIdempotency,
  checkTerminal,
  type Execution,
  type RunSnapshot,
  runChecks,
} from '../src/checks.js';
import { STEP_KEYS } from '../src/flow.js';

const RUN = '00000000-0000-4000-8000-000000000001';

function succeededRun(runId = RUN): RunSnapshot {
  return {
    runId,
    status: 'Succeeded',
    steps: STEP_KEYS.map((stepKey) => ({ stepKey, status: 'Succeeded', error: null })),
  };
}
const once = (runId = RUN, pid = 10): Execution[] =>
  STEP_KEYS.map((stepKey) => ({ runId, stepKey, pid, finished: true }));

function observations(over: Partial<ChaosObservations> = {}): ChaosObservations {
  return {
    runs: [succeededRun()],
    acknowledged: new Map([[0, RUN]]),
    unacknowledged: [],
    idempotencyKeys: new Map([[0, RUN]]),
    executions: once(),
    killedPids: new Set(),
    exits: [],
    ...over,
  };
}

describe('chaos checks', () => {
  it('pass on a clean run', () => {
    expect(runChecks(observations()).every((r) => r.ok)).toBe(true);
  });

  it('flag a run that is not terminal, or Succeeded with a step still Running', () => {
    const running: RunSnapshot = { ...succeededRun(), status: 'Running' };
    expect(checkTerminal(observations({ runs: [running] })).ok).toBe(false);
    const stale: RunSnapshot = {
      ...succeededRun(),
      steps: succeededRun().steps.map((s) => (s.stepKey === 'd' ? { ...s, status: 'Running' } : s)),
    };
    const result = checkConsistent(observations({ runs: [stale] }));
    expect(result.problems).toEqual([`run ${RUN} is Succeeded but step d is Running`]);
  });

  it('flag a Succeeded run whose join step never finished executing', () => {
    const executions = once().map((e) => (e.stepKey === 'c' ? { ...e, finished: false } : e));
    expect(checkConsistent(observations({ executions })).problems).toEqual([
      `run ${RUN} Succeeded but join step c never finished executing`,
    ]);
  });

  it('flag an idempotency key or acknowledged run id without its run', () => {
    const result = checkIdempotency(observations({ runs: [] }));
    expect(result.problems).toHaveLength(2);
  });

  it('excuse a re-execution after a kill, count it, and flag two executions by live processes', () => {
    const retried = [...once(), { runId: RUN, stepKey: 'b1', pid: 99, finished: false }];
    const excused = checkExactlyOnce(observations({ executions: retried, killedPids: new Set([99]) }));
    expect(excused.ok).toBe(true);
    expect(excused.counts.reexecutedAfterKill).toBe(1);
    const twice = [...once(), { runId: RUN, stepKey: 'b1', pid: 11, finished: true }];
    expect(checkExactlyOnce(observations({ executions: twice })).ok).toBe(false);
  });

  it('count only unexpected exits as crashes', () => {
    const exits = [
      { slot: 0, pid: 1, kind: 'killed', code: null, signal: 'SIGKILL', tail: [] },
      { slot: 1, pid: 2, kind: 'stopped', code: 0, signal: null, tail: [] },
    ] as const;
    expect(checkCrashes(observations({ exits: [...exits] })).ok).toBe(true);
    const crash = { slot: 2, pid: 3, kind: 'crashed', code: 1, signal: null, tail: ['boom'] } as const;
    expect(checkCrashes(observations({ exits: [...exits, crash] })).ok).toBe(false);
  });
});
