import { describe, expect, it } from 'vitest';
import {
  findParentStep,
  findStep,
  isForEachStep,
  removeNumericSegments,
  runtimeDependencyKey,
  runtimeScopes,
  splitKey,
} from '../../src/engine/model/index.js';
import type { ForEachStepDefinition } from '../../src/model/types.js';
import { flow, step } from './fixtures.js';

const inner: ForEachStepDefinition = {
  type: 'ForEach',
  forEach: [1, 2],
  steps: { leaf: step(), after: step({ leaf: ['Succeeded'] }) },
};
const outer: ForEachStepDefinition = {
  type: 'ForEach',
  forEach: '@triggerBody().items',
  steps: { first: step(), inner: { ...inner, runAfter: { first: ['Succeeded'] } } },
};
const f = flow({ a: step(), plain: step({ a: [] }), outer });

describe('findStep', () => {
  it('resolves a top-level key directly', () => {
    expect(findStep(f, 'a')).toBe(f.steps.a);
  });

  it('resolves a child by its template path and by deep nesting', () => {
    expect(findStep(f, 'outer.first')).toBe(outer.steps.first);
    expect(findStep(f, 'outer.inner.leaf')).toBe(inner.steps.leaf);
  });

  it('resolves runtime keys by skipping iteration indexes', () => {
    expect(findStep(f, 'outer.0.first')).toBe(outer.steps.first);
    expect(findStep(f, 'outer.12.inner.3.after')).toBe(inner.steps.after);
    expect(findStep(f, 'outer.1.inner')).toBe(outer.steps.inner);
  });

  it('resolves an iteration key to the loop itself', () => {
    expect(findStep(f, 'outer.3')).toBe(outer);
    expect(findStep(f, 'outer.0.inner.2')).toBe(outer.steps.inner);
  });

  it('returns undefined for missing keys and for keys under a non-ForEach parent', () => {
    expect(findStep(f, 'missing')).toBeUndefined();
    expect(findStep(f, 'outer.missing')).toBeUndefined();
    expect(findStep(f, 'plain.child')).toBeUndefined();
    expect(findStep(f, 'a.0')).toBeUndefined();
    expect(findStep(f, '')).toBeUndefined();
  });

  it('does not resolve prototype members', () => {
    expect(findStep(f, 'constructor')).toBeUndefined();
    expect(findStep(f, 'outer.0.toString')).toBeUndefined();
  });

  it('trims segments and ignores empty ones', () => {
    expect(splitKey(' outer . 0 .. first ')).toEqual(['outer', '0', 'first']);
    expect(findStep(f, 'outer. 0 .first')).toBe(outer.steps.first);
  });
});

describe('findParentStep', () => {
  it('is undefined for a top-level key', () => {
    expect(findParentStep(f, 'a')).toBeUndefined();
  });

  it('returns the enclosing loop of a child or runtime key', () => {
    expect(findParentStep(f, 'outer.first')).toBe(outer);
    expect(findParentStep(f, 'outer.0.first')).toBe(outer);
    expect(findParentStep(f, 'outer.0.inner.1.leaf')).toBe(outer.steps.inner);
  });
});

describe('isForEachStep', () => {
  it('compares the type case-insensitively', () => {
    expect(isForEachStep({ type: 'foreach' })).toBe(true);
    expect(isForEachStep({ type: 'FOREACH' })).toBe(true);
    expect(isForEachStep(outer)).toBe(true);
    expect(isForEachStep(step())).toBe(false);
  });
});

describe('runtime keys', () => {
  it('removes numeric segments', () => {
    expect(removeNumericSegments('outer.0.inner.12.leaf')).toBe('outer.inner.leaf');
    expect(removeNumericSegments('a')).toBe('a');
  });

  it('prefixes undotted dependencies of scoped keys with the runtime parent path', () => {
    expect(runtimeDependencyKey('loop.0.b', 'a')).toBe('loop.0.a');
    expect(runtimeDependencyKey('outer.1.inner.2.after', 'leaf')).toBe('outer.1.inner.2.leaf');
    expect(runtimeDependencyKey('b', 'a')).toBe('a');
    expect(runtimeDependencyKey('loop.0.b', 'other.3.x')).toBe('other.3.x');
  });

  it('lists every iteration scope a key passes through', () => {
    expect(runtimeScopes(f, 'outer.0.inner.2.leaf')).toEqual([
      { prefix: 'outer.0', loop: outer },
      { prefix: 'outer.0.inner.2', loop: outer.steps.inner },
    ]);
    expect(runtimeScopes(f, 'outer.4')).toEqual([{ prefix: 'outer.4', loop: outer }]);
    expect(runtimeScopes(f, 'outer.first')).toEqual([]);
    expect(runtimeScopes(f, 'a')).toEqual([]);
  });
});
