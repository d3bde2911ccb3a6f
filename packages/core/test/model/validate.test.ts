import { describe, expect, it } from 'vitest';
import { validateFlow } from '../../src/engine/model/index.js';
import type { FlowDefinition } from '../../src/model/types.js';
import type { StepStatus } from '../../src/storage/statuses.js';
import { flow, step } from './fixtures.js';

const CYCLE = 'Flow has a dependency cycle';
const cycle = (path: string) => `${CYCLE}: ${path} (each step waits for the next).`;

function cycles(steps: FlowDefinition['steps']): boolean {
  return validateFlow(flow(steps)).some((error) => error.includes('cycle'));
}

describe('validateFlow', () => {
  it('accepts a valid diamond', () => {
    const f = flow({
      a: step(),
      b: step({ a: ['Succeeded'] }),
      c: step({ a: ['Succeeded'] }),
      d: step({ b: ['Succeeded'], c: { statuses: ['Succeeded', 'Failed'], when: 'true' } }),
    });
    expect(validateFlow(f)).toEqual([]);
  });

  it('reports only "no steps" for an empty flow', () => {
    expect(validateFlow(flow({}))).toEqual(['Flow has no steps.']);
  });

  it('detects self loops, 2- and 3-node cycles and a diamond with a back edge', () => {
    expect(cycles({ entry: step(), a: step({ a: ['Succeeded'] }) })).toBe(true);
    expect(cycles({ entry: step(), a: step({ b: [] }), b: step({ a: [] }) })).toBe(true);
    expect(
      cycles({ entry: step(), a: step({ entry: [], c: [] }), b: step({ a: [] }), c: step({ b: [] }) }),
    ).toBe(true);
    expect(
      cycles({
        a: step({ d: ['Failed'] }),
        b: step({ a: [] }),
        c: step({ a: [] }),
        d: step({ b: [], c: [] }),
        start: step(),
      }),
    ).toBe(true);
  });

  it('reports the cycle message once', () => {
    const errors = validateFlow(
      flow({ s: step(), a: step({ a: [] }), b: step({ c: [] }), c: step({ b: [] }) }),
    );
    expect(errors).toEqual([cycle('a → a')]);
  });

  it('detects a cycle inside a ForEach and one through a loop and its own child', () => {
    expect(
      cycles({
        loop: { type: 'ForEach', forEach: [], steps: { x: step({ y: [] }), y: step({ x: [] }), z: step() } },
      }),
    ).toBe(true);
    expect(
      cycles({
        start: step(),
        loop: { type: 'ForEach', forEach: [], runAfter: { 'loop.0.c': [] }, steps: { c: step() } },
      }),
    ).toBe(true);
  });

  it('reports a missing dependency', () => {
    expect(validateFlow(flow({ a: step(), b: step({ ghost: ['Succeeded'] }) }))).toEqual([
      "Step 'b' depends on missing step 'ghost'.",
    ]);
  });

  it('names the cycle first, with its path, when a cycle leaves the flow without an entry step', () => {
    const errors = validateFlow(flow({ a: step({ b: [] }), b: step({ a: [] }) }));
    expect(errors).toEqual([cycle('a → b → a'), 'Flow has no entry step (step with empty runAfter).']);
  });

  it('requires the entry step at the top level: a ForEach child entry cannot start a run', () => {
    const f = flow({
      a: step({ 'loop.0.c': ['Succeeded'] }),
      loop: { type: 'ForEach', forEach: [], runAfter: { a: [] }, steps: { c: step() } },
    });
    expect(validateFlow(f)).toContain('Flow has no entry step (step with empty runAfter).');
  });

  it('reports empty and whitespace types, including ForEach children', () => {
    const f = flow({
      a: step({}, ''),
      b: step({ a: [] }, '   '),
      loop: { type: 'ForEach', forEach: [], steps: { c: step({}, '') } },
    });
    expect(validateFlow(f)).toEqual([
      "Step 'a' has empty type.",
      "Step 'b' has empty type.",
      "Step 'loop.c' has empty type.",
    ]);
  });

  it('accepts the "" entry-with-When key, alone or next to real dependencies', () => {
    const f = flow({
      gated: step({ '': { when: '@triggerBody().go == true' } }),
      next: step({ '': { when: 'true' }, gated: ['Succeeded'] }),
    });
    expect(validateFlow(f)).toEqual([]);
  });

  it('resolves ForEach sibling dependencies relative to the loop', () => {
    const f = flow({
      loop: {
        type: 'ForEach',
        forEach: [1],
        steps: { a: step(), b: step({ a: ['Succeeded'] }), c: step({ '': { when: 'true' } }) },
      },
      after: step({ loop: ['Succeeded'] }),
    });
    expect(validateFlow(f)).toEqual([]);
  });

  it('rejects a child depending on a top-level step (it resolves inside the loop)', () => {
    const f = flow({
      a: step(),
      loop: { type: 'ForEach', forEach: [], steps: { b: step({ a: [] }) } },
    });
    expect(validateFlow(f)).toEqual(["Step 'loop.b' depends on missing step 'a'."]);
  });

  it('rejects dependencies on a ForEach child by template path (never recorded at run time)', () => {
    const f = flow({
      loop: { type: 'ForEach', forEach: [], steps: { a: step(), b: step({ 'loop.a': [] }) } },
      after: step({ 'loop.a': ['Succeeded'] }),
      pinned: step({ 'loop.0.a': ['Succeeded'] }),
    });
    const errors = validateFlow(f);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^Step 'loop\.b' depends on 'loop\.a', which is never recorded/);
    expect(errors[1]).toMatch(/^Step 'after' depends on 'loop\.a', which is never recorded/);
  });

  it('rejects reserved and malformed step keys at every level', () => {
    const long = 'k'.repeat(257);
    const f = flow({
      start: step(),
      'a:b': step(),
      __run: step(),
      'a.b': step(),
      [long]: step(),
      [`${'k'.repeat(256)}`]: step(),
      loop: { type: 'ForEach', forEach: [], steps: { 'x:y': step(), __hidden: step(), ' ': step() } },
    });
    expect(validateFlow(f)).toEqual([
      "Step key 'a:b' contains ':', which is reserved.",
      "Step key '__run' starts with '__', which is reserved.",
      "Step key 'a.b' contains '.', which separates scope paths.",
      `Step key '${'k'.repeat(32)}…' is 257 characters long; the limit is 256.`,
      "Step key 'x:y' in ForEach 'loop' contains ':', which is reserved.",
      "Step key '__hidden' in ForEach 'loop' starts with '__', which is reserved.",
      "Flow has a step with an empty key in ForEach 'loop'.",
    ]);
  });

  it('measures the key length on the full template path of a child', () => {
    const f = flow({ loop: { type: 'ForEach', forEach: [], steps: { ['c'.repeat(252)]: step() } } });
    expect(validateFlow(f)).toEqual([
      `Step key '${'loop.'}${'c'.repeat(27)}…' is 257 characters long; the limit is 256.`,
    ]);
  });

  it('rejects unknown runAfter statuses', () => {
    const f = flow({ a: step(), b: step({ a: ['succeeded' as StepStatus] }) });
    expect(validateFlow(f)).toEqual(["Step 'b' accepts unknown status 'succeeded' from 'a'."]);
  });

  it('accumulates every error', () => {
    const f = flow({ a: step({ ghost: [] }, ''), b: step({ b: [] }) });
    expect(validateFlow(f)).toEqual([
      cycle('b → b'),
      'Flow has no entry step (step with empty runAfter).',
      "Step 'a' has empty type.",
      "Step 'a' depends on missing step 'ghost'.",
    ]);
  });
});
