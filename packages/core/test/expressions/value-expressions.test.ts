import { describe, expect, it } from 'vitest';
import {
  FlowExpressionError,
  isExpressionCandidate,
  isStepExpressionCandidate,
  parseValueExpression,
  resolveInputs,
  resolvePath,
  splitPath,
} from '../../src/engine/expressions/index.js';
import { type FakeScope, fakeScope } from './fake-scope.js';

/** Resolves one string the way a step input is resolved. */
async function resolveOne(value: unknown, scope: FakeScope): Promise<unknown> {
  const result = await resolveInputs({ value }, scope);
  return result.value;
}

const order = {
  id: 'o-1',
  amount: 500,
  customer: { name: 'Ada', address: { city: 'London' } },
  items: [
    { sku: 'A', qty: 1 },
    { sku: 'B', qty: 2 },
  ],
  tags: ['x', 'y'],
  flag: false,
  nothing: null,
};

describe('path syntax', () => {
  it('turns brackets into separators, trims and drops empty segments', () => {
    expect(splitPath('items[0].sku')).toEqual(['items', '0', 'sku']);
    expect(splitPath(' a . b ')).toEqual(['a', 'b']);
    expect(splitPath('a..b[]')).toEqual(['a', 'b']);
    expect(splitPath('')).toEqual([]);
  });

  it('keeps an inner ?. as part of the segment (reference quirk)', () => {
    expect(splitPath('a?.b')).toEqual(['a?', 'b']);
    expect(resolvePath({ a: { b: 1 } }, splitPath('a?.b'))).toBeNull();
  });

  it('resolves properties case-sensitively and arrays within bounds', () => {
    expect(resolvePath(order, ['customer', 'name'])).toBe('Ada');
    expect(resolvePath(order, ['Customer', 'name'])).toBeNull();
    expect(resolvePath(order, ['items', '1', 'qty'])).toBe(2);
    expect(resolvePath(order, ['items', '2'])).toBeNull();
    expect(resolvePath(order, ['items', '-1'])).toBeNull();
    expect(resolvePath(order, ['items', 'sku'])).toBeNull();
    expect(resolvePath(order, ['amount', 'x'])).toBeNull();
    expect(resolvePath(order, ['constructor'])).toBeNull();
    expect(resolvePath(order, [])).toBe(order);
  });
});

describe('@triggerBody()', () => {
  const scope = () => fakeScope({ body: order });

  it('bare form yields a copy of the whole trigger data', async () => {
    const value = await resolveOne('@triggerBody()', scope());
    expect(value).toEqual(order);
    expect(value).not.toBe(order);
  });

  it('accepts `.` and `?.` and any prefix casing', async () => {
    const s = scope();
    expect(await resolveOne('@triggerBody().id', s)).toBe('o-1');
    expect(await resolveOne('@triggerBody()?.id', s)).toBe('o-1');
    expect(await resolveOne('@TRIGGERBODY().customer.address.city', s)).toBe('London');
    expect(await resolveOne('@TriggerBody()?.items[1].sku', s)).toBe('B');
    expect(await resolveOne('@triggerbody().tags[0]', s)).toBe('x');
    expect(await resolveOne('@triggerBody().flag', s)).toBe(false);
  });

  it('resolves after leading (and trailing) whitespace', async () => {
    expect(await resolveOne('   @triggerBody().id', scope())).toBe('o-1');
    expect(await resolveOne('\t@triggerBody().id  ', scope())).toBe('o-1');
  });

  it('yields null for missing paths, bad indexes, blank paths and wrong casing', async () => {
    const s = scope();
    expect(await resolveOne('@triggerBody().missing', s)).toBeNull();
    expect(await resolveOne('@triggerBody().items[5].sku', s)).toBeNull();
    expect(await resolveOne('@triggerBody().Id', s)).toBeNull();
    expect(await resolveOne('@triggerBody().', s)).toBeNull();
    expect(await resolveOne('@triggerBody()?.', s)).toBeNull();
    expect(await resolveOne('@triggerBody().nothing', s)).toBeNull();
  });

  it('yields null (never throws) when the trigger data is null', async () => {
    const s = fakeScope({ body: null });
    expect(await resolveOne('@triggerBody()', s)).toBeNull();
    expect(await resolveOne('@triggerBody().id', s)).toBeNull();
    expect(await resolveOne('@triggerBody()?.a.b', s)).toBeNull();
  });

  it('keeps non-matching forms as literal strings (whole-value only)', async () => {
    const s = scope();
    for (const literal of [
      '@triggerBody()[0]',
      '@triggerBody()id',
      '@triggerBody',
      '@triggerBody(',
      'Order @triggerBody().id',
      '@triggerBody ().id',
    ]) {
      expect(await resolveOne(literal, s)).toBe(literal);
    }
  });
});

describe('@triggerHeaders()', () => {
  const headers = { 'x-api-key': 'secret', 'content-type': 'application/json' };

  it('bare form yields a copy of all headers', async () => {
    const s = fakeScope({ headers });
    const value = await resolveOne('@triggerHeaders()', s);
    expect(value).toEqual(headers);
    expect(value).not.toBe(headers);
  });

  it('looks names up with both quote styles, case-insensitively', async () => {
    const s = fakeScope({ headers });
    expect(await resolveOne("@triggerHeaders()['x-api-key']", s)).toBe('secret');
    expect(await resolveOne('@triggerHeaders()["X-Api-Key"]', s)).toBe('secret');
    expect(await resolveOne("@TRIGGERHEADERS()['Content-Type']", s)).toBe('application/json');
  });

  it('is case-insensitive even for maps that were not lower-cased', async () => {
    const s = fakeScope({ headers: { 'X-Request-Id': 'r1' } });
    expect(await resolveOne("@triggerHeaders()['X-Request-Id']", s)).toBe('r1');
    expect(await resolveOne("@triggerHeaders()['x-request-id']", s)).toBe('r1');
  });

  it('yields null for a missing header or a null header map', async () => {
    expect(await resolveOne("@triggerHeaders()['missing']", fakeScope({ headers }))).toBeNull();
    expect(await resolveOne("@triggerHeaders()['x']", fakeScope({ headers: null }))).toBeNull();
    expect(await resolveOne('@triggerHeaders()', fakeScope({ headers: null }))).toBeNull();
    expect(await resolveOne("@triggerHeaders()['constructor']", fakeScope({ headers }))).toBeNull();
  });

  it('keeps any other remainder literal', async () => {
    const s = fakeScope({ headers });
    for (const literal of [
      "@triggerHeaders()[']",
      '@triggerHeaders().x-api-key',
      "@triggerHeaders()['x-api-key'].length",
      '@triggerHeaders()[x-api-key]',
      `@triggerHeaders()['x-api-key"]`,
    ]) {
      expect(await resolveOne(literal, s)).toBe(literal);
    }
  });
});

describe('@steps()', () => {
  const steps = {
    fetch: {
      output: { orderId: 7, total: 12.5, lines: [{ sku: 'A', price: { net: 10 } }] },
      status: 'Succeeded',
    },
    charge: { status: 'Failed', errorMessage: 'card declined' },
    'loop.0.child': { output: 'child-0', status: 'Succeeded' },
    list: { output: [1, 2, 3], status: 'Succeeded' },
  };
  const scope = () => fakeScope({ steps, declared: ['later', 'loop.child'] });

  it('reads whole outputs, nested fields, array indexes and runtime keys', async () => {
    const s = scope();
    expect(await resolveOne("@steps('fetch').output", s)).toEqual(steps.fetch.output);
    expect(await resolveOne("@steps('fetch').output.orderId", s)).toBe(7);
    expect(await resolveOne("@steps('fetch').output?.total", s)).toBe(12.5);
    expect(await resolveOne("@steps('fetch').output.lines[0].sku", s)).toBe('A');
    expect(await resolveOne("@steps('fetch').output.lines[0].price.net", s)).toBe(10);
    expect(await resolveOne("@steps('list').output[2]", s)).toBe(3);
    expect(await resolveOne("@steps('loop.0.child').output", s)).toBe('child-0');
  });

  it('accepts double quotes and any casing of the prefix and field', async () => {
    const s = scope();
    expect(await resolveOne('@steps("fetch").output.orderId', s)).toBe(7);
    expect(await resolveOne("@STEPS('fetch').OUTPUT.orderId", s)).toBe(7);
    expect(await resolveOne("@Steps('fetch').Status", s)).toBe('Succeeded');
  });

  it('keeps output keys as written (case-sensitive paths)', async () => {
    expect(await resolveOne("@steps('fetch').output.OrderId", scope())).toBeNull();
  });

  it('yields null for missing fields and for steps that have not run', async () => {
    const s = scope();
    expect(await resolveOne("@steps('fetch').output.nope", s)).toBeNull();
    expect(await resolveOne("@steps('fetch').output.lines[3]", s)).toBeNull();
    expect(await resolveOne("@steps('later').output", s)).toBeNull();
    expect(await resolveOne("@steps('later').output.x", s)).toBeNull();
    expect(await resolveOne("@steps('later').status", s)).toBeNull();
    expect(await resolveOne("@steps('later').error", s)).toBeNull();
    expect(await resolveOne("@steps('loop.child').output", s)).toBeNull();
  });

  it('reads the status and the error message', async () => {
    const s = scope();
    expect(await resolveOne("@steps('fetch').status", s)).toBe('Succeeded');
    expect(await resolveOne("@steps('fetch').error", s)).toBeNull();
    expect(await resolveOne("@steps('charge').status", s)).toBe('Failed');
    expect(await resolveOne("@steps('charge').error", s)).toBe('card declined');
  });

  it('throws FlowExpressionError naming the key and expression for an undeclared step', async () => {
    const error = await resolveOne("@steps('ghost').output.x", scope()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowExpressionError);
    const e = error as FlowExpressionError;
    expect(e.message).toBe(
      "Step 'ghost' is not defined in the flow manifest. Expression: '@steps('ghost').output.x'",
    );
    expect(e.stepKey).toBe('ghost');
    expect(e.expression).toBe("@steps('ghost').output.x");
    expect(e.code).toBe('FLOW_EXPRESSION');
  });

  it('keeps strings that do not match the grammar literal', async () => {
    const s = scope();
    for (const literal of [
      '@steps(fetch).output',
      "@steps('fetch').result",
      "@steps('fetch')",
      '@steps(\'fetch").output',
      "@steps('').output",
      "Total: @steps('fetch').output.total",
      '@step',
    ]) {
      expect(await resolveOne(literal, s)).toBe(literal);
    }
    expect(s.calls.output).toEqual([]);
  });

  it('fetches an output once for several expressions on the same step', async () => {
    const s = scope();
    const result = await resolveInputs(
      {
        id: "@steps('fetch').output.orderId",
        total: "@steps('fetch').output.total",
        nested: { whole: '@steps("fetch").output', status: "@steps('fetch').status" },
      },
      s,
    );
    expect(result).toEqual({
      id: 7,
      total: 12.5,
      nested: { whole: steps.fetch.output, status: 'Succeeded' },
    });
    expect(s.calls.output).toEqual(['fetch']);
    expect(s.calls.record).toEqual(['fetch']);
  });

  it('does not alias one cached output between two inputs', async () => {
    const result = await resolveInputs({ a: "@steps('fetch').output", b: "@steps('fetch').output" }, scope());
    expect(result.a).toEqual(result.b);
    expect(result.a).not.toBe(result.b);
  });
});

describe('prefix checks and parse cache', () => {
  it('recognises candidates only by their exact prefixes', () => {
    for (const no of [
      '',
      '   ',
      '@',
      '@steps',
      '@stepsx',
      'steps(',
      'x @steps(',
      '@triggerBody',
      '@triggerHeaders(',
    ]) {
      expect(isExpressionCandidate(no)).toBe(false);
    }
    expect(isStepExpressionCandidate('@steps')).toBe(false);
    expect(isStepExpressionCandidate('@steps(')).toBe(true);
    expect(isStepExpressionCandidate('  @STEPS(')).toBe(true);
    expect(isExpressionCandidate('@steps(')).toBe(true);
    expect(isExpressionCandidate(' @TriggerBody()')).toBe(true);
    expect(isExpressionCandidate('\n@triggerheaders()')).toBe(true);
  });

  it('normalises whitespace: padded and unpadded text share one parse', () => {
    const a = parseValueExpression("@steps('a').output.x");
    const b = parseValueExpression("   @steps('a').output.x  ");
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect(a).toMatchObject({ kind: 'step', key: 'a', field: 'output', path: ['x'] });
  });

  it('agrees under concurrent use', async () => {
    const s = fakeScope({ steps: { a: { output: { x: 1 } } } });
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        resolveInputs({ v: `${' '.repeat(i % 4)}@steps('a').output.x` }, s),
      ),
    );
    expect(results.every((r) => r.v === 1)).toBe(true);
  });
});
