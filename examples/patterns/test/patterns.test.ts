import { createFlowTestHost, type FlowTestHost } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { albumFlow, expenseFlow, exportFlow, patternHandlers } from '../src/flows.js';

let host: FlowTestHost;
afterEach(() => host.stop());
const start = async (exportReadyAfter?: number) => {
  host = await createFlowTestHost({
    flows: [albumFlow, exportFlow, expenseFlow],
    handlers: patternHandlers(exportReadyAfter),
  });
  return host;
};

describe('pattern examples on the flow test host', () => {
  it('ForEach: every image is resized and thumbnailed before the album is published', async () => {
    const h = await start();
    const images = ['a', 'b', 'c', 'd'].map((n) => ({ url: `https://cdn/${n}.png` }));
    const run = await h.trigger(albumFlow.id, { data: { album: 'Trip', images } });
    expect((await run.completed()).status).toBe('Succeeded');
    expect(await run.output('images.2.thumbnail')).toEqual({ thumb: 'https://cdn/c.png?w=640&thumb=1' });
    expect(await run.output('publish')).toEqual({ published: 'Trip' });
  });

  it('polling: the export is checked every 30 s until done, then downloaded', async () => {
    const h = await start(4);
    const run = await h.trigger(exportFlow.id);
    expect((await run.completed({ stepMs: 30_000 })).status).toBe('Succeeded');
    expect((await run.step('wait'))!.attemptCount).toBe(4);
    expect((await run.output('download')) as { saved: string }).toMatchObject({
      saved: expect.stringMatching(/\.zip$/),
    });
  });

  it('polling: gives up after the 10-minute budget', async () => {
    const h = await start(1_000);
    const run = await h.trigger(exportFlow.id);
    expect((await run.completed({ stepMs: 30_000 })).status).toBe('Failed');
    expect((await run.step('wait'))!.errorMessage).toBe('Polling timed out after 600 seconds.');
  });

  it('approval: approved pays; rejected skips payment; silence fails after a day', async () => {
    const h = await start();
    const approved = await h.trigger(expenseFlow.id, { data: { amount: 50 } });
    const rejected = await h.trigger(expenseFlow.id, { data: { amount: 60 } });
    const silent = await h.trigger(expenseFlow.id, { data: { amount: 70 } });
    await h.advance(1_000);
    await h.signal(approved.runId, 'manager-decision', { approved: true });
    await h.signal(rejected.runId, 'manager-decision', { approved: false });
    expect((await approved.completed()).status).toBe('Succeeded');
    expect(await approved.output('pay')).toEqual({ paid: 50 });
    await rejected.completed();
    expect((await rejected.statuses()).pay).toBe('Skipped');
    expect((await silent.completed({ stepMs: 3_600_000 })).status).toBe('Failed');
  });
});
