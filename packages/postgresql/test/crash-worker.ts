// Child process of engine-replicas.test.ts: starts a run and hangs inside a handler until killed.
import { createFlowOrchestrator, silentLogger } from '@floworch/core';
import { createPostgresStorage } from '../src/index.js';

const storage = await createPostgresStorage({
  connectionString: process.env.PG_URL!,
  schema: process.env.PG_SCHEMA!,
});
const flowId = process.env.FLOW_ID!;
const orchestrator = createFlowOrchestrator({
  storage,
  flows: [
    {
      id: flowId,
      name: 'CrashFlow',
      steps: { prepare: { type: 'Work' }, work: { type: 'Work', runAfter: { prepare: ['Succeeded'] } } },
    },
  ],
  logger: silentLogger,
  leaseMs: 1_000,
  maintenanceIntervalMs: 0,
  handlers: {
    Work: ({ runId, stepKey }) => {
      if (stepKey !== 'work') return 'prepared';
      process.stdout.write(`IN_HANDLER ${runId}\n`);
      return new Promise(() => {}); // never finishes: the parent kills us here
    },
  },
});
await orchestrator.start();
await orchestrator.trigger(flowId);
