import { consoleLogger, createFlowOrchestrator, type FlowStorage } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { createPostgresStorage } from '@floworch/postgresql';
import { createPgliteStorage } from '@floworch/postgresql/pglite';
import { orderFlow, orderHandlers } from './order-flow.js';
import { formatTimeline } from './timeline.js';

// Storage: DATABASE_URL → PostgreSQL server; --in-memory → no persistence; otherwise PGlite
// (PostgreSQL in WebAssembly) with its data in .floworch/pgdata, so runs survive a restart.
async function openStorage(): Promise<FlowStorage> {
  if (process.argv.includes('--in-memory')) return createInMemoryStorage();
  if (process.env.DATABASE_URL) return createPostgresStorage({ connectionString: process.env.DATABASE_URL });
  console.log('Opening embedded PostgreSQL (PGlite) in .floworch/pgdata …');
  return createPgliteStorage({ dataDir: '.floworch/pgdata' });
}

const storage = await openStorage();
const orchestrator = createFlowOrchestrator({
  storage,
  flows: [orderFlow],
  handlers: orderHandlers(),
  leaseMs: 5_000,
  maintenanceIntervalMs: 2_000,
  logger: consoleLogger({ component: 'demo' }, 'error'),
  shutdownGraceMs: 300,
});

// Ctrl-C: abort running handlers, hand their steps back and flush the database, so the next
// start resumes the interrupted runs.
process.once('SIGINT', () => {
  console.log('\nInterrupted: stopping; the next start resumes unfinished runs.');
  void orchestrator
    .stop()
    .then(() => storage.close())
    .finally(() => process.exit(130));
});

// Runs left unfinished by an interrupted demo are picked up by start()'s recovery.
const interrupted = (await storage.runs.getActiveRuns()).map((r) => r.id);
await orchestrator.start();
if (interrupted.length > 0)
  console.log(`Resuming ${interrupted.length} interrupted run(s) from the last session.`);

orchestrator.subscribe((e) => {
  if (e.type === 'step.failed') console.log(`  ! ${e.stepKey}: ${e.message}`);
});

const orders = [
  { email: 'ada@example.com', giftWrap: true, items: [{ sku: 'BOOK-1', qty: 2, price: 12.5 }] },
  { email: 'alan@example.com', giftWrap: false, items: [{ sku: 'MUG-7', qty: 1, price: 8 }] },
];
const started = [];
for (const order of orders) {
  const { runId } = await orchestrator.trigger(orderFlow.id, { data: order });
  console.log(`Triggered order for ${order.email}: run ${runId}`);
  started.push(runId!);
}

for (const runId of [...interrupted, ...started]) {
  for (;;) {
    const run = await storage.runs.getRunDetail(runId);
    if (run && run.status !== 'Running') {
      console.log(`\n${formatTimeline(run)}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

await orchestrator.stop();
await storage.close();
console.log('\nDone. Interrupt a run with Ctrl-C and start the demo again to watch it resume.');
