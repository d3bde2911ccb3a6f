import { describe, expect, it } from 'vitest';
import { knownStepKeys, planRun } from '../../src/engine/model/index.js';
import type { ForEachStepDefinition } from '../../src/model/types.js';
import { flow, statuses, step } from './fixtures.js';

describe('planRun', () => {
  it('makes every entry step ready at the start, in ordinal order', () => {
    const f = flow({
      b: step(),
      a: step(),
      Z: step(),
      gated: step({ '': { when: 'false' } }),
      c: step({ a: [] }),
    });
    expect(planRun(f, new Map())).toEqual({ ready: ['Z', 'a', 'b', 'gated'], blocked: [], waiting: ['c'] });
  });

  it('fans out: several steps become ready after one predecessor', () => {
    const f = flow({
      a: step(),
      b: step({ a: ['Succeeded'] }),
      c: step({ a: ['Succeeded'] }),
      d: step({ b: [], c: [] }),
    });
    expect(planRun(f, statuses({ a: 'Succeeded' }))).toEqual({
      ready: ['b', 'c'],
      blocked: [],
      waiting: ['d'],
    });
  });

  it('fans in: blocked when a required predecessor failed, even while another still runs', () => {
    const f = flow({ a: step(), b: step(), join: step({ a: ['Succeeded'], b: ['Succeeded'] }) });
    expect(planRun(f, statuses({ a: 'Failed', b: 'Running' }))).toEqual({
      ready: [],
      blocked: ['join'],
      waiting: [],
    });
    expect(planRun(f, statuses({ a: 'Succeeded', b: 'Running' }))).toEqual({
      ready: [],
      blocked: [],
      waiting: ['join'],
    });
    expect(planRun(f, statuses({ a: 'Succeeded', b: 'Succeeded' })).ready).toEqual(['join']);
  });

  it('treats an empty status list as "any terminal status" (Running and Pending wait)', () => {
    const f = flow({ a: step(), b: step({ a: { when: '@triggerBody().x' } }), c: step({ a: [] }) });
    for (const inFlight of ['Running', 'Pending'] as const) {
      expect(planRun(f, statuses({ a: inFlight }))).toEqual({ ready: [], blocked: [], waiting: ['b', 'c'] });
    }
    for (const terminal of ['Succeeded', 'Failed', 'Skipped'] as const) {
      expect(planRun(f, statuses({ a: terminal })).ready).toEqual(['b', 'c']);
    }
  });

  it('does not block on a status its condition lists but which is not final yet', () => {
    const f = flow({ a: step(), b: step({ a: ['Succeeded'] }) });
    expect(planRun(f, statuses({ a: 'Pending' }))).toEqual({ ready: [], blocked: [], waiting: ['b'] });
  });

  it('skips the "" key when gating and plans only unrecorded steps', () => {
    const f = flow({ a: step(), b: step({ '': { when: 'true' }, a: ['Succeeded'] }) });
    expect(planRun(f, statuses({ a: 'Succeeded' }))).toEqual({ ready: ['b'], blocked: [], waiting: [] });
    expect(planRun(f, statuses({ a: 'Succeeded', b: 'Running' }))).toEqual({
      ready: [],
      blocked: [],
      waiting: [],
    });
  });

  it('ignores recorded keys the flow no longer declares', () => {
    const f = flow({ a: step() });
    expect(planRun(f, statuses({ removed: 'Succeeded', 'removed.0.x': 'Failed' }))).toEqual({
      ready: ['a'],
      blocked: [],
      waiting: [],
    });
  });

  describe('ForEach', () => {
    const loop: ForEachStepDefinition = {
      type: 'ForEach',
      runAfter: { start: ['Succeeded'] },
      forEach: [1, 2, 3],
      steps: { a: step(), b: step({ a: ['Succeeded'] }), c: step({ b: [] }) },
    };
    const f = flow({
      start: step(),
      loop,
      after: step({ loop: ['Succeeded'] }),
      onFail: step({ loop: ['Failed'] }),
    });

    it('knows no iteration keys until the engine spawns or records one', () => {
      expect(knownStepKeys(f, statuses({ start: 'Succeeded' }))).toEqual([
        'after',
        'loop',
        'onFail',
        'start',
      ]);
      expect(planRun(f, statuses({ start: 'Succeeded' }))).toEqual({
        ready: ['loop'],
        blocked: [],
        waiting: ['after', 'onFail'],
      });
    });

    it('plans spawned iteration entries as ready and their siblings as waiting', () => {
      const state = statuses({ start: 'Succeeded', loop: 'Running' });
      expect(planRun(f, state, ['loop.0.a', 'loop.1.a'])).toEqual({
        ready: ['loop.0.a', 'loop.1.a'],
        blocked: [],
        waiting: ['after', 'loop.0.b', 'loop.0.c', 'loop.1.b', 'loop.1.c', 'onFail'],
      });
    });

    it('resolves sibling dependencies relative to the iteration', () => {
      const state = statuses({
        start: 'Succeeded',
        loop: 'Running',
        'loop.0.a': 'Succeeded',
        'loop.1.a': 'Failed',
        'loop.2.a': 'Running',
      });
      expect(planRun(f, state)).toEqual({
        ready: ['loop.0.b'],
        blocked: ['loop.1.b'],
        waiting: ['after', 'loop.0.c', 'loop.1.c', 'loop.2.b', 'loop.2.c', 'onFail'],
      });
    });

    it('uses ordinal order for iteration indexes', () => {
      const state = statuses({ start: 'Succeeded', loop: 'Running' });
      expect(planRun(f, state, ['loop.10.a', 'loop.2.a', 'loop.1']).ready).toEqual([
        'loop.1.a',
        'loop.10.a',
        'loop.2.a',
      ]);
    });

    it('keeps steps after the loop waiting until the loop records its aggregated status', () => {
      const allDone = {
        start: 'Succeeded',
        'loop.0.a': 'Succeeded',
        'loop.0.b': 'Succeeded',
        'loop.0.c': 'Succeeded',
      } as const;
      expect(planRun(f, statuses({ ...allDone, loop: 'Running' })).waiting).toEqual(['after', 'onFail']);
      expect(planRun(f, statuses({ ...allDone, loop: 'Succeeded' }))).toEqual({
        ready: ['after'],
        blocked: ['onFail'],
        waiting: [],
      });
    });

    it('expands nested iteration scopes', () => {
      // ForEach children are typed StepDefinition, so a nested loop is declared on its own.
      const inner: ForEachStepDefinition = {
        type: 'ForEach',
        forEach: [1],
        runAfter: { prep: [] },
        steps: { x: step(), y: step({ x: [] }) },
      };
      const nested = flow({ outer: { type: 'ForEach', forEach: [1], steps: { prep: step(), inner } } });
      const state = statuses({ outer: 'Running', 'outer.0.prep': 'Succeeded', 'outer.0.inner': 'Running' });
      expect(planRun(nested, state, ['outer.0.inner.0.x'])).toEqual({
        ready: ['outer.0.inner.0.x'],
        blocked: [],
        waiting: ['outer.0.inner.0.y'],
      });
      expect(planRun(nested, statuses({ outer: 'Running' }), ['outer.0.prep']).ready).toEqual([
        'outer.0.prep',
      ]);
    });
  });
});
