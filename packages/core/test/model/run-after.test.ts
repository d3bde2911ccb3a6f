import { describe, expect, it } from 'vitest';
import {
  acceptsStatus,
  descendantsOf,
  entryStepKeys,
  isEntryStep,
  runAfterEntries,
} from '../../src/engine/model/index.js';
import { STEP_STATUSES } from '../../src/storage/statuses.js';
import { flow, step } from './fixtures.js';

describe('runAfterEntries', () => {
  it('normalises the array shorthand and the object form in declaration order', () => {
    const s = step({
      b: ['Succeeded', 'Skipped'],
      a: { statuses: ['Failed'], when: '@triggerBody().x == 1' },
      c: { when: '   ' },
      d: {},
    });
    expect(runAfterEntries(s)).toEqual([
      ['b', { statuses: ['Succeeded', 'Skipped'], when: null }],
      ['a', { statuses: ['Failed'], when: '@triggerBody().x == 1' }],
      ['c', { statuses: [], when: null }],
      ['d', { statuses: [], when: null }],
    ]);
  });

  it('is empty without runAfter and drops null conditions', () => {
    expect(runAfterEntries({ type: 'Work' })).toEqual([]);
    const loose = { type: 'Work', runAfter: { a: null } } as unknown as Parameters<typeof runAfterEntries>[0];
    expect(runAfterEntries(loose)).toEqual([]);
  });
});

describe('acceptsStatus', () => {
  it('accepts exactly the listed statuses', () => {
    const condition = { statuses: ['Failed'] as const, when: null };
    expect(STEP_STATUSES.filter((s) => acceptsStatus(condition, s))).toEqual(['Failed']);
  });

  it('accepts only terminal statuses when the list is empty', () => {
    const condition = { statuses: [], when: '@triggerBody().go' };
    expect(STEP_STATUSES.filter((s) => acceptsStatus(condition, s))).toEqual([
      'Succeeded',
      'Failed',
      'Skipped',
    ]);
  });
});

describe('entry steps', () => {
  it('are top-level steps with empty runAfter or only the "" key, in declaration order', () => {
    const f = flow({
      second: step({ first: ['Succeeded'] }),
      first: step(),
      gated: step({ '': { when: '@triggerBody().go == true' } }),
      mixed: step({ '': { when: 'true' }, first: [] }),
      loop: { type: 'ForEach', forEach: [], steps: { child: step() } },
    });
    expect(entryStepKeys(f)).toEqual(['first', 'gated', 'loop']);
    expect(isEntryStep(step({ '': {} }))).toBe(true);
    expect(isEntryStep(step({ a: [] }))).toBe(false);
  });
});

describe('descendantsOf', () => {
  it('returns transitive top-level dependents in BFS order without the key itself', () => {
    const f = flow({
      a: step(),
      b: step({ a: ['Succeeded'] }),
      c: step({ a: ['Failed'] }),
      d: step({ b: [], c: [] }),
      e: step({ d: ['Succeeded'] }),
      other: step(),
    });
    expect(descendantsOf(f, 'a')).toEqual(['b', 'c', 'd', 'e']);
    expect(descendantsOf(f, 'c')).toEqual(['d', 'e']);
    expect(descendantsOf(f, 'e')).toEqual([]);
    expect(descendantsOf(f, 'missing')).toEqual([]);
  });

  it('terminates on cyclic graphs', () => {
    const f = flow({ a: step({ b: [] }), b: step({ a: [] }) });
    expect(descendantsOf(f, 'a')).toEqual(['b']);
  });
});
