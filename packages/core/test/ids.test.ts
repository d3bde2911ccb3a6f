import { describe, expect, it } from 'vitest';
import { toRunId, toStepKey, uuidV5 } from '../src/backend.js';
import { FLOW_SLUG_NAMESPACE, isFlowSlug, toFlowId } from '../src/index.js';

describe('ids: one rule for every backend', () => {
  it('uuidV5 matches the RFC example (www.example.com in the DNS namespace)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('maps a slug to a stable UUID v5, case-insensitively; UUIDs are lower-cased', () => {
    const id = toFlowId('hello-flow');
    expect(id).toBe(uuidV5('hello-flow', FLOW_SLUG_NAMESPACE));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toFlowId('Hello-Flow')).toBe(id);
    expect(toFlowId(id.toUpperCase())).toBe(id);
    expect(isFlowSlug(id)).toBe(false);
  });

  it.each(['', 'hello flow', '-lead', 'a/b', "x'; drop table", 'a'.repeat(129)])(
    'rejects flow id %j with INVALID_ARGUMENT',
    (value) => {
      expect(() => toFlowId(value)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'flowId' }),
      );
    },
  );

  it('run ids must be UUIDs; step keys follow the model', () => {
    expect(toRunId('0B5C2F0E-8A43-4A59-9D1A-6F3C1F1F0A01')).toBe('0b5c2f0e-8a43-4a59-9d1a-6f3c1f1f0a01');
    expect(() => toRunId('nope')).toThrow(/Invalid runId: 'nope' is not a UUID/);
    expect(toStepKey('loop.3.child')).toBe('loop.3.child');
    for (const bad of ['', '  ', 'a:b', '__x', 'k'.repeat(257)])
      expect(() => toStepKey(bad)).toThrow(/Invalid stepKey/);
  });
});
