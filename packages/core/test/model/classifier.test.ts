import { describe, expect, it } from 'vitest';
import {
  aggregateLoopStatus,
  classifyIteration,
  classifyRun,
  planRun,
} from '../../src/engine/model/index.js';
import type { ForEachStepDefinition } from '../../src/model/types.js';
import { flow, statuses, step } from './fixtures.js';

describe('classifyRun', () => {
  const chain = flow({ a: step(), b: step({ a: ['Succeeded'] }), c: step({ b: ['Succeeded'] }) });

  it('is Failed when nothing succeeded and something failed', () => {
    expect(classifyRun(chain, statuses({ a: 'Failed', b: 'Skipped', c: 'Skipped' }))).toBe('Failed');
  });

  it('is Skipped when only skipped steps were recorded', () => {
    expect(classifyRun(chain, statuses({ a: 'Skipped', b: 'Skipped' }))).toBe('Skipped');
  });

  it('is Failed for an empty status map', () => {
    expect(classifyRun(chain, new Map())).toBe('Failed');
  });

  it('is Failed when a failure is not handled', () => {
    expect(classifyRun(chain, statuses({ a: 'Succeeded', b: 'Failed', c: 'Skipped' }))).toBe('Failed');
  });

  it('is Succeeded when a succeeded dependent handles the failure', () => {
    const f = flow({ a: step(), handler: step({ a: ['Failed'] }), next: step({ a: ['Succeeded'] }) });
    expect(classifyRun(f, statuses({ a: 'Failed', handler: 'Succeeded', next: 'Skipped' }))).toBe(
      'Succeeded',
    );
  });

  it('does not count a dependent that did not succeed as handling the failure', () => {
    const f = flow({ a: step(), handler: step({ a: ['Failed'] }), other: step() });
    expect(classifyRun(f, statuses({ a: 'Failed', handler: 'Failed', other: 'Succeeded' }))).toBe('Failed');
  });

  it('is Skipped when every leaf was skipped', () => {
    const f = flow({ a: step(), b: step({ a: ['Succeeded'] }), onError: step({ b: ['Failed'] }) });
    expect(classifyRun(f, statuses({ a: 'Succeeded', b: 'Succeeded', onError: 'Skipped' }))).toBe('Skipped');
  });

  it('is Succeeded when some leaf succeeded', () => {
    const f = flow({ a: step(), b: step({ a: ['Succeeded'] }), onError: step({ a: ['Failed'] }) });
    expect(classifyRun(f, statuses({ a: 'Succeeded', b: 'Succeeded', onError: 'Skipped' }))).toBe(
      'Succeeded',
    );
  });

  it('is Succeeded for a single success', () => {
    expect(classifyRun(flow({ a: step() }), statuses({ a: 'Succeeded' }))).toBe('Succeeded');
  });

  it('a failed step with blocked downstream ends the run Failed', () => {
    const f = flow({ a: step(), b: step({ a: ['Succeeded'] }), c: step({ b: ['Succeeded'] }), d: step() });
    const state = statuses({ a: 'Succeeded', b: 'Failed', d: 'Succeeded' });
    const { blocked } = planRun(f, state);
    expect(blocked).toEqual(['c']);
    for (const key of blocked) state.set(key, 'Skipped');
    expect(classifyRun(f, state)).toBe('Failed');
  });

  it('a linear chain whose final [Failed]-only leaf is skipped ends Skipped', () => {
    const f = flow({ a: step(), b: step({ a: ['Succeeded'] }), onFailure: step({ b: ['Failed'] }) });
    const state = statuses({ a: 'Succeeded', b: 'Succeeded' });
    expect(planRun(f, state).blocked).toEqual(['onFailure']);
    state.set('onFailure', 'Skipped');
    expect(classifyRun(f, state)).toBe('Skipped');
  });

  it('mixed leaves end Succeeded', () => {
    const f = flow({ a: step(), ok: step({ a: ['Succeeded'] }), ko: step({ a: ['Failed'] }) });
    expect(classifyRun(f, statuses({ a: 'Succeeded', ok: 'Succeeded', ko: 'Skipped' }))).toBe('Succeeded');
  });

  it('counts recorded keys the flow no longer declares as leaves', () => {
    const f = flow({ a: step() });
    expect(classifyRun(f, statuses({ a: 'Succeeded', removed: 'Failed' }))).toBe('Failed');
  });

  describe('with ForEach', () => {
    const loop: ForEachStepDefinition = {
      type: 'ForEach',
      forEach: [1, 2],
      steps: { work: step(), recover: step({ work: ['Failed'] }) },
    };

    it('lets the loop status stand for its iterations', () => {
      const f = flow({ loop, after: step({ loop: ['Succeeded'] }) });
      const iterations = { 'loop.0.work': 'Succeeded', 'loop.1.work': 'Succeeded' } as const;
      expect(classifyRun(f, statuses({ ...iterations, loop: 'Succeeded', after: 'Succeeded' }))).toBe(
        'Succeeded',
      );
      expect(classifyRun(f, statuses({ 'loop.0.work': 'Failed', loop: 'Failed', after: 'Skipped' }))).toBe(
        'Failed',
      );
    });

    it('treats a handled loop failure like any handled failure', () => {
      const f = flow({ loop, onLoopFailed: step({ loop: ['Failed'] }) });
      const state = statuses({
        'loop.0.work': 'Failed',
        'loop.0.recover': 'Failed',
        loop: 'Failed',
        onLoopFailed: 'Succeeded',
      });
      expect(classifyRun(f, state)).toBe('Succeeded');
    });

    it('counts iteration keys as unhandled leaves when the loop has no recorded status', () => {
      const f = flow({ loop, other: step() });
      expect(classifyRun(f, statuses({ other: 'Succeeded', 'loop.0.work': 'Failed' }))).toBe('Failed');
      expect(classifyRun(f, statuses({ other: 'Succeeded', 'loop.0.work': 'Succeeded' }))).toBe('Succeeded');
    });
  });
});

describe('ForEach iteration classification', () => {
  const loop: ForEachStepDefinition = {
    type: 'ForEach',
    forEach: [1, 2, 3],
    steps: { work: step(), recover: step({ work: ['Failed'] }), notify: step({ work: ['Succeeded'] }) },
  };
  const f = flow({ loop, empty: { type: 'ForEach', forEach: [1], steps: {} } });

  it('applies the run rules among the iteration siblings', () => {
    const state = statuses({
      'loop.0.work': 'Succeeded',
      'loop.0.notify': 'Succeeded',
      'loop.0.recover': 'Skipped',
      'loop.1.work': 'Failed',
      'loop.1.recover': 'Succeeded',
      'loop.1.notify': 'Skipped',
      'loop.2.work': 'Failed',
      'loop.2.recover': 'Failed',
      'loop.2.notify': 'Skipped',
    });
    expect(classifyIteration(f, 'loop.0', state)).toBe('Succeeded');
    expect(classifyIteration(f, 'loop.1', state)).toBe('Succeeded');
    expect(classifyIteration(f, 'loop.2', state)).toBe('Failed');
    expect(aggregateLoopStatus(f, 'loop', 2, state)).toBe('Succeeded');
    expect(aggregateLoopStatus(f, 'loop', 3, state)).toBe('Failed');
  });

  it('is Succeeded for zero iterations and for a loop without children', () => {
    expect(aggregateLoopStatus(f, 'loop', 0, new Map())).toBe('Succeeded');
    expect(classifyIteration(f, 'empty.0', new Map())).toBe('Succeeded');
  });

  it('rejects keys that are not iterations', () => {
    expect(() => classifyIteration(f, 'loop', new Map())).toThrow(/not an iteration/);
    expect(() => classifyIteration(f, 'loop.0.work', new Map())).toThrow(/not an iteration/);
  });
});
