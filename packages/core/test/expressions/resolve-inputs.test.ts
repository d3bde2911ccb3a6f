import { describe, expect, it } from 'vitest';
import {
  containsExpressions,
  FlowExpressionError,
  resolveInputs,
  resolveTriggerExpression,
} from '../../src/engine/expressions/index.js';
import { fakeScope } from './fake-scope.js';

describe('resolveInputs', () => {
  const scope = () =>
    fakeScope({
      body: { id: 42, customer: { email: 'a@b.c' }, items: ['p', 'q'] },
      headers: { 'x-tenant': 'acme' },
      steps: { prev: { output: { n: 3 }, status: 'Succeeded' } },
    });

  it('returns the same instance for primitive-only maps with no expressions', async () => {
    const inputs = { a: 1, b: 'plain', c: true, d: null, e: 'user@example.com', f: '@mention' };
    expect(await resolveInputs(inputs, scope())).toBe(inputs);
  });

  it('allocates a new map when a value is an expression or a nested collection', async () => {
    const withExpression = { a: 1, id: '@triggerBody().id' };
    const resolved = await resolveInputs(withExpression, scope());
    expect(resolved).not.toBe(withExpression);
    expect(resolved).toEqual({ a: 1, id: 42 });
    expect(withExpression.id).toBe('@triggerBody().id');

    const nested = { list: [1, 2], obj: { k: 'v' } };
    const copy = await resolveInputs(nested, scope());
    expect(copy).toEqual(nested);
    expect(copy).not.toBe(nested);
    expect(copy.list).not.toBe(nested.list);
  });

  it('resolves every form anywhere in nested objects and arrays', async () => {
    const s = scope();
    const resolved = await resolveInputs(
      {
        tenant: "@triggerHeaders()['X-Tenant']",
        padded: '  @triggerBody().customer.email',
        deep: { list: ['@triggerBody().items[1]', "@steps('prev').output.n", 'literal', 5] },
        status: "@steps('prev').status",
        headers: '@triggerHeaders()',
        interpolated: 'Order @triggerBody().id',
      },
      s,
    );
    expect(resolved).toEqual({
      tenant: 'acme',
      padded: 'a@b.c',
      deep: { list: ['q', 3, 'literal', 5] },
      status: 'Succeeded',
      headers: { 'x-tenant': 'acme' },
      interpolated: 'Order @triggerBody().id',
    });
  });

  it('turns undefined into null and keeps non-plain objects as they are', async () => {
    const when = new Date(0);
    const resolved = await resolveInputs({ u: undefined, d: when, nested: { u: undefined } }, scope());
    expect(resolved).toEqual({ u: null, d: when, nested: { u: null } });
    expect(resolved.d).toBe(when);
  });

  it('does not re-resolve values produced by an expression', async () => {
    const s = fakeScope({ body: { sneaky: "@steps('prev').output" }, steps: { prev: { output: 1 } } });
    const resolved = await resolveInputs({ v: '@triggerBody().sneaky' }, s);
    expect(resolved.v).toBe("@steps('prev').output");
    expect(s.calls.output).toEqual([]);
  });

  it('does not let a resolved body alias the trigger data', async () => {
    const body = { list: [{ a: 1 }] };
    const resolved = await resolveInputs({ v: '@triggerBody().list' }, fakeScope({ body }));
    (resolved.v as { a: number }[])[0]!.a = 99;
    expect(body.list[0]!.a).toBe(1);
  });

  it('keeps a `__proto__` key as an own property', async () => {
    const inputs = JSON.parse('{"__proto__": {"x": "@triggerBody().id"}}') as Record<string, unknown>;
    const resolved = await resolveInputs(inputs, scope());
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(Object.hasOwn(resolved, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(resolved, '__proto__')?.value).toEqual({ x: 42 });
  });

  it('fails with FlowExpressionError on an unknown step, wherever it is nested', async () => {
    await expect(resolveInputs({ a: { b: ["@steps('nope').output"] } }, scope())).rejects.toBeInstanceOf(
      FlowExpressionError,
    );
  });

  it('rejects circular inputs instead of looping', async () => {
    const cyclic: Record<string, unknown> = { v: '@triggerBody()' };
    cyclic.self = cyclic;
    await expect(resolveInputs(cyclic, scope())).rejects.toThrow(/circular/);
    expect(containsExpressions(cyclic)).toBe(true);
  });
});

describe('containsExpressions', () => {
  it('finds candidates recursively and ignores everything else', () => {
    expect(containsExpressions('@triggerBody()')).toBe(true);
    expect(containsExpressions({ a: [{ b: "  @STEPS('x').output" }] })).toBe(true);
    expect(containsExpressions({ a: "@triggerHeaders()['x']" })).toBe(true);
    expect(containsExpressions({ a: ['@x', 'hello @triggerBody()', 1, null] })).toBe(false);
    expect(containsExpressions(null)).toBe(false);
    expect(containsExpressions(5)).toBe(false);
    expect(containsExpressions('@steps')).toBe(false);
  });
});

describe('resolveTriggerExpression (ForEach collections)', () => {
  const scope = { triggerData: { items: [1, 2, 3], n: 1 }, triggerHeaders: { 'x-list': 'a,b' } };

  it('resolves body and header expressions', () => {
    expect(resolveTriggerExpression('@triggerBody().items', scope)).toEqual([1, 2, 3]);
    expect(resolveTriggerExpression('@triggerBody()', scope)).toEqual(scope.triggerData);
    expect(resolveTriggerExpression("@triggerHeaders()['X-List']", scope)).toBe('a,b');
    expect(resolveTriggerExpression('@triggerHeaders()["x-list"]', scope)).toBe('a,b');
  });

  it('passes literals, @steps() and malformed forms through without throwing', () => {
    const list = [1, 2];
    expect(resolveTriggerExpression(list, scope)).toBe(list);
    expect(resolveTriggerExpression(null, scope)).toBeNull();
    expect(resolveTriggerExpression('plain', scope)).toBe('plain');
    expect(resolveTriggerExpression("@steps('a').output", scope)).toBe("@steps('a').output");
    expect(resolveTriggerExpression("@triggerHeaders()[']", scope)).toBe("@triggerHeaders()[']");
    expect(resolveTriggerExpression('@triggerBody()[0]', scope)).toBe('@triggerBody()[0]');
  });

  it('yields null for missing data', () => {
    const empty = { triggerData: null, triggerHeaders: null };
    expect(resolveTriggerExpression('@triggerBody().items', empty)).toBeNull();
    expect(resolveTriggerExpression("@triggerHeaders()['x']", empty)).toBeNull();
  });
});
