import { randomUUID } from 'node:crypto';
import {
  createFlowClient,
  createFlowOrchestrator,
  type FlowClient,
  type FlowDefinition,
  type FlowStorage,
  hasCapability,
  silentLogger,
  toFlowId,
} from '@floworch/core';
import { describe, expect, it } from 'vitest';

/** Options of {@link defineClientConformance}. */
export interface ClientConformanceOptions {
  /** Backend name shown in the titles. */
  readonly name: string;
  /** A fresh, empty store per test (real clock). */
  readonly setup: (context: {
    testId: string;
  }) => Promise<{ storage: FlowStorage; teardown?: () => Promise<void> }>;
  /** Per-test timeout in ms (default 60 000). */
  readonly timeoutMs?: number;
}

/** The outcome of a call as the table compares it: `ok` or the error's stable code. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = String((error as Error).message ?? '');
    // No database text may leak, whatever the backend.
    expect(message).not.toMatch(/syntax|sql|relation|column|uuid type|conversion/i);
    return typeof code === 'string' ? code : `untyped: ${message}`;
  }
}

const SLUG = 'hello-flow';

/** The slug flow every backend runs (one step that echoes its input). */
function helloFlow(id: string = SLUG): FlowDefinition {
  return {
    id,
    name: 'Hello',
    steps: {
      greet: { type: 'Greet', inputs: { name: '@triggerBody().name' } },
      shout: {
        type: 'Shout',
        runAfter: { greet: ['Succeeded'] },
        inputs: { text: "@steps('greet').output" },
      },
    },
  };
}

const handlers = {
  Greet: ({ inputs }: { inputs: Record<string, unknown> }) => `hello ${String(inputs.name)}`,
  Shout: ({ inputs }: { inputs: Record<string, unknown> }) => String(inputs.text).toUpperCase(),
};

/** Calls on ids and unknown runs that need no run to exist, with the outcome every backend gives. */
function idTable(client: FlowClient): Array<[string, () => Promise<unknown>, string]> {
  const unknown = randomUUID();
  const upper = randomUUID().toUpperCase();
  return [
    ['getRun(malformed)', () => client.getRun('nope'), 'INVALID_ARGUMENT'],
    ['getRun(unknown)', () => client.getRun(unknown), 'RUN_NOT_FOUND'],
    ['getRun(unknown, upper case)', () => client.getRun(upper), 'RUN_NOT_FOUND'],
    ['cancelRun(malformed)', () => client.cancelRun("x'; drop table runs; --"), 'INVALID_ARGUMENT'],
    ['cancelRun(unknown)', () => client.cancelRun(unknown), 'RUN_NOT_FOUND'],
    ['retryStep(unknown run)', () => client.retryStep(unknown, 'greet'), 'RUN_NOT_FOUND'],
    ['retryStep(reserved key)', () => client.retryStep(unknown, '__trigger:data'), 'INVALID_ARGUMENT'],
    ['rerun(unknown)', () => client.rerun(unknown), 'RUN_NOT_FOUND'],
    ['signal(unknown)', () => client.signal(unknown, 'approve'), 'RUN_NOT_FOUND'],
    ['extendDeadline(unknown)', () => client.extendDeadline(unknown, new Date()), 'RUN_NOT_FOUND'],
    ['getStep(unknown run)', () => client.getStep(unknown, 'greet'), 'RUN_NOT_FOUND'],
    ['getRunEvents(unknown)', () => client.getRunEvents(unknown), 'RUN_NOT_FOUND'],
    ['waitForRun(unknown)', () => client.waitForRun(unknown, { timeoutMs: 5_000 }), 'RUN_NOT_FOUND'],
    ['waitForRun(malformed)', () => client.waitForRun('12345'), 'INVALID_ARGUMENT'],
    ['listRuns(slug)', () => client.listRuns({ flowId: SLUG }), 'ok'],
    ['listRuns(malformed flow id)', () => client.listRuns({ flowId: 'not a slug!' }), 'INVALID_ARGUMENT'],
    ['listRuns(unknown status)', () => client.listRuns({ status: 'Done' }), 'INVALID_ARGUMENT'],
    ['trigger(malformed flow id)', () => client.trigger('hello flow'), 'INVALID_ARGUMENT'],
    ['trigger(unknown slug)', () => client.trigger('other-flow'), 'FLOW_NOT_FOUND'],
    ['setFlowEnabled(unknown uuid)', () => client.setFlowEnabled(randomUUID(), false), 'FLOW_NOT_FOUND'],
  ];
}

/**
 * Registers the client cases with vitest: the one id rule and the typed errors give the same
 * outcome on every backend, and a client starts and awaits runs an orchestrator executes. Cases
 * that start runs need the backend's `queue` contract and report themselves skipped without it.
 */
export function defineClientConformance(options: ClientConformanceOptions): void {
  const timeout = options.timeoutMs ?? 60_000;
  const withStorage =
    (body: (storage: FlowStorage, skip: (note: string) => void) => Promise<void>) =>
    async (context: { skip: (note?: string) => void }) => {
      const fixture = await options.setup({ testId: Math.random().toString(16).slice(2, 14) });
      try {
        await body(fixture.storage, (note) => context.skip(note));
      } finally {
        await fixture.storage.close();
        await fixture.teardown?.();
      }
    };

  describe(`flow client: ${options.name}`, () => {
    it(
      'client.ids — malformed ids fail INVALID_ARGUMENT before storage, unknown runs RUN_NOT_FOUND, identically',
      { timeout },
      withStorage(async (storage) => {
        const client = createFlowClient({ storage, flows: [helloFlow()], logger: silentLogger });
        const results: Record<string, string> = {};
        const expected: Record<string, string> = {};
        for (const [name, call, code] of idTable(client)) {
          results[name] = await outcome(call);
          expected[name] = code;
        }
        expect(results).toEqual(expected);
      }),
    );

    it(
      'client.slug-trigger-await — a slug, its upper case and its UUID name one flow; a client triggers and awaits runs an orchestrator executes',
      { timeout },
      withStorage(async (storage, skip) => {
        if (!hasCapability(storage, 'queue'))
          return skip(`backend '${storage.name}' has no queue contract yet`);
        const orchestrator = createFlowOrchestrator({
          storage,
          flows: [helloFlow()],
          handlers,
          logger: silentLogger,
          maintenanceIntervalMs: 0,
        });
        await orchestrator.start();
        try {
          // No flows given: the client reads the manifest the orchestrator stored.
          const client = createFlowClient({ storage, logger: silentLogger });
          const ids = new Set<string>();
          for (const flowId of [SLUG, SLUG.toUpperCase(), toFlowId(SLUG), toFlowId(SLUG).toUpperCase()]) {
            const run = await client.trigger(flowId, { data: { name: 'ada' } });
            const done = await run.result({ timeoutMs: 20_000 });
            expect({
              status: done.status,
              steps: done.steps.map((s) => `${s.key}:${s.status}:${s.error ?? ''}`),
            }).toEqual({
              status: 'Succeeded',
              steps: ['greet:Succeeded:', 'shout:Succeeded:'],
            });
            expect(done.outputs).toEqual({ greet: 'hello ada', shout: 'HELLO ADA' });
            ids.add(done.flowId);
          }
          expect([...ids]).toEqual([toFlowId(SLUG)]);
          const { runs } = await client.listRuns({ flowId: SLUG });
          expect(runs).toHaveLength(4);
          const runId = runs[0]!.id;
          const table: Record<string, string> = {
            'retryStep(unknown step)': await outcome(() => client.retryStep(runId, 'ghost')),
            'getStep(unknown step)': await outcome(() => client.getStep(runId, 'ghost')),
            'getStep(known step)': await outcome(() => client.getStep(runId, 'greet')),
            'trigger(malformed run id)': await outcome(() => client.trigger(SLUG, { runId: 'r-1' })),
            'trigger(upper-case run id)': await outcome(() =>
              client.trigger(SLUG, { runId: randomUUID().toUpperCase() }),
            ),
          };
          expect(table).toEqual({
            'retryStep(unknown step)': 'STEP_NOT_FOUND',
            'getStep(unknown step)': 'STEP_NOT_FOUND',
            'getStep(known step)': 'ok',
            'trigger(malformed run id)': 'INVALID_ARGUMENT',
            'trigger(upper-case run id)': 'ok',
          });
        } finally {
          await orchestrator.stop();
        }
      }),
    );
  });
}
