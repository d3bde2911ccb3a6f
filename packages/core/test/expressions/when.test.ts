import { describe, expect, it } from 'vitest';
import { evaluateWhen, FlowExpressionError, parseWhen } from '../../src/engine/expressions/index.js';
import { tokenize } from '../../src/engine/expressions/when/lexer.js';
import { type FakeScope, fakeScope } from './fake-scope.js';

const scope = (): FakeScope =>
  fakeScope({
    body: { amount: 500, decision: 'approved', ok: true, customer: { name: 'Ada' }, tags: ['a'], none: null },
    headers: { 'x-tenant': 'acme' },
    steps: {
      fetch: { output: { amount: 500, status: 'approved', items: [{ price: 1000 }] }, status: 'Succeeded' },
      charge: { status: 'Failed', errorMessage: 'card declined' },
    },
    declared: ['later'],
  });

async function result(expression: string, s: FakeScope = scope()): Promise<boolean> {
  return (await evaluateWhen(expression, s)).result;
}

/** The FlowExpressionError message an evaluation (or parse) fails with. */
async function failure(expression: string, s: FakeScope = scope()): Promise<string> {
  const error = await evaluateWhen(expression, s).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FlowExpressionError);
  return (error as FlowExpressionError).message;
}

describe('When lexer', () => {
  it('tokenises operators, literals and left-hand sides', () => {
    const kinds = tokenize("(@steps('a').output.x >= -1.5) && !TRUE || 'x' != null").map((t) => [
      t.kind,
      t.text,
    ]);
    expect(kinds).toEqual([
      ['lparen', '('],
      ['lhs', "@steps('a').output.x"],
      ['compare', '>='],
      ['number', '-1.5'],
      ['rparen', ')'],
      ['and', '&&'],
      ['not', '!'],
      ['literal', 'TRUE'],
      ['or', '||'],
      ['string', "'x'"],
      ['compare', '!='],
      ['literal', 'null'],
      ['end', ''],
    ]);
  });

  it('consumes everything inside brackets of a left-hand side', () => {
    const [lhs, op] = tokenize("@triggerHeaders()['a b==c)'] == 'x'");
    expect(lhs).toMatchObject({ kind: 'lhs', text: "@triggerHeaders()['a b==c)']" });
    expect(op).toMatchObject({ kind: 'compare', text: '==', pos: 29 });
    expect(tokenize('@triggerBody().a<1')[0]!.text).toBe('@triggerBody().a');
    expect(tokenize('(@triggerBody().ok)')[1]!.text).toBe('@triggerBody().ok');
  });

  it('makes the character after a backslash literal', () => {
    expect(tokenize(String.raw`'it\'s' "a\"b" 'c\\d'`).slice(0, 3)).toMatchObject([
      { kind: 'string', value: "it's" },
      { kind: 'string', value: 'a"b' },
      { kind: 'string', value: 'c\\d' },
    ]);
  });

  it('lexes a minus as part of a number only when a digit follows', () => {
    expect(tokenize('5 -3').map((t) => t.text)).toEqual(['5', '-3', '']);
    expect(() => tokenize('5 - 3')).toThrow("Unexpected character '-' at position 2 in expression '5 - 3'.");
  });

  it('reports lexical errors with positions', () => {
    expect(() => parseWhen("'abc == 1")).toThrow(
      "Unterminated string literal at position 0 in expression ''abc == 1'.",
    );
    expect(() => parseWhen("1 == 'x\\")).toThrow(
      "Unterminated string literal at position 5 in expression '1 == 'x\\'.",
    );
    expect(() => parseWhen('amount > 5')).toThrow(
      "Unexpected identifier 'amount' at position 0. Only 'true', 'false', 'null' literals are allowed; reference values via @steps()/@triggerBody()/@triggerHeaders().",
    );
    expect(() => parseWhen('1 # 2')).toThrow("Unexpected character '#' at position 2 in expression '1 # 2'.");
    expect(() => parseWhen('1 = 1')).toThrow("Unexpected character '=' at position 2 in expression '1 = 1'.");
    expect(() => parseWhen('true & false')).toThrow(
      "Unexpected character '&' at position 5 in expression 'true & false'.",
    );
    expect(() => parseWhen('true | false')).toThrow("Unexpected character '|' at position 5");
  });

  it('makes a malformed number a FlowExpressionError', () => {
    expect(() => parseWhen('1.2.3 > 1')).toThrow(FlowExpressionError);
    expect(() => parseWhen('1.2.3 > 1')).toThrow(
      "Invalid number literal '1.2.3' at position 0 in expression '1.2.3 > 1'.",
    );
  });
});

describe('When parser', () => {
  it('reports missing parentheses and unexpected tokens', () => {
    expect(() => parseWhen('(true && false')).toThrow(
      "Expected ')' at position 14 in expression '(true && false'.",
    );
    expect(() => parseWhen('(true false)')).toThrow(
      "Expected ')' at position 6 in expression '(true false)'.",
    );
    expect(() => parseWhen('true false')).toThrow(
      "Unexpected token 'false' at position 5 in expression 'true false'.",
    );
    expect(() => parseWhen('1 == 2 == 3')).toThrow(
      "Unexpected token '==' at position 7 in expression '1 == 2 == 3'.",
    );
    expect(() => parseWhen('== 1')).toThrow("Unexpected token '==' at position 0 in expression '== 1'.");
    expect(() => parseWhen('true)')).toThrow("Unexpected token ')' at position 4 in expression 'true)'.");
    expect(() => parseWhen('1 ==')).toThrow(
      "Unexpected token '<end of expression>' at position 4 in expression '1 =='.",
    );
    expect(() => parseWhen('')).toThrow(FlowExpressionError);
  });

  it('caches parsed expressions', () => {
    const a = parseWhen('@triggerBody().amount > 1');
    expect(parseWhen('@triggerBody().amount > 1')).toBe(a);
  });

  it('binds ! looser than a comparison and && tighter than ||', async () => {
    expect(await result('!1 == 2')).toBe(true);
    expect(await result('true || false && false')).toBe(true);
    expect(await result('(true || false) && false')).toBe(false);
    expect(await result('!!true')).toBe(true);
    expect(await result('!(1 > 2) && (2 > 1)')).toBe(true);
  });
});

describe('When evaluation: comparisons', () => {
  it('compares strings, numbers and booleans for equality', async () => {
    expect(await result("'a' == 'a'")).toBe(true);
    expect(await result("'a' == 'A'")).toBe(false);
    expect(await result('"a" != \'b\'')).toBe(true);
    expect(await result('1 == 1.0')).toBe(true);
    expect(await result('-2 != 2')).toBe(true);
    expect(await result('true == TRUE')).toBe(true);
    expect(await result('true != false')).toBe(true);
    expect(await result('null == NULL')).toBe(true);
    expect(await result("'x' != null")).toBe(true);
    expect(await result("null == 'x'")).toBe(false);
    expect(await result('null != null')).toBe(false);
  });

  it.each([
    ['500 > 1000', false],
    ['1000 > 500', true],
    ['1000 > 1000', false],
    ['1000 >= 1000', true],
    ['999.99 >= 1000', false],
    ['500 < 1000', true],
    ['1000 < 1000', false],
    ['1000 <= 1000', true],
    ['1000.01 <= 1000', false],
    ['-1 < 0', true],
    ['0.1 < 0.2', true],
  ])('numeric %s is %s', async (expression, expected) => {
    expect(await result(expression)).toBe(expected);
  });

  it('orders strings ordinally (case-sensitive)', async () => {
    expect(await result("'B' < 'a'")).toBe(true);
    expect(await result("'apple' < 'banana'")).toBe(true);
    expect(await result("'b' >= 'b'")).toBe(true);
    expect(await result("'b' > 'ba'")).toBe(false);
  });

  it('rejects ordering with null, ordering booleans and mixed types', async () => {
    expect(await failure('@triggerBody().none > 1')).toBe(
      "Cannot apply operator '>' to null operand in expression '@triggerBody().none > 1'.",
    );
    expect(await failure('null <= null')).toBe(
      "Cannot apply operator '<=' to null operand in expression 'null <= null'.",
    );
    expect(await failure('true > false')).toBe(
      "Operator '>' is not defined for booleans in expression 'true > false'.",
    );
    expect(await failure("'5' == 5")).toBe(
      "Cannot compare values of types 'string' and 'number' with operator '==' in expression ''5' == 5'.",
    );
    expect(await failure('true != 1')).toBe(
      "Cannot compare values of types 'bool' and 'number' with operator '!=' in expression 'true != 1'.",
    );
  });
});

describe('When evaluation: logic', () => {
  it('requires boolean operands', async () => {
    expect(await failure('1 && true')).toBe(
      "Operator '&&' requires boolean operands; left was 'number' in expression '1 && true'.",
    );
    expect(await failure("true && 'x'")).toBe(
      "Operator '&&' requires boolean operands; right was 'string' in expression 'true && 'x''.",
    );
    expect(await failure('null || true')).toBe(
      "Operator '||' requires boolean operands; left was 'null' in expression 'null || true'.",
    );
    expect(await failure('false || 2')).toBe(
      "Operator '||' requires boolean operands; right was 'number' in expression 'false || 2'.",
    );
    expect(await failure("!'x'")).toBe(
      "Operator '!' requires a boolean operand; got 'string' in expression '!'x''.",
    );
  });

  it('short-circuits without resolving the right-hand side', async () => {
    const s = scope();
    const andTrace = await evaluateWhen("false && @steps('fetch').output.amount > 1", s);
    expect(andTrace).toEqual({
      expression: "false && @steps('fetch').output.amount > 1",
      resolved: "false && @steps('fetch').output.amount > 1",
      result: false,
    });
    const orTrace = await evaluateWhen("@triggerBody().ok || @steps('charge').status == 'x'", s);
    expect(orTrace.result).toBe(true);
    expect(orTrace.resolved).toBe("true || @steps('charge').status == 'x'");
    // Not even an undeclared step or a wrongly typed operand on the skipped side is noticed.
    expect(await result("true || @steps('ghost').output == 1", s)).toBe(true);
    expect(await result('false && 5', s)).toBe(false);
    expect(s.calls).toEqual({ hasStep: [], output: [], record: [] });
  });

  it('requires a boolean result; a bare boolean LHS or literal is fine', async () => {
    expect(await failure('@triggerBody().amount')).toBe(
      "Expression must evaluate to a boolean. Expression: '@triggerBody().amount'.",
    );
    expect(await failure("'false'")).toBe("Expression must evaluate to a boolean. Expression: ''false''.");
    expect(await result('false')).toBe(false);
    expect(await result('(true)')).toBe(true);
    expect(await evaluateWhen('@triggerBody().ok', scope())).toEqual({
      expression: '@triggerBody().ok',
      resolved: 'true',
      result: true,
    });
  });
});

describe('When evaluation: left-hand sides', () => {
  it('unwraps JSON numbers and strings and compares objects as JSON text', async () => {
    expect(await result('@triggerBody().amount == 500')).toBe(true);
    expect(await result("@triggerBody().decision == 'approved'")).toBe(true);
    expect(await result(`@triggerBody().customer == '{"name":"Ada"}'`)).toBe(true);
    expect(await result(`@triggerBody().tags == '["a"]'`)).toBe(true);
  });

  it('yields null for a null body, bare or with a path, without throwing', async () => {
    const s = fakeScope({ body: null });
    expect(await result('@triggerBody() == null', s)).toBe(true);
    expect(await result('@triggerBody().a.b == null', s)).toBe(true);
    expect(await result('@triggerBody()?.a == null', s)).toBe(true);
    expect(await result('@triggerBody().missing == null')).toBe(true);
  });

  it('looks headers up case-insensitively with either quote style', async () => {
    expect(await result("@triggerHeaders()['X-Tenant'] == 'acme'")).toBe(true);
    expect(await result('@triggerHeaders()["x-tenant"] == "acme"')).toBe(true);
    expect(await result("@triggerHeaders()['missing'] == 'acme'")).toBe(false);
    expect(await result("@triggerHeaders()['x'] == null", fakeScope({ headers: null }))).toBe(true);
    expect(
      await result("@triggerHeaders()['X-Mixed'] == 'v'", fakeScope({ headers: { 'x-mixed': 'v' } })),
    ).toBe(true);
  });

  it('reads step outputs, statuses and errors', async () => {
    expect(await result("@steps('fetch').output.items[0].price >= 1000")).toBe(true);
    expect(await result("@steps('fetch').status == 'Succeeded'")).toBe(true);
    expect(await result("@steps('charge').error == 'card declined'")).toBe(true);
    expect(await result("@steps('fetch').error == null")).toBe(true);
    expect(await result("@steps('later').output == null && @steps('later').status == null")).toBe(true);
    expect(await result(`@steps("fetch").output.status == 'approved'`)).toBe(true);
  });

  it('fails with FlowExpressionError for an undeclared step', async () => {
    const error = (await evaluateWhen("@steps('ghost').status == 'Succeeded'", scope()).catch(
      (e: unknown) => e,
    )) as FlowExpressionError;
    expect(error).toBeInstanceOf(FlowExpressionError);
    expect(error.stepKey).toBe('ghost');
    expect(error.message).toBe(
      "Step 'ghost' is not defined in the flow manifest. Expression: '@steps('ghost').status'",
    );
  });

  it('rejects unknown or malformed left-hand sides', async () => {
    expect(await failure('@foo() == 1')).toBe(
      "Unknown LHS expression '@foo()'. Expected '@steps(...)', '@triggerBody(...)', or '@triggerHeaders(...)'.",
    );
    expect(await failure('@triggerBody()[0] != 1')).toContain("Unknown LHS expression '@triggerBody()[0]'.");
    expect(await failure("@steps(fetch).output != 'x'")).toContain(
      "Unknown LHS expression '@steps(fetch).output'.",
    );
  });

  it('resolves each distinct LHS once and fetches each step once', async () => {
    const s = scope();
    const trace = await evaluateWhen(
      "@steps('fetch').output.amount == 1 || @steps('fetch').output.amount == 500 && @steps('fetch').output.status == 'approved'",
      s,
    );
    expect(trace.result).toBe(true);
    expect(s.calls.output).toEqual(['fetch']);
    expect(s.calls.hasStep).toEqual(['fetch', 'fetch']);
  });
});

describe('When trace', () => {
  it('substitutes formatted values for resolved left-hand sides', async () => {
    const s = scope();
    expect(await evaluateWhen("@steps('fetch').output.amount > 1000", s)).toEqual({
      expression: "@steps('fetch').output.amount > 1000",
      resolved: '500 > 1000',
      result: false,
    });
    expect((await evaluateWhen("@steps('fetch').output.status == 'approved'", s)).resolved).toBe(
      "'approved' == 'approved'",
    );
    expect((await evaluateWhen('@triggerBody().none == null', s)).resolved).toBe('null == null');
    expect((await evaluateWhen('!@triggerBody().ok', s)).resolved).toBe('!true');
    expect((await evaluateWhen(`@triggerBody().customer != ''`, s)).resolved).toBe(`'{"name":"Ada"}' != ''`);
  });

  it('replaces only the first occurrence of a repeated LHS, never text inside string literals', async () => {
    const trace = await evaluateWhen(
      "'@triggerBody().amount' != 'x' && @triggerBody().amount > 1 && @triggerBody().amount < 1000",
      scope(),
    );
    expect(trace.resolved).toBe("'@triggerBody().amount' != 'x' && 500 > 1 && @triggerBody().amount < 1000");
    expect(trace.result).toBe(true);
  });

  it('gives the same answer for 64 parallel evaluations', async () => {
    const s = scope();
    const traces = await Promise.all(
      Array.from({ length: 64 }, () =>
        evaluateWhen("@steps('fetch').output.amount > 100 && @triggerBody().ok", s),
      ),
    );
    expect(new Set(traces.map((t) => `${t.result}|${t.resolved}`))).toEqual(
      new Set(['true|500 > 100 && true']),
    );
  });
});
