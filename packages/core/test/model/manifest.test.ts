import { describe, expect, it } from 'vitest';
import {
  findStep,
  flowFromManifest,
  parseManifest,
  planRun,
  runAfterEntries,
  toManifest,
  validateFlow,
} from '../../src/engine/model/index.js';
import { FlowOrchError } from '../../src/errors.js';
import type { FlowDefinition, FlowManifest } from '../../src/model/types.js';
import { flow, statuses, step } from './fixtures.js';

const rich: FlowDefinition = flow(
  {
    fetch: {
      type: 'Http',
      inputs: {
        url: 'https://example.test',
        headers: { a: '1' },
        at: new Date('2026-01-02T03:04:05Z'),
        gone: undefined,
      },
      retry: { maxAttempts: 3, backoff: 'fixed', delayMs: 10, retryOn: (error) => error.message !== 'fatal' },
    },
    gate: step({ '': { when: '@triggerBody().go == true' } }),
    loop: {
      type: 'ForEach',
      runAfter: { fetch: ['Succeeded'], gate: { statuses: [], when: '  ' } },
      forEach: '@triggerBody().items',
      concurrencyLimit: 4,
      steps: {
        process: { type: 'Process', inputs: { n: 1 } },
        audit: step({
          process: { statuses: ['Succeeded', 'Failed'], when: "@steps('process').status == 'Failed'" },
        }),
      },
    },
    onError: step({ loop: { statuses: ['Failed'] } }),
  },
  {
    triggers: {
      hook: { type: 'Webhook', inputs: { webhookSlug: 'orders' } },
      nightly: { type: 'Cron', inputs: { cronExpression: '0 3 * * *', timezone: 'UTC' } },
    },
  },
);

describe('toManifest', () => {
  it('writes runAfter in object form, omitting empty statuses and blank when', () => {
    const m = toManifest(rich);
    expect(m.steps.loop?.runAfter).toEqual({ fetch: { statuses: ['Succeeded'] }, gate: {} });
    expect(m.steps.gate?.runAfter).toEqual({ '': { when: '@triggerBody().go == true' } });
    expect(m.steps.loop?.steps?.audit?.runAfter).toEqual({
      process: { statuses: ['Succeeded', 'Failed'], when: "@steps('process').status == 'Failed'" },
    });
  });

  it('fills defaults: a manual trigger, empty inputs and runAfter, loop concurrency 1 and no children', () => {
    const m = toManifest(
      flow({ a: { type: 'Work' }, loop: { type: 'ForEach', forEach: undefined } as never }),
    );
    expect(m).toEqual({
      triggers: { manual: { type: 'Manual', inputs: {} } },
      steps: {
        a: { type: 'Work', runAfter: {}, inputs: {} },
        loop: { type: 'ForEach', runAfter: {}, inputs: {}, forEach: null, concurrencyLimit: 1, steps: {} },
      },
    });
  });

  it('round-trips through JSON unchanged and drops retry predicates', () => {
    const m = toManifest(rich);
    const text = JSON.stringify(m);
    expect(JSON.parse(text)).toStrictEqual(m);
    expect(m.steps.fetch?.retry).toStrictEqual({ maxAttempts: 3, backoff: 'fixed', delayMs: 10 });
    expect(text).not.toContain('retryOn');
    expect(m.steps.fetch?.inputs).toStrictEqual({
      url: 'https://example.test',
      headers: { a: '1' },
      at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('keeps loop fields only on ForEach steps', () => {
    const m = toManifest(rich);
    expect(m.steps.loop).toMatchObject({ forEach: '@triggerBody().items', concurrencyLimit: 4 });
    expect(Object.keys(m.steps.loop?.steps ?? {})).toEqual(['process', 'audit']);
    expect(m.steps.fetch).not.toHaveProperty('steps');
    expect(m.steps.fetch).not.toHaveProperty('forEach');
  });

  it('throws a clear error for inputs JSON cannot hold', () => {
    expect(() => toManifest(flow({ a: { type: 'Work', inputs: { big: 1n } } }))).toThrow(
      /Inputs of step 'a' cannot be serialised to JSON/,
    );
  });
});

describe('parseManifest', () => {
  it('reads what toManifest writes (text or value) back to an equal manifest', () => {
    const m = toManifest(rich);
    expect(parseManifest(JSON.stringify(m))).toStrictEqual(m);
    expect(parseManifest(JSON.parse(JSON.stringify(m)))).toStrictEqual(m);
  });

  it('accepts the legacy array form and the {statuses, when} form', () => {
    const m = parseManifest({
      steps: {
        a: { type: 'Work' },
        b: { type: 'Work', runAfter: { a: ['Succeeded', 'Skipped'] } },
        c: { type: 'Work', runAfter: { a: { statuses: ['Failed'], when: 'true' }, b: { statuses: [] } } },
      },
    });
    expect(m.steps.b?.runAfter).toStrictEqual({ a: { statuses: ['Succeeded', 'Skipped'] } });
    expect(m.steps.c?.runAfter).toStrictEqual({ a: { statuses: ['Failed'], when: 'true' }, b: {} });
  });

  it('matches property names and status names case-insensitively and accepts status numbers', () => {
    const m = parseManifest({
      Triggers: { t: { Type: 'cron', Inputs: { cronExpression: '* * * * *' } } },
      STEPS: {
        a: { Type: 'Work', RunAfter: {}, Inputs: { Message: 'hi' } },
        b: { TYPE: 'Work', runafter: { a: { Statuses: ['succeeded', 4, 'FAILED'], When: 'x' } } },
      },
    });
    expect(m.triggers.t).toStrictEqual({ type: 'Cron', inputs: { cronExpression: '* * * * *' } });
    expect(m.steps.a?.inputs).toStrictEqual({ Message: 'hi' });
    expect(m.steps.b?.runAfter).toStrictEqual({
      a: { statuses: ['Succeeded', 'Skipped', 'Failed'], when: 'x' },
    });
  });

  it('rejects unknown statuses with the reference message', () => {
    const parse = (status: unknown) => () =>
      parseManifest({ steps: { a: { type: 'W' }, b: { type: 'W', runAfter: { a: [status] } } } });
    expect(parse('Done')).toThrow("Cannot deserialise 'Done' as StepStatus.");
    expect(parse(7)).toThrow("Cannot deserialise '7' as StepStatus.");
    expect(parse('Done')).toThrow(FlowOrchError);
  });

  it('drops null conditions and defaults missing parts', () => {
    const m = parseManifest(
      '{"steps":{"a":{"runAfter":{"x":null}},"l":{"type":"foreach"}},"triggers":{"m":{}}}',
    );
    expect(m).toStrictEqual({
      triggers: { m: { type: 'Manual', inputs: {} } },
      steps: {
        a: { type: '', runAfter: {}, inputs: {} },
        l: { type: 'foreach', runAfter: {}, inputs: {}, forEach: null, concurrencyLimit: 1, steps: {} },
      },
    });
    expect(parseManifest('{}')).toStrictEqual({ triggers: {}, steps: {} });
  });

  it('is polymorphic by type: loop fields are read only for ForEach steps', () => {
    const m = parseManifest({
      steps: {
        plain: { type: 'Work', forEach: [1], steps: { x: { type: 'W' } } },
        loop: {
          type: 'ForEach',
          forEach: [1, 2, 3],
          concurrencyLimit: 5,
          steps: { child1: { type: 'Process' } },
        },
      },
    });
    expect(m.steps.plain).toStrictEqual({ type: 'Work', runAfter: {}, inputs: {} });
    expect(m.steps.loop).toStrictEqual({
      type: 'ForEach',
      runAfter: {},
      inputs: {},
      forEach: [1, 2, 3],
      concurrencyLimit: 5,
      steps: { child1: { type: 'Process', runAfter: {}, inputs: {} } },
    });
  });

  it('rejects malformed documents with INVALID_MANIFEST errors', () => {
    for (const bad of [
      'not json',
      '[]',
      '{"steps":[]}',
      '{"steps":{"a":1}}',
      '{"steps":{"a":{"runAfter":{"b":1}}}}',
    ]) {
      expect(() => parseManifest(bad)).toThrow(expect.objectContaining({ code: 'INVALID_MANIFEST' }));
    }
    expect(() => parseManifest({ triggers: { t: { type: 'Email' } } })).toThrow(/TriggerType/);
  });
});

describe('flowFromManifest', () => {
  const identity = { id: rich.id, name: rich.name };

  it('re-serialises to the same manifest', () => {
    const m = toManifest(rich);
    expect(toManifest(flowFromManifest(m, identity))).toStrictEqual(m);
  });

  it('plans, validates and keeps When clauses exactly like the original definition', () => {
    const stored: FlowManifest = parseManifest(JSON.stringify(toManifest(rich)));
    const restored = flowFromManifest(stored, identity);
    expect(validateFlow(restored)).toEqual(validateFlow(rich));
    const state = statuses({
      fetch: 'Succeeded',
      gate: 'Skipped',
      loop: 'Running',
      'loop.0.process': 'Failed',
    });
    expect(planRun(restored, state)).toEqual(planRun(rich, state));
    const audit = (f: FlowDefinition) => runAfterEntries(findStep(f, 'loop.0.audit')!);
    expect(audit(restored)).toEqual(audit(rich));
  });

  it('does not alias the manifest', () => {
    const m = toManifest(rich);
    const restored = flowFromManifest(m, { ...identity, version: '2.0' });
    expect(restored.version).toBe('2.0');
    expect(restored.steps.fetch).not.toBe(m.steps.fetch);
  });
});
