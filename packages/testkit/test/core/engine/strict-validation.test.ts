import {
  createFlowOrchestrator,
  type FlowDefinition,
  type StepDefinition,
  silentLogger,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { describe, expect, it } from 'vitest';

const handlers = { Greet: () => 'hi', Echo: () => 'echo' };

/** The start-up error of a one-flow orchestrator, or null when it starts. */
async function startupError(flow: FlowDefinition, allowMissingHandlers = false): Promise<string | null> {
  const orchestrator = createFlowOrchestrator({
    storage: createInMemoryStorage(),
    flows: [flow],
    handlers,
    logger: silentLogger,
    maintenanceIntervalMs: 0,
    allowMissingHandlers,
  });
  try {
    await orchestrator.start();
    await orchestrator.stop();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const withStep = (greet: StepDefinition, extra: Record<string, StepDefinition> = {}): FlowDefinition => ({
  id: 'strict-flow',
  name: 'Strict',
  steps: { greet, ...extra },
});

describe('start-up validation: expressions', () => {
  it.each([
    ['an unclosed @triggerBody(', { name: '@triggerBody(.name' }, '@triggerBody(.name', 'malformed'],
    ['an unquoted @steps() key', { text: '@steps(greet).output' }, '@steps(greet).output', 'malformed'],
    ['an unknown function', { id: '@uuid()' }, '@uuid()', "unknown function '@uuid()'"],
    ['an unknown field of @steps()', { v: "@steps('greet').result" }, "@steps('greet').result", 'malformed'],
    [
      'a nested malformed value',
      { deep: { list: ['ok', '@triggerHeaders()[x]'] } },
      '@triggerHeaders()[x]',
      'inputs.deep.list[1]',
    ],
  ])('rejects %s, naming the step and the expression', async (_, inputs, expression, problem) => {
    const message = await startupError(
      withStep({ type: 'Greet' }, { shout: { type: 'Echo', runAfter: { greet: ['Succeeded'] }, inputs } }),
    );
    expect(message).toContain("Step 'shout'");
    expect(message).toContain(`'${expression}'`);
    expect(message).toContain(problem);
  });

  it('rejects a reference to a step the flow does not define', async () => {
    const message = await startupError(withStep({ type: 'Greet', inputs: { v: "@steps('gret').output" } }));
    expect(message).toContain("Step 'greet' reads unknown step 'gret' in inputs.v: '@steps('gret').output'");
  });

  it('rejects a When whose left-hand side is not a readable value, and a When syntax error', async () => {
    const badLhs = await startupError(
      withStep({ type: 'Greet' }, { b: { type: 'Echo', runAfter: { greet: { when: '@foo() == 1' } } } }),
    );
    expect(badLhs).toContain("Step 'b' has an invalid when on 'greet': '@foo() == 1'");
    expect(badLhs).toContain("unknown function '@foo()'");
    const syntax = await startupError(
      withStep(
        { type: 'Greet' },
        { b: { type: 'Echo', runAfter: { greet: { when: '@triggerBody().a ==' } } } },
      ),
    );
    expect(syntax).toContain("Step 'b' has an invalid when on 'greet'");
  });

  it('accepts well-formed expressions, loop functions inside a ForEach, and literal text', async () => {
    const flow: FlowDefinition = {
      id: 'fine-flow',
      name: 'Fine',
      steps: {
        greet: {
          type: 'Greet',
          inputs: {
            a: '@triggerBody()',
            b: '@triggerBody()?.x[0].y',
            c: "@triggerHeaders()['X-Id']",
            d: 'mail me @ home',
            e: 'Order @triggerBody().id',
          },
        },
        loop: {
          type: 'ForEach',
          forEach: "@steps('greet').output.items",
          runAfter: { greet: ['Succeeded'] },
          steps: {
            first: { type: 'Echo', inputs: { item: '@loopItem().sku', index: '@loopIndex()' } },
            second: {
              type: 'Echo',
              runAfter: { first: ['Succeeded'] },
              inputs: { prev: "@steps('first').output" },
            },
          },
        },
      },
    };
    expect(await startupError(flow)).toBeNull();
  });
});

describe('start-up validation: handlers and graphs', () => {
  it('a step type without a handler is a start-up error unless allowMissingHandlers is set', async () => {
    const flow = withStep(
      { type: 'Greet' },
      { pay: { type: 'ChargeCard', runAfter: { greet: ['Succeeded'] } } },
    );
    const message = await startupError(flow);
    expect(message).toContain("Step 'pay' has type 'ChargeCard' but no handler is registered for it");
    expect(message).toContain('allowMissingHandlers');
    expect(await startupError(flow, true)).toBeNull();
  });

  it('a flow with a cycle says "cycle" first, naming it, not "no entry step"', async () => {
    const message = await startupError({
      id: 'loop-flow',
      name: 'Loop',
      steps: { a: { type: 'Greet', runAfter: { b: [] } }, b: { type: 'Greet', runAfter: { a: [] } } },
    });
    const first = message!.split('\n')[0]!;
    expect(first).toContain('Flow has a dependency cycle: a → b → a');
    expect(first).not.toContain('no entry step');
  });

  it('malformed flow ids fail at construction; slugs and upper-case UUIDs are accepted', () => {
    const make = (id: string) => () =>
      createFlowOrchestrator({
        storage: createInMemoryStorage(),
        flows: [{ ...withStep({ type: 'Greet' }), id }],
      });
    expect(make('hello flow')).toThrow(/neither a UUID nor a slug/);
    expect(make('hello-flow')).not.toThrow();
    expect(make('0B5C2F0E-8A43-4A59-9D1A-6F3C1F1F0A01')).not.toThrow();
  });
});
