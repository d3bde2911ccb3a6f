import { describe, expect, it } from 'vitest';
import {
  describeThrown,
  findJsonProblem,
  MAX_THROWN_JSON_CHARS,
  unstorableOutputReason,
} from '../../src/engine/execution/outcome-json.js';

describe('findJsonProblem', () => {
  it('accepts everything JSON keeps: primitives, nested data, undefined, toJSON, shared references', () => {
    const shared = { x: 1 };
    for (const value of [
      null,
      undefined,
      0,
      'text',
      true,
      [1, undefined, 'a'],
      { a: { b: [{ c: null }] }, skipped: undefined },
      new Date(0),
      { when: new Date(0) },
      { left: shared, right: shared },
    ]) {
      expect(findJsonProblem(value)).toBeNull();
    }
  });

  it('refuses a function, Symbol, BigInt or cycle anywhere, naming where', () => {
    const cycle: Record<string, unknown> = { a: {} };
    (cycle.a as Record<string, unknown>).back = cycle;
    expect(findJsonProblem(() => 1)).toBe('a function at $');
    expect(findJsonProblem({ cb: () => 1 })).toBe('a function at $.cb');
    expect(findJsonProblem(Symbol('s'))).toBe('a Symbol at $');
    expect(findJsonProblem([1, [Symbol('s')]])).toBe('a Symbol at $[1][0]');
    expect(findJsonProblem({ n: 10n })).toBe('a BigInt at $.n');
    expect(findJsonProblem({ 'odd key': 1n })).toBe('a BigInt at $["odd key"]');
    expect(findJsonProblem(cycle)).toBe('a circular reference at $.a.back');
  });

  it('reports a throwing toJSON or getter instead of throwing', () => {
    expect(
      findJsonProblem({
        toJSON() {
          throw new Error('nope');
        },
      }),
    ).toBe('toJSON threw at $ (nope)');
    const getter = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('bad getter');
      },
    });
    expect(findJsonProblem(getter)).toBe('an unreadable property under $ (bad getter)');
  });

  it('builds one reason naming the step and the problem', () => {
    expect(unstorableOutputReason('charge', 'a function at $.cb')).toBe(
      "Step 'charge' returned an output that cannot be stored as JSON: a function at $.cb.",
    );
  });
});

describe('describeThrown', () => {
  it('keeps an Error message and a thrown string as they are', () => {
    expect(describeThrown(new Error('boom'))).toBe('boom');
    expect(describeThrown('plain')).toBe('plain');
    expect(describeThrown(new TypeError(''))).toBe('Step handler threw TypeError.');
  });

  it('shows a thrown object as JSON with name, code and message first', () => {
    expect(describeThrown({ code: 'E1', message: 'boom' })).toBe(
      'Step handler threw a non-Error value: {"code":"E1","message":"boom"}',
    );
    expect(describeThrown({ detail: 1, message: 'm', name: 'N', code: 7 })).toBe(
      'Step handler threw a non-Error value: {"name":"N","code":7,"message":"m","detail":1}',
    );
  });

  it('keeps the identifying fields of an object JSON cannot show whole', () => {
    const cyclic: Record<string, unknown> = { code: 'E2', message: 'loop' };
    cyclic.self = cyclic;
    expect(describeThrown(cyclic)).toBe(
      'Step handler threw a non-Error value: {"code":"E2","message":"loop"}',
    );
    expect(describeThrown({ f: () => 1 })).toBe(
      'Step handler threw a non-Error value: an object that cannot be shown as JSON ([object Object])',
    );
  });

  it('names other thrown values and clips long ones', () => {
    expect(describeThrown(42)).toBe('Step handler threw a non-Error value: 42');
    expect(describeThrown(null)).toBe('Step handler threw a non-Error value: null');
    expect(describeThrown(undefined)).toBe('Step handler threw a non-Error value: undefined');
    expect(describeThrown(5n)).toBe('Step handler threw a non-Error value: 5n');
    expect(describeThrown(Symbol('s'))).toBe('Step handler threw a non-Error value: Symbol(s)');
    const long = describeThrown({ message: 'x'.repeat(5_000) });
    expect(long.length).toBeLessThan(MAX_THROWN_JSON_CHARS + 60);
    expect(long.endsWith('…')).toBe(true);
  });
});
