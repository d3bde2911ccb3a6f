import { createFlowTestHost } from '@floworch/testkit';
import { albumFlow, expenseFlow, exportFlow, patternHandlers } from './flows.js';

// Runs one pattern on the flow test host: in-memory storage and fake time, so polls and
// day-long waits finish at once. Usage: run.ts foreach | polling | approval
const which = process.argv[2] ?? 'foreach';
const host = await createFlowTestHost({
  flows: [albumFlow, exportFlow, expenseFlow],
  handlers: patternHandlers(),
});
const show = async (run: Awaited<ReturnType<typeof host.trigger>>) => {
  const done = await run.completed();
  console.log(`run ${run.runId}: ${done.status}`);
  for (const step of done.steps ?? []) {
    console.log(
      `  ${step.status.padEnd(9)} ${step.stepKey}${step.attemptCount > 1 ? ` (${step.attemptCount} attempts)` : ''}`,
    );
  }
};
if (which === 'foreach') {
  const images = ['a.png', 'b.png', 'c.png'].map((url) => ({ url: `https://cdn.example.com/${url}` }));
  await show(await host.trigger(albumFlow.id, { data: { album: 'Summer', images } }));
} else if (which === 'polling') {
  await show(await host.trigger(exportFlow.id));
} else {
  const run = await host.trigger(expenseFlow.id, { data: { amount: 120 } });
  await host.advance(60_000);
  console.log(
    'manager decides:',
    (await host.signal(run.runId, 'manager-decision', { approved: true })).status,
  );
  await show(run);
}
await host.stop();
