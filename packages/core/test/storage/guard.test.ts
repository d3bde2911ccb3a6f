import { describe, expect, it, vi } from 'vitest';
import {
  DuplicateRunError,
  defineStorage,
  type FlowStorage,
  guardStorage,
  InvalidArgumentError,
  StorageError,
  StorageErrorCodes,
  systemClock,
} from '../../src/backend.js';

/** A bundle whose stores record their calls; only what the tests touch is implemented. */
function fakeStorage(overrides: Partial<Record<string, unknown>> = {}) {
  const calls: unknown[][] = [];
  const runtime = {
    marker: 'runtime',
    async renewStepClaim(...args: unknown[]) {
      calls.push(['renewStepClaim', this === runtime, ...args]);
      return true;
    },
    async tryClaimStep(...args: unknown[]) {
      calls.push(['tryClaimStep', ...args]);
      return true;
    },
  };
  const runs = {
    async startRun(input: { runId: string }) {
      if (input.runId === 'dup') throw new DuplicateRunError('dup');
      if (input.runId === 'boom') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      calls.push(['startRun', input]);
      return input;
    },
    async getRunsPage(query: unknown) {
      calls.push(['getRunsPage', query]);
      return { runs: [], totalCount: 0 };
    },
  };
  const close = vi.fn(async () => {});
  const storage = {
    name: 'fake',
    clock: systemClock,
    capabilities: ['runtime'],
    flows: {
      async getAll() {
        return [];
      },
    },
    runs,
    outputs: {},
    runtime,
    close,
    extra: 42,
    ...overrides,
  } as unknown as FlowStorage & { extra: number };
  return { storage, calls, close, runtime };
}

describe('guardStorage', () => {
  it('keeps this, arguments and results, and copies members it does not know', async () => {
    const { storage, calls } = fakeStorage();
    const guarded = guardStorage(storage);
    expect(await guarded.runtime?.renewStepClaim('r', 's', 'o', 1000)).toBe(true);
    expect(calls[0]).toEqual(['renewStepClaim', true, 'r', 's', 'o', 1000]);
    expect((guarded as unknown as { extra: number }).extra).toBe(42);
    expect((guarded.runtime as unknown as { marker: string }).marker).toBe('runtime');
  });

  it('does not invent optional methods or contracts the backend lacks', () => {
    const { storage } = fakeStorage();
    const guarded = guardStorage(storage);
    expect(typeof guarded.outputs.recordEvents).toBe('undefined');
    expect('recordEvents' in guarded.outputs).toBe(false);
    expect(guarded.queue).toBeUndefined();
    expect(guarded.ping).toBeUndefined();
    expect(guarded.schemaStatus).toBeUndefined();
  });

  it('rejects bad leases and blank ids before the backend sees them', async () => {
    const { storage, calls } = fakeStorage();
    const guarded = guardStorage(storage);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
      await expect(guarded.runtime?.renewStepClaim('r', 's', 'o', bad as number)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    await expect(
      guarded.runtime?.tryClaimStep('r', 's', { owner: 'o', durationMs: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      argument: 'lease.durationMs',
    });
    await expect(guarded.runs.startRun({ runId: '  ' } as never)).rejects.toMatchObject({
      argument: 'runId',
    });
    expect(calls).toEqual([]);
  });

  it('clamps run paging', async () => {
    const { storage, calls } = fakeStorage();
    const guarded = guardStorage(storage);
    await guarded.runs.getRunsPage({ skip: -4, take: 9999, flowId: 'f' } as never);
    expect(calls[0]).toEqual(['getRunsPage', { skip: 0, take: 500, flowId: 'f' }]);
  });

  it('passes library errors through and translates the rest', async () => {
    const { storage } = fakeStorage();
    const plain = guardStorage(storage);
    await expect(plain.runs.startRun({ runId: 'dup' } as never)).rejects.toBeInstanceOf(DuplicateRunError);
    const failure = await plain.runs.startRun({ runId: 'boom' } as never).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageError);
    expect(failure).toMatchObject({ code: StorageErrorCodes.STORAGE_FAILURE });
    expect((failure as Error).cause).toMatchObject({ code: 'ECONNRESET' });

    const translated = guardStorage(storage, {
      translateError: (error) =>
        (error as { code?: string }).code === 'ECONNRESET'
          ? new StorageError(StorageErrorCodes.STORAGE_UNREACHABLE, 'gone', { cause: error })
          : undefined,
    });
    await expect(translated.runs.startRun({ runId: 'boom' } as never)).rejects.toMatchObject({
      code: 'STORAGE_UNREACHABLE',
    });
  });

  it('keeps the caller’s abort reason', async () => {
    const reason = new Error('shutting down');
    const { storage } = fakeStorage({
      retention: {
        async cleanup(_cutoff: Date, options: { signal: AbortSignal }) {
          throw options.signal.reason;
        },
      },
    });
    const guarded = guardStorage(storage);
    await expect(guarded.retention?.cleanup(new Date(), { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });

  it('refuses calls after close, and closes the backend once', async () => {
    const { storage, close } = fakeStorage();
    const guarded = guardStorage(storage);
    await Promise.all([guarded.close(), guarded.close()]);
    await guarded.close();
    expect(close).toHaveBeenCalledTimes(1);
    await expect(guarded.flows.getAll()).rejects.toMatchObject({ code: StorageErrorCodes.STORAGE_CLOSED });
    await expect(guarded.runtime?.renewStepClaim('r', 's', 'o', 1000)).rejects.toBeInstanceOf(StorageError);
  });
});

describe('defineStorage', () => {
  it('hands translateError to the guard and leaves it off the bundle', async () => {
    const { storage } = fakeStorage();
    const defined = defineStorage({
      ...storage,
      translateError: () => new StorageError(StorageErrorCodes.STORAGE_AUTH_FAILED, 'no'),
    });
    expect('translateError' in defined).toBe(false);
    await expect(defined.runs.startRun({ runId: 'boom' } as never)).rejects.toMatchObject({
      code: 'STORAGE_AUTH_FAILED',
    });
  });
});

describe('guarded stores as prototypes and spy targets', () => {
  it('an object inheriting from a guarded store keeps its own overrides', async () => {
    const { storage, calls } = fakeStorage();
    const guarded = guardStorage(storage);
    const derived = Object.assign(Object.create(guarded.runtime as object), {
      renewStepClaim: async () => false,
    }) as NonNullable<FlowStorage['runtime']>;
    expect(await derived.renewStepClaim('r', 's', 'o', 1)).toBe(false);
    expect(await guarded.runtime?.renewStepClaim('r', 's', 'o', 1)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('a spy installed on the guarded store sees the calls', async () => {
    const { storage } = fakeStorage();
    const guarded = guardStorage(storage);
    const spy = vi.spyOn(guarded.flows, 'getAll');
    await guarded.flows.getAll();
    expect(spy).toHaveBeenCalledOnce();
  });
});
