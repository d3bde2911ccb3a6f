// `pnpm dashboard`: the quick-start flows running on embedded PostgreSQL (PGlite) with the
// @floworch/dashboard on localhost. Prints the URL; Ctrl-C stops.
import {
  consoleLogger,
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowStorage,
  StepResults,
} from '@floworch/core';
import { createDashboard, serveDashboard } from '@floworch/dashboard';
import { createInMemoryStorage } from '@floworch/inmemory';
import { createPostgresStorage } from '@floworch/postgresql';
import { createPgliteStorage } from '@floworch/postgresql/pglite';
import { orderFlow, orderHandlers } from './order-flow.js';

async function openStorage(): Promise<FlowStorage> {
  if (process.argv.includes('--in-memory')) return createInMemoryStorage();
  if (process.env.DATABASE_URL) return createPostgresStorage({ connectionString: process.env.DATABASE_URL });
  console.log('Opening embedded PostgreSQL (PGlite) in .floworch/pgdata …');
  return createPgliteStorage({ dataDir: '.floworch/pgdata' });
}

/** Waits for an approval signal (send it from the run page: signal name `approve`). */
const approvalFlow: FlowDefinition = {
  id: 'refund-approval',
  name: 'RefundApproval',
  steps: {
    request: { type: 'RecordRequest', inputs: { amount: '@triggerBody().amount' } },
    approve: {
      type: 'WaitForSignal',
      runAfter: { request: ['Succeeded'] },
      inputs: { signalName: 'approve' },
    },
    refund: { type: 'IssueRefund', runAfter: { approve: ['Succeeded'] } },
  },
};

/** Fails until retried from the dashboard (the warehouse API is "down" on first attempts). */
const inventoryFlow: FlowDefinition = {
  id: 'inventory-sync',
  name: 'InventorySync',
  triggers: {
    manual: { type: 'Manual' },
    hourly: { type: 'Cron', inputs: { cronExpression: '0 * * * *' } },
  },
  steps: {
    fetch: { type: 'FetchStock' },
    publish: { type: 'PublishStock', runAfter: { fetch: ['Succeeded'] } },
  },
};

/** Started by partner webhooks: POST /flows/api/webhook/partner with header X-Webhook-Key. */
const partnerFlow: FlowDefinition = {
  id: 'partner-events',
  name: 'PartnerEvents',
  triggers: {
    webhook: { type: 'Webhook', inputs: { webhookSlug: 'partner', webhookSecret: 'demo-shared-key' } },
  },
  steps: { store: { type: 'StoreEvent', inputs: { event: '@triggerBody()' } } },
};

const attempts = new Map<string, number>();
const storage = await openStorage();
const orchestrator = createFlowOrchestrator({
  storage,
  flows: [orderFlow, approvalFlow, inventoryFlow, partnerFlow],
  handlers: {
    ...orderHandlers(700),
    RecordRequest: ({ inputs }) => ({ recorded: inputs.amount }),
    IssueRefund: () => ({ refunded: true }),
    FetchStock: ({ runId }) => {
      const n = (attempts.get(runId) ?? 0) + 1;
      attempts.set(runId, n);
      return n === 1 ? StepResults.failed('warehouse API answered 503') : { items: 42 };
    },
    PublishStock: () => ({ published: true }),
    StoreEvent: ({ inputs }) => ({ stored: inputs.event }),
  },
  leaseMs: 5_000,
  maintenanceIntervalMs: 2_000,
  shutdownGraceMs: 300,
  logger: consoleLogger({ component: 'demo' }, 'error'),
});
await orchestrator.start();

const dashboard = createDashboard({
  client: orchestrator.client,
  webhooks: {
    security: {
      ...(storage.webhookReplay && { replayStore: storage.webhookReplay }),
      ...(storage.webhookRejections && { rejectionStore: storage.webhookRejections }),
    },
  },
  logger: consoleLogger({ component: 'dashboard' }, 'warn'),
});
const requested = Number(process.env.PORT ?? 3000);
const served = await serveDashboard(dashboard, { port: requested }).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  console.log(`Port ${requested} is taken; using a free one.`);
  return serveDashboard(dashboard, { port: 0 });
});

// Something to look at: orders, a refund waiting for approval, a failed sync, two deliveries.
await orchestrator.trigger(orderFlow.id, {
  data: { email: 'ada@example.com', giftWrap: true, items: [{ sku: 'BOOK-1', qty: 2, price: 12.5 }] },
});
await orchestrator.trigger(orderFlow.id, {
  data: { email: 'alan@example.com', giftWrap: false, items: [{ sku: 'MUG-7', qty: 1, price: 8 }] },
});
await orchestrator.trigger(approvalFlow.id, { data: { amount: 25 } });
await orchestrator.trigger(inventoryFlow.id);
const hook = `${served.url}api/webhook/partner`;
await fetch(hook, {
  method: 'POST',
  headers: { 'x-webhook-key': 'demo-shared-key' },
  body: '{"type":"ping"}',
});
await fetch(hook, { method: 'POST', headers: { 'x-webhook-key': 'wrong-key' }, body: '{"type":"forged"}' });

console.log(`\nDashboard: ${served.url}`);
console.log('  runs: watch orders finish live, retry the failed InventorySync step, approve the refund');
console.log("  (signal 'approve'), pause the hourly schedule, read the rejected delivery under Webhooks.");
console.log('Ctrl-C stops.');

process.once('SIGINT', () => {
  console.log('\nStopping…');
  void served
    .close()
    .then(() => orchestrator.stop())
    .then(() => storage.close())
    .finally(() => process.exit(0));
});
