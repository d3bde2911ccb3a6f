import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { finishStep, startRun, uuid } from '../fixtures.js';

const UNICODE =
  'Grüße, 世界! Emoji 🚀👩🏽‍💻, RTL שלום, combining é, zero-width \u200b, NUL-free "quotes" \\ back';

/** Builds a JSON value nested `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = { leaf: true, n: 1.5e-7 };
  for (let i = 0; i < depth; i++) value = { level: i, child: value, list: [i, `s${i}`, null] };
  return value;
}

/** Payload round trips through every JSON-carrying column. */
export const serialisationCases: CaseGroup[] = [
  {
    name: 'serialisation',
    cases: [
      {
        id: 'serialisation.unicode-outputs',
        title: 'unicode (astral emoji, RTL, combining marks) survives outputs, inputs and trigger data',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepOutput(runId, 'a', { text: UNICODE });
          await storage.outputs.saveStepInput(runId, 'a', [UNICODE]);
          await storage.outputs.saveTriggerData(runId, UNICODE);
          expect(await storage.outputs.getStepOutput(runId, 'a')).toEqual({ text: UNICODE });
          expect(await storage.outputs.getStepInput(runId, 'a')).toEqual([UNICODE]);
          expect(await storage.outputs.getTriggerData(runId)).toBe(UNICODE);
        },
      },
      {
        id: 'serialisation.unicode-keys-and-records',
        title: 'unicode step keys, flow names, error messages and headers round-trip',
        run: async ({ storage }) => {
          const run = await startRun(storage, {
            flowName: 'Flüsse 🚀',
            triggerDataJson: JSON.stringify({ t: UNICODE }),
          });
          await finishStep(storage, run.id, 'schritt-ü-🚀', 'Failed', {
            errorMessage: UNICODE,
            outputJson: '"ok"',
          });
          await storage.outputs.saveTriggerHeaders(run.id, { 'X-Note': UNICODE });
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.flowName).toBe('Flüsse 🚀');
          expect(JSON.parse(detail!.triggerDataJson!)).toEqual({ t: UNICODE });
          expect(detail!.steps![0]).toMatchObject({ stepKey: 'schritt-ü-🚀', errorMessage: UNICODE });
          expect(await storage.outputs.getTriggerHeaders(run.id)).toEqual({ 'x-note': UNICODE });
        },
      },
      {
        id: 'serialisation.large-payload',
        title: 'a 1 MiB output and a 1 MiB step error message round-trip intact',
        run: async ({ storage }) => {
          const runId = uuid();
          const big = 'abcdefghijklmnopqrstuvwxyz0123456789ÄÖÜ🚀'.repeat(26_000).slice(0, 1024 * 1024);
          await storage.outputs.saveStepOutput(runId, 'big', { big });
          const read = (await storage.outputs.getStepOutput(runId, 'big')) as { big: string };
          expect(read.big.length).toBe(big.length);
          expect(read.big === big).toBe(true);
          const run = await startRun(storage);
          await finishStep(storage, run.id, 'big', 'Succeeded', { outputJson: JSON.stringify(big) });
          const step = (await storage.runs.getRunDetail(run.id))!.steps![0]!;
          expect(step.outputJson!.length).toBe(JSON.stringify(big).length);
        },
      },
      {
        id: 'serialisation.nested-json',
        title: 'deeply nested JSON (64 levels) with numbers, nulls and arrays round-trips',
        run: async ({ storage }) => {
          const runId = uuid();
          const value = nested(64);
          await storage.outputs.saveStepOutput(runId, 'deep', value);
          expect(await storage.outputs.getStepOutput(runId, 'deep')).toEqual(value);
        },
      },
      {
        id: 'serialisation.primitives-and-null',
        title: 'null, booleans, numbers, strings, empty object and empty array each round-trip as themselves',
        run: async ({ storage }) => {
          const runId = uuid();
          const values: unknown[] = [
            null,
            true,
            false,
            0,
            -1.25,
            9_007_199_254_740_991,
            '',
            'null',
            {},
            [],
            [null],
          ];
          for (const [i, value] of values.entries())
            await storage.outputs.saveStepOutput(runId, `k${i}`, value);
          for (const [i, value] of values.entries())
            expect(await storage.outputs.getStepOutput(runId, `k${i}`)).toEqual(value);
        },
      },
      {
        id: 'serialisation.raw-json-verbatim',
        title:
          'JSON text columns (trigger data, step input/output) are kept verbatim, whitespace and key order included',
        run: async ({ storage }) => {
          const raw = '{ "Z": 1,\n  "a" : [ 1.0, 2e3 ], "Ünï": "x" }';
          const run = await startRun(storage, { triggerDataJson: raw });
          await finishStep(storage, run.id, 's', 'Succeeded', { inputJson: raw, outputJson: raw });
          const detail = await storage.runs.getRunDetail(run.id);
          expect(detail!.triggerDataJson).toBe(raw);
          expect(detail!.steps![0]).toMatchObject({ inputJson: raw, outputJson: raw });
        },
      },
    ],
  },
];
